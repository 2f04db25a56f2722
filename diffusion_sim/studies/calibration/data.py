"""Observed adoptions: reading a data file safely and turning it into curves on the model's grid.

Every check here runs before any simulation, and no message repeats a value or a
header read from the file (a user may point ``--data`` at any CSV): messages name
the file, the column and the line, and say what is allowed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from diffusion_sim.errors import InputError
from diffusion_sim.scenario import Run, Scenario
from diffusion_sim.studies.calibration.universe import (
    first_adoptions,
    in_universe,
    lines_text,
    universe_floor,
    unmatched_warning,
)
from diffusion_sim.world import World

JRC_COLUMNS = ("organisation_name", "date_of_adhesion", "country_code", "population_adhesion")
PERIODS = {"month": "M", "year": "Y", "quarter": "Q", "week": "W", "day": "D"}
METHODS = ("abc", "point")
TRUE_WORDS = {"1", "true", "yes", "y", "t"}
FALSE_WORDS = {"0", "false", "no", "n", "f", "", "-"}


def max_steps() -> int:
    """The schema's limit on ``run.steps`` (a calibration simulates the data's span)."""
    for meta in Run.model_fields["steps"].metadata:
        if getattr(meta, "le", None) is not None:
            return int(meta.le)
    return 100_000


@dataclass(frozen=True)
class Adoptions:
    """Adoptions read from a file: one row per city with its date (and more if known)."""

    table: pd.DataFrame
    """Columns: city, date (Timestamp), line (in the file); for JRC files country (ISO-2,
    upper case) and population (NaN when unknown); coordinated (bool) when the file has
    a coordinator column (JRC) or a ``coordinated`` column (generic)."""
    source: str
    format: str  # "jrc" or "generic"

    @property
    def has_coordinated(self) -> bool:
        return "coordinated" in self.table


def _read_text(path: Path, source: str) -> str:
    if not path.exists():
        raise InputError("no such data file", source=source)
    if path.is_dir():
        raise InputError("is a directory; --data takes a CSV file", source=source)
    if not path.is_file():
        raise InputError("is not a regular file; --data takes a CSV file", source=source)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror})", source=source) from None
    if not raw.strip():
        raise InputError(
            "is empty; expected a header line (city,date) and one line per adoption",
            source=source,
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            f"line {line}: is not UTF-8 text; save the file as UTF-8 CSV", source=source
        ) from None


def read_adoptions(path: str | Path) -> Adoptions:
    """Read a JRC Covenant of Mayors file or a generic ``city,date[,coordinated]`` CSV.

    Raises
    ------
    InputError
        The file is missing, a directory, empty, not UTF-8, not a CSV, lacks the
        columns, or has missing or unparseable dates (the message names the
        column and the first bad lines, never their content).
    """
    from io import StringIO

    path = Path(path)
    source = str(path)
    text = _read_text(path, source)
    try:
        raw = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise InputError("has no header line; expected city,date", source=source) from None
    except pd.errors.ParserError as exc:
        import re

        found = re.search(r"line (\d+)", str(exc))
        where = f"line {found.group(1)}: " if found else ""
        raise InputError(
            f"{where}not a readable CSV (a row has more fields than the header, or a quote "
            "is not closed); expected comma-separated city,date",
            source=source,
        ) from None
    columns = {str(c).strip().lower(): c for c in raw.columns}
    if all(c in columns for c in JRC_COLUMNS):
        kind, city_col, date_col = "jrc", columns["organisation_name"], columns["date_of_adhesion"]
    elif "city" in columns and "date" in columns:
        kind, city_col, date_col = "generic", columns["city"], columns["date"]
    else:
        raise InputError(
            "expected the columns 'city' and 'date' (a generic adoption file, optionally with "
            "'coordinated') or those of the JRC Covenant of Mayors file "
            f"({', '.join(JRC_COLUMNS)}); the header has {len(raw.columns)} column(s), "
            "not these",
            source=source,
        )
    if raw.empty:
        raise InputError("the file has no rows after its header", source=source)
    lines = np.arange(len(raw)) + 2  # header on line 1 (quoted line breaks aside)
    dates = pd.to_datetime(raw[date_col].str.strip(), errors="coerce", format="mixed")
    bad = np.flatnonzero(dates.isna().to_numpy())
    if len(bad):
        raise InputError(
            f"column '{date_col}': {len(bad)} missing or unparseable date(s), on "
            f"{lines_text(lines, bad)}; expected dates like 2012-07-23",
            source=source,
        )
    today = pd.Timestamp.now().normalize()
    future = np.flatnonzero((dates > today + pd.Timedelta(days=1)).to_numpy())  # time zones
    if len(future):
        raise InputError(
            f"column '{date_col}': {len(future)} date(s) after today ({today:%Y-%m-%d}), on "
            f"{lines_text(lines, future)}; an observed adoption cannot lie in the future",
            source=source,
        )
    table = pd.DataFrame(
        {"city": raw[city_col].to_numpy(), "date": dates.to_numpy(), "line": lines}
    )
    if kind == "jrc":
        table["country"] = raw[columns["country_code"]].str.strip().str.upper().to_numpy()
        table["population"] = pd.to_numeric(
            raw[columns["population_adhesion"]], errors="coerce"
        ).to_numpy()
        if "coordinator_name" in columns:
            coordinator = raw[columns["coordinator_name"]].str.strip()
            table["coordinated"] = ~coordinator.isin(["", "-"]).to_numpy()
    elif "coordinated" in columns:
        flag = raw[columns["coordinated"]].str.strip().str.lower()
        unknown = np.flatnonzero(~flag.isin(TRUE_WORDS | FALSE_WORDS).to_numpy())
        if len(unknown):
            shown = ", ".join(str(lines[i]) for i in unknown[:5])
            raise InputError(
                f"column 'coordinated': {len(unknown)} value(s) that are not true/false, on "
                f"line(s) {shown}; allowed: true/false, yes/no, 1/0 (empty: false)",
                source=source,
            )
        table["coordinated"] = flag.isin(TRUE_WORDS).to_numpy()
    return Adoptions(table=table, source=source, format=kind)


def check_span(adoptions: Adoptions, unit: str, start: str | None, source: str | None) -> None:
    """Refuse data whose span, in ``unit`` steps, exceeds the schema's step limit.

    Checked before a world is built or a step simulated: a file reaching from
    1700 to 2200 in days would otherwise run for hours before anything is said.
    """
    if unit not in PERIODS:
        raise InputError(
            f"key 'run.step_unit': calibration needs one of {', '.join(PERIODS)}, got {unit!r}",
            source=source,
        )
    freq = PERIODS[unit]
    periods = pd.PeriodIndex(adoptions.table["date"], freq=freq)
    first = first_period(start, freq) if start else periods.min()
    if start and periods.max() < first:
        raise InputError(
            f"--start {start}: every date in the data is earlier; give a period on or "
            "before the last adoption"
        )
    span = int(periods.max().ordinal - first.ordinal) + 1
    limit = max_steps()
    if span > limit:
        where = int(adoptions.table["line"].to_numpy()[int(np.argmax(periods.asi8))])
        raise InputError(
            f"the dates span {span:,} {unit}s from the first period to the latest date (line "
            f"{where}); a calibration simulates every step and run.steps allows at most "
            f"{limit:,}: use a coarser run.step_unit (--set run.step_unit=year), --start, or "
            "remove the outlying dates",
            source=adoptions.source,
        )


def first_period(start: str, freq: str) -> pd.Period:
    """``--start`` as a period, with a message naming the flag when it is not a date."""
    try:
        return pd.Period(start, freq=freq)
    except (ValueError, TypeError, OverflowError):
        raise InputError(
            "--start: not a date or period; expected e.g. 2008-01 or 2008-01-01"
        ) from None


@dataclass(frozen=True)
class ObservedCurve:
    """Cumulative share of the world's cities adopted by the end of each period.

    ``coordinated`` (when the data says which adoptions a province or region
    coordinated) is the cumulative share of the world's cities that adopted
    *with* a coordinator: the same unit as ``share``, so the two curves can
    share one objective.
    """

    periods: pd.PeriodIndex
    share: np.ndarray
    count: np.ndarray
    denominator: int
    used: int
    total: int
    note: str
    coordinated: np.ndarray | None = None
    warnings: tuple[str, ...] = ()
    """What the data did not say about this world (names not among its cities)."""

    @property
    def steps(self) -> int:
        return len(self.share) - 1


def observed_curve(
    adoptions: Adoptions,
    scenario: Scenario,
    world: World,
    *,
    start: str | None = None,
    denominator: int | None = None,
) -> ObservedCurve:
    """The observed curve on the scenario's time grid (``run.step_unit``), as shares.

    JRC files on a real world are matched to the world's universe: signatories
    with at least ``world.min_population`` inhabitants in the world's countries,
    over the world's cities. Other files count every row over ``denominator``
    (default: the world's cities). A city is counted once, at its first date
    (rows naming one city alike, as :func:`~diffusion_sim.studies.estimation.matching.normal`
    compares names, in one country for JRC files); names that are not cities of the
    world are counted still (the curve is a share) but named in a warning.
    """
    unit = scenario.run.step_unit
    check_span(adoptions, unit, start, scenario.source)
    table, repeated = first_adoptions(adoptions.table)
    total = len(adoptions.table)
    note = f"all {total} rows" if not repeated else f"{len(table)} cities in {total} rows"
    if repeated:
        note += f" ({repeated} repeated row(s) of one city dropped, its first date kept)"
    warnings = unmatched_warning(table, world)
    floor = universe_floor(adoptions.format, scenario, world)
    if floor is not None:
        table = in_universe(table, floor, world)
        note = (
            f"{len(table)} of {total} signatories: population at adhesion >= "
            f"{floor:,} and country in the world"
        ) + (f"; {repeated} repeated row(s) of one city dropped" if repeated else "")
        warnings = unmatched_warning(table, world)
    if table.empty:
        raise InputError(
            f"no adoption in the data matches the world ({note})", source=adoptions.source
        )
    freq = PERIODS[unit]
    periods = pd.PeriodIndex(table["date"], freq=freq)
    first = first_period(start, freq) if start else periods.min()
    index = np.asarray(periods.asi8, dtype=np.int64) - first.ordinal
    kept = index >= 0
    index = index[kept]
    if len(index) == 0:
        raise InputError(
            f"--start {start}: no adoption in the data on or after it", source=adoptions.source
        )
    steps = int(index.max())
    count = np.cumsum(np.bincount(index, minlength=steps + 1))
    denominator = int(denominator or world.n_cities)
    if count[-1] > denominator:
        raise InputError(
            f"--denominator {denominator}: fewer cities than the {int(count[-1])} adoptions "
            "counted; give the number of cities the adopters are a share of"
        )
    coordinated = None
    if "coordinated" in table:
        flags = table["coordinated"].to_numpy(dtype=bool)[kept]
        coordinated = np.cumsum(np.bincount(index[flags], minlength=steps + 1)) / denominator
    return ObservedCurve(
        periods=pd.period_range(first, periods=steps + 1, freq=freq),
        share=count / denominator,
        count=count,
        denominator=denominator,
        used=len(index),
        total=total,
        note=note,
        coordinated=coordinated,
        warnings=warnings,
    )


def check_arguments(
    fit: Sequence[str],
    replicates: int,
    max_evaluations: int,
    denominator: int | None,
    method: str,
    population: int,
    generations: int,
    workers: int,
) -> None:
    """Refuse bad settings before anything is read or simulated (names the flag)."""
    if not fit:
        raise InputError("calibrate needs at least one --fit KEY")
    if len(set(fit)) != len(fit):
        raise InputError("--fit: a key is given twice; give each key once")
    checks = [
        ("--replicates", replicates, 1, "at least 1"),
        ("--max-evaluations", max_evaluations, 1, "at least 1"),
        ("--population", population, 10, "at least 10 particles"),
        ("--generations", generations, 1, "at least 1"),
        ("--workers", workers, 1, "at least 1"),
    ]
    for flag, value, low, allowed in checks:
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise InputError(f"{flag} must be a whole number, {allowed}; got {value!r}")
    if denominator is not None and (
        isinstance(denominator, bool) or not isinstance(denominator, int) or denominator <= 0
    ):
        raise InputError(
            f"--denominator must be a positive whole number of cities; got {denominator!r}"
        )
    if method not in METHODS:
        raise InputError(f"--method must be one of {', '.join(METHODS)}; got {method!r}")
    if method == "abc":
        import importlib.util

        if importlib.util.find_spec("pyabc") is None:
            raise InputError(
                "--method abc needs pyabc: pip install 'diffusion_sim[calibrate]' (or use "
                "--method point for best values without intervals)"
            )
