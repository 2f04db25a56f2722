"""Calibration: fit a few parameters so that mean cumulative adoption matches an observed curve.

Objective (stated once, used everywhere): the sum over steps t = 0..T of
(m(t) - o(t))^2, where m(t) is the mean share of the world's cities adopted at
step t over a fixed set of replicate seeds, and o(t) the observed share of the
world's cities that had adopted by the end of period t. The seeds are fixed
(common random numbers), so the objective is a deterministic, nearly smooth
function of the parameters: a coarse log-spaced grid finds the basin and
Nelder-Mead (scipy.optimize, in log space, within the schema's bounds) refines it.

Observed curves come from a CSV of city and adoption date. The JRC Covenant of
Mayors signatories file is read directly: its signatories are matched to the
world's universe (those with at least ``world.min_population`` inhabitants, in
the world's countries), so that o(t) is the share of *this* world's cities that
had signed; see docs/calibration.md.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from diffusion_sim.errors import InputError
from diffusion_sim.mechanisms.embedded import ADOPTION_CHANNELS
from diffusion_sim.scenario import Scenario, _model_of
from diffusion_sim.simulation import build_world, simulate
from diffusion_sim.world import World

JRC_COLUMNS = ("organisation_name", "date_of_adhesion", "country_code", "population_adhesion")
PERIODS = {"month": "M", "year": "Y", "quarter": "Q", "week": "W", "day": "D"}


# ---------------------------------------------------------------- the data


@dataclass(frozen=True)
class Adoptions:
    """Adoptions read from a file: one row per city with its date (and more if known)."""

    table: pd.DataFrame
    """Columns: city, date (Timestamp), and for JRC files country (ISO-2, upper case),
    population (NaN when unknown) and coordinated (has a coordinating province or region)."""
    source: str
    format: str  # "jrc" or "generic"


def read_adoptions(path: str | Path) -> Adoptions:
    """Read a JRC Covenant of Mayors file or a generic ``city,date`` CSV.

    Raises
    ------
    InputError
        The file is missing or not a CSV, lacks the columns, or has missing or
        unparseable dates (the message names the column and the first bad rows).
    """
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise InputError("no such data file", source=source)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"not a readable CSV file: {exc}", source=source) from None
    columns = {c.strip().lower(): c for c in raw.columns}
    if all(c in columns for c in JRC_COLUMNS):
        kind, city_col, date_col = "jrc", columns["organisation_name"], columns["date_of_adhesion"]
    elif "city" in columns and "date" in columns:
        kind, city_col, date_col = "generic", columns["city"], columns["date"]
    else:
        raise InputError(
            "expected the columns 'city' and 'date' (a generic adoption file) or those of the "
            f"JRC Covenant of Mayors file ({', '.join(JRC_COLUMNS)}); found: "
            f"{', '.join(raw.columns[:12])}",
            source=source,
        )
    if raw.empty:
        raise InputError("the file has no rows", source=source)
    text = raw[date_col].str.strip()
    dates = pd.to_datetime(text, errors="coerce", format="mixed")
    bad = np.flatnonzero(dates.isna().to_numpy())
    if len(bad):
        shown = ", ".join(f"line {i + 2} ({text.iloc[i]!r})" for i in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise InputError(
            f"column '{date_col}': {len(bad)} missing or unparseable date(s): {shown}{more}; "
            "expected dates like 2012-07-23",
            source=source,
        )
    table = pd.DataFrame({"city": raw[city_col].to_numpy(), "date": dates.to_numpy()})
    if kind == "jrc":
        table["country"] = raw[columns["country_code"]].str.strip().str.upper().to_numpy()
        table["population"] = pd.to_numeric(
            raw[columns["population_adhesion"]], errors="coerce"
        ).to_numpy()
        if "coordinator_name" in columns:
            coordinator = raw[columns["coordinator_name"]].str.strip()
            table["coordinated"] = ~coordinator.isin(["", "-"]).to_numpy()
    return Adoptions(table=table, source=source, format=kind)


@dataclass(frozen=True)
class ObservedCurve:
    """Cumulative share of the world's cities adopted by the end of each period."""

    periods: pd.PeriodIndex
    share: np.ndarray
    count: np.ndarray
    denominator: int
    used: int
    total: int
    note: str

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
    (default: the world's cities).
    """
    unit = scenario.run.step_unit
    if unit not in PERIODS:
        raise InputError(
            f"key 'run.step_unit': calibration needs one of {', '.join(PERIODS)}, got {unit!r}",
            source=scenario.source,
        )
    table = adoptions.table
    total = len(table)
    note = f"all {total} rows"
    if adoptions.format == "jrc" and world.meta.get("generator") == "real":
        codes = set(world.meta.get("country_codes", ()))
        floor = scenario.world.min_population
        if scenario.world.max_cities is not None:  # the largest N: their smallest is the floor
            floor = max(floor, int(world.population.min()))
        keep = (table["population"] >= floor) & table["country"].isin(codes)
        table = table[keep]
        note = (
            f"{len(table)} of {total} signatories: population at adhesion >= "
            f"{floor:,} and country in the world"
        )
    if table.empty:
        raise InputError(
            f"no adoption in the data matches the world ({note})", source=adoptions.source
        )
    periods = pd.PeriodIndex(table["date"], freq=PERIODS[unit])
    first = pd.Period(start, freq=PERIODS[unit]) if start else periods.min()
    index = np.asarray(periods.asi8, dtype=np.int64) - first.ordinal
    index = index[index >= 0]
    steps = int(index.max())
    count = np.cumsum(np.bincount(index, minlength=steps + 1))
    denominator = int(denominator or world.n_cities)
    return ObservedCurve(
        periods=pd.period_range(first, periods=steps + 1, freq=PERIODS[unit]),
        share=count / denominator,
        count=count,
        denominator=denominator,
        used=len(index),
        total=total,
        note=note,
    )


# ---------------------------------------------------------------- fit keys


@dataclass(frozen=True)
class FitKey:
    """A parameter to fit: its dotted key, type, bounds and starting value."""

    key: str
    integer: bool
    lower: float
    upper: float
    start: float


def fit_key(scenario: Scenario, key: str) -> FitKey:
    """Check that ``key`` names a number in the scenario and find its bounds."""
    if key.startswith("world."):
        raise InputError(
            f"--fit {key}: keys under 'world' change the world itself; fit mechanisms, "
            "networks or pioneers instead",
            source=scenario.source,
        )
    model: type[BaseModel] | None = type(scenario)
    value: Any = scenario
    parts = key.split(".")
    info = None
    skip = False
    for i, part in enumerate(parts):
        if skip:  # a name inside a dict section (networks.<name>)
            skip = False
            if not isinstance(value, dict) or part not in value:
                known = list(value) if isinstance(value, dict) else []
                raise InputError(
                    f"--fit {key}: no '{part}' in '{'.'.join(parts[:i])}'; known: "
                    f"{', '.join(known) or 'none'}",
                    source=scenario.source,
                )
            value = value[part]
            continue
        fields = model.model_fields if model is not None else {}
        if part not in fields:
            close = difflib.get_close_matches(part, list(fields), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise InputError(f"--fit {key}: unknown key '{part}'{hint}", source=scenario.source)
        info = fields[part]
        value = getattr(value, part)
        model, skip = _model_of(info.annotation)
        if i == len(parts) - 1 and model is not None:
            raise InputError(f"--fit {key}: is a section, not a number", source=scenario.source)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(
            f"--fit {key}: is not a number (it is {type(value).__name__} {value!r})",
            source=scenario.source,
        )
    lower, upper = 0.0, math.inf
    for meta in info.metadata:
        for attr in ("ge", "gt"):
            if getattr(meta, attr, None) is not None:
                lower = float(getattr(meta, attr))
        for attr in ("le", "lt"):
            if getattr(meta, attr, None) is not None:
                upper = float(getattr(meta, attr))
    return FitKey(key, isinstance(value, int), lower, upper, float(value))


def _search_box(k: FitKey, span: float) -> tuple[float, float]:
    """log-space box around the start (x span either way), inside the schema's bounds."""
    start = k.start if k.start > 0 else max(k.lower, 1e-4)
    low = max(start / span, k.lower if k.lower > 0 else start / span, 1e-9)
    high = min(start * span, k.upper)
    return math.log(low), math.log(max(high, low * 1.0001))


# ---------------------------------------------------------------- the fit


@dataclass(eq=False)
class Calibration:
    """A fit: values, quality, the curves side by side, channels under the fit."""

    keys: list[str]
    values: dict[str, float]
    start: dict[str, float]
    rmse: float
    r2: float
    evaluations: int
    curve: pd.DataFrame
    channel_shares: dict[str, float]
    scenario: Scenario
    observed: ObservedCurve
    replicates: int
    seed: int
    method: str
    manifest: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        lines = [f"fit of {', '.join(self.keys)} ({self.method})"]
        for key in self.keys:
            lines.append(f"  {key:<40} {self.values[key]:.6g}   (start {self.start[key]:.6g})")
        cities = self.rmse * self.observed.denominator
        lines += [
            f"  RMSE {self.rmse:.4f} (share of cities; about {cities:.0f} cities)   "
            f"R² {self.r2:.4f}   {self.evaluations} evaluations x {self.replicates} replicates",
            f"  observed: {self.observed.note}; denominator {self.observed.denominator} cities",
            "  adoptions by channel under the fit: "
            + ", ".join(f"{k} {v:.1%}" for k, v in self.channel_shares.items()),
        ]
        return "\n".join(lines)

    def plot(self, path: str | Path) -> Path:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(8, 4.5), constrained_layout=True)
        x = self.curve["period"]
        ax.fill_between(
            x,
            self.curve["model_p5"],
            self.curve["model_p95"],
            alpha=0.25,
            label="model, 5-95% of replicates",
        )
        ax.plot(x, self.curve["model_mean"], label="model, mean")
        ax.plot(x, self.curve["observed"], "k.", ms=3, label="observed")
        ax.set(
            ylabel="share of the world's cities adopted",
            title=f"{self.scenario.name}: R² {self.r2:.3f}, RMSE {self.rmse:.4f}",
        )
        ax.legend(loc="upper left")
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return Path(path)

    def scenario_toml(
        self,
        extends: str | None = None,
        name: str | None = None,
        overrides: dict[str, Any] | None = None,
    ) -> str:
        """The fitted values as a scenario file (extending the original when given).

        ``overrides`` (the ``--set`` values the fit ran with) are written too, so
        that the file reproduces the fitted run.
        """
        lines = [
            f"# Fitted: {', '.join(self.keys)} to {Path(self.observed_source).name} "
            f"(R² {self.r2:.3f}, RMSE {self.rmse:.4f}); see docs/calibration.md.",
        ]
        if extends:
            lines.append(f"extends = {_toml_value(extends)}")
        lines.append(f"name = {_toml_value(name or self.scenario.name)}")
        sections: dict[str, list[str]] = {}
        values: dict[str, Any] = dict(overrides or {})
        for key in self.keys:
            value = self.values[key]
            values[key] = round(value) if float(value).is_integer() else float(f"{value:.6g}")
        for key, value in values.items():
            head, _, leaf = key.rpartition(".")
            sections.setdefault(head, []).append(f"{leaf} = {_toml_value(value)}")
        top = sections.pop("", [])
        lines += top
        for head, items in sections.items():
            lines += ["", f"[{head}]", *items]
        return "\n".join(lines) + "\n"

    @property
    def observed_source(self) -> str:
        return self.manifest.get("data", "data")

    def save(self, folder: str | Path) -> Path:
        from diffusion_sim.results import staged, write_manifest

        folder = Path(folder)
        with staged(folder) as staging:
            curve = self.curve.assign(period=self.curve["period"].astype(str))
            curve.to_csv(staging / "curve.csv", index=False)
            curve.to_parquet(staging / "curve.parquet", index=False)
            self.plot(staging / "fit.png")
            (staging / "fitted.toml").write_text(self.scenario_toml())
            write_manifest(staging, self.manifest)
        return folder


def _with_values(scenario: Scenario, keys: Sequence[FitKey], x: np.ndarray) -> Scenario:
    overrides = {}
    for k, value in zip(keys, np.exp(x), strict=True):
        value = min(max(float(value), k.lower), k.upper)
        overrides[k.key] = round(value) if k.integer else value
    return scenario.with_overrides(overrides)


def _mean_curve(
    scenario: Scenario, world: World, seeds: Sequence[np.random.SeedSequence], steps: int
) -> tuple[np.ndarray, list]:
    curves, results = [], []
    for seq in seeds:
        fresh = np.random.SeedSequence(seq.entropy, spawn_key=seq.spawn_key)
        result = simulate(scenario, fresh, world=world, steps=steps)
        curves.append(result.timeseries["share_cities"].to_numpy())
        results.append(result)
    return np.mean(curves, axis=0), results


def calibrate(
    scenario: Scenario,
    data: str | Path | Adoptions,
    fit: Sequence[str],
    *,
    replicates: int = 4,
    seed: int | None = None,
    grid: int | None = None,
    span: float = 30.0,
    max_evaluations: int = 40,
    start: str | None = None,
    denominator: int | None = None,
) -> Calibration:
    """Fit ``fit`` (dotted keys) so the mean share of cities adopted matches the data.

    Parameters
    ----------
    scenario : Scenario
        Its steps are replaced by the data's span (one step per ``run.step_unit``).
    data : path or Adoptions
        A JRC Covenant of Mayors file or a ``city,date`` CSV.
    fit : sequence of str
        Numeric keys, e.g. ``mechanisms.innovation.rate``; few (1-3) keep it cheap.
    replicates : int
        Replicates per evaluation, on fixed seeds (common random numbers).
    grid : int, optional
        Coarse grid points per key (default 7, 5, 4 for 1, 2, 3+ keys).
    span : float
        The coarse grid covers start / span to start x span (log-spaced), within bounds.
    max_evaluations : int
        Budget of the Nelder-Mead refinement.
    """
    from scipy import optimize  # here: importing it costs half a second

    if not fit:
        raise InputError("calibrate needs at least one --fit KEY")
    if replicates < 1:
        raise InputError(f"--replicates must be at least 1, got {replicates}")
    keys = [fit_key(scenario, key) for key in fit]
    adoptions = data if isinstance(data, Adoptions) else read_adoptions(data)
    root = scenario.run.seed if seed is None else seed
    world = build_world(scenario, seed=root).with_networks(())
    observed = observed_curve(adoptions, scenario, world, start=start, denominator=denominator)
    steps = observed.steps
    seeds = np.random.SeedSequence(root).spawn(replicates)
    target = observed.share
    evaluations = 0

    def objective(x: np.ndarray) -> float:
        nonlocal evaluations
        evaluations += 1
        mean, _ = _mean_curve(_with_values(scenario, keys, x), world, seeds, steps)
        return float(np.sum((mean - target) ** 2))

    boxes = [_search_box(k, span) for k in keys]
    points = grid or {1: 7, 2: 5}.get(len(keys), 4)
    axes = [np.linspace(low, high, points) for low, high in boxes]
    best_x, best_f = None, math.inf
    for combo in np.array(np.meshgrid(*axes, indexing="ij")).reshape(len(keys), -1).T:
        value = objective(combo)
        if value < best_f:
            best_x, best_f = combo, value
    step_sizes = np.array([(high - low) / max(points - 1, 1) for low, high in boxes])
    simplex = np.vstack([best_x, best_x + np.diag(step_sizes * 0.5)])
    refined = optimize.minimize(
        objective,
        best_x,
        method="Nelder-Mead",
        bounds=boxes,
        options={
            "initial_simplex": np.clip(simplex, [b[0] for b in boxes], [b[1] for b in boxes]),
            "maxfev": max_evaluations,
            "xatol": 0.01,
            "fatol": 1e-9,
        },
    )
    x = refined.x if refined.fun <= best_f else best_x
    fitted = _with_values(scenario, keys, x)
    final_mean, results = _mean_curve(fitted, world, seeds, steps)
    sse = float(np.sum((final_mean - target) ** 2))
    sst = float(np.sum((target - target.mean()) ** 2))
    stacked = np.array([r.timeseries["share_cities"].to_numpy() for r in results])
    curve = pd.DataFrame(
        {
            "step": np.arange(steps + 1),
            "period": observed.periods.to_timestamp(),
            "observed": target,
            "observed_count": observed.count,
            "model_mean": final_mean,
            "model_p5": np.quantile(stacked, 0.05, axis=0),
            "model_p95": np.quantile(stacked, 0.95, axis=0),
        }
    )
    totals = {c: 0.0 for c in ADOPTION_CHANNELS}
    for result in results:
        for channel, n in result.summary()["adopters_by_channel"].items():
            totals[channel] += n
    all_adopters = sum(totals.values()) or 1.0
    values = {k.key: _read(fitted, k.key) for k in keys}
    method = (
        f"{points}-point log grid per key then Nelder-Mead in log space; objective: sum of "
        f"squared differences of the mean share of cities adopted over {replicates} fixed seeds"
    )
    calibration = Calibration(
        keys=[k.key for k in keys],
        values=values,
        start={k.key: k.start for k in keys},
        rmse=math.sqrt(sse / len(target)),
        r2=1.0 - sse / sst if sst > 0 else float("nan"),
        evaluations=evaluations,
        curve=curve,
        channel_shares={c: v / all_adopters for c, v in totals.items()},
        scenario=fitted,
        observed=observed,
        replicates=replicates,
        seed=root,
        method=method,
    )
    calibration.manifest = {
        "kind": "calibration",
        "scenario_file": scenario.source,
        "data": adoptions.source,
        "data_format": adoptions.format,
        "observed": observed.note,
        "denominator": observed.denominator,
        "fit": values,
        "start": calibration.start,
        "rmse": calibration.rmse,
        "r2": calibration.r2,
        "evaluations": evaluations,
        "replicates": replicates,
        "seed": root,
        "method": method,
        "channel_shares": calibration.channel_shares,
        "scenario": fitted.to_dict(),
    }
    return calibration


def _toml_value(value: Any) -> str:
    """A value as TOML (strings, numbers, booleans, lists of them, tables as inline tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f'"{k}" = {_toml_value(v)}' for k, v in value.items()) + " }"
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def _read(scenario: Scenario, key: str) -> float:
    value: Any = scenario
    for part in key.split("."):
        value = value[part] if isinstance(value, dict) else getattr(value, part)
    return float(value)
