"""Per-city adoption histories: which city adopted (or dropped) at which step.

The likelihood is conditional on what was observed, so its data are the change
events alone: a city adopts at step s (it was at risk at s and its hazard fired),
or drops at step d (it is at risk again from d + 1). Two sources give them:

- a run's own events (:func:`histories_from_result`, the round trip), with the
  governments' adoptions by their own hazards (bottom-up or harmonization) taken
  from its ``government_events``: the likelihood conditions on them, it does not
  model them;
- a ``city,date`` CSV or the JRC Covenant of Mayors file (:func:`read_histories`),
  dates turned into steps of ``run.step_unit`` from ``start`` (default: the first
  date's period, as ``calibrate`` does), optionally with a ``government,date`` file.
  Such files give adoption dates only, so they have no drops.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from diffusion_sim.errors import InputError
from diffusion_sim.mechanisms.registry import GOVERNMENT_DECISIONS
from diffusion_sim.model.setup import Setup
from diffusion_sim.model.trajectory import ADOPT, DROP
from diffusion_sim.record.results import Result
from diffusion_sim.studies.calibration.data import (
    PERIODS,
    Adoptions,
    check_span,
    first_period,
    read_adoptions,
)
from diffusion_sim.studies.estimation.matching import match_cities

GOVERNMENT_HAZARD_CHANNELS = GOVERNMENT_DECISIONS
"""Channels of a government's adoption by its own hazard (the rest are scheduled events)."""


@dataclass(frozen=True)
class Histories:
    """Change events of cities (and governments' own adoptions) on the model's steps.

    ``replay_pioneers``: whether the scenario's pioneers (step 0 and ``pioneers``
    events) are the run's own, so adoptions they cause are forced, not drawn
    (a round trip); for observed data every adoption after step 0 is drawn.
    """

    steps: int
    city: np.ndarray
    step: np.ndarray
    change: np.ndarray
    government: np.ndarray
    government_step: np.ndarray
    replay_pioneers: bool
    source: str
    start: pd.Period | None = None
    notes: tuple[str, ...] = field(default=())
    held_out: pd.DataFrame | None = None
    """Per adopting city, the data's ``coordinated`` flag, never read by the fit (it only
    scores P(vertical) afterwards, :func:`.coordination.auc_table`)."""

    @property
    def has_drops(self) -> bool:
        return bool((self.change == DROP).any())

    def check(self, n_cities: int) -> None:
        """Refuse histories a city could not have had: adopting twice without a drop, etc."""
        if len(self.city) and (self.city.min() < 0 or self.city.max() >= n_cities):
            raise InputError(
                f"{self.source}: city indices outside the world's {n_cities} cities; "
                "the data belong to another world"
            )
        order = np.lexsort((-self.change, self.step, self.city))
        city, step, change = self.city[order], self.step[order], self.change[order]
        running = pd.Series(change.astype(np.int64)).groupby(city).cumsum().to_numpy()
        # a city's changes alternate adopt, drop, adopt ...: after each, it has the
        # policy exactly when that change was an adoption. One step may hold an
        # adoption by an event (before the step's decisions) and then a drop.
        bad = running != (change == ADOPT)
        same_step = np.r_[False, (city[1:] == city[:-1]) & (step[1:] == step[:-1])]
        same_step &= np.r_[False, (change[:-1] != ADOPT) | (change[1:] != DROP)]
        if bad.any() or same_step.any():
            which = int(city[np.flatnonzero(bad | same_step)[0]])
            raise InputError(
                f"{self.source}: city {which} changes state twice in one step, or adopts "
                "twice without dropping in between; a history alternates adopt, drop, adopt"
            )


def histories_from_result(result: Result) -> Histories:
    """The change events of a saved or in-memory run (the round trip)."""
    events = result.events
    kind = events["kind"].astype(str).to_numpy()
    gov = result.government_events
    own = (gov["kind"].astype(str) == "adopt") & gov["channel"].astype(str).isin(
        GOVERNMENT_HAZARD_CHANNELS
    )
    steps = int(result.timeseries["step"].max())
    return Histories(
        steps=steps,
        city=events["city"].to_numpy(dtype=np.int64),
        step=events["step"].to_numpy(dtype=np.int64),
        change=np.where(kind == "adopt", ADOPT, DROP).astype(np.int8),
        government=gov.loc[own, "government"].to_numpy(dtype=np.int64),
        government_step=gov.loc[own, "step"].to_numpy(dtype=np.int64),
        replay_pioneers=True,
        source=str(result.manifest.get("folder", "the run's events")),
    )


def read_histories(
    path: str | Path | Adoptions,
    setup: Setup,
    *,
    start: str | None = None,
    governments: str | Path | None = None,
    unmatched: str = "error",
) -> Histories:
    """Adoption dates from a CSV, matched to the setup's world by name, on its steps.

    Parameters
    ----------
    path : path or Adoptions
        ``city,date`` CSV or the JRC Covenant of Mayors file (read by
        :func:`diffusion_sim.studies.calibration.read_adoptions`, which checks it), or
        what it read.
    setup : Setup
        The world and scenario; ``run.steps`` is the last step of the window.
    start : str, optional
        The period of step 0 (e.g. ``2008-01``); default the first date's period.
        Adoptions in or before it are the initial adopters (not in the likelihood).
    governments : path, optional
        ``government,date`` CSV of governments' adoptions (names as the scenario's
        governments); without it governments change only by the scenario's events.
    unmatched : {"error", "drop"}
        What to do with a city name the world does not have.
    """
    scenario = setup.scenario
    adoptions = path if isinstance(path, Adoptions) else read_adoptions(path)
    unit = scenario.run.step_unit
    check_span(adoptions, unit, start, scenario.source)
    table = adoptions.table
    notes: list[str] = []
    inside = np.ones(len(table), dtype=bool)
    if adoptions.format == "jrc" and setup.world.meta.get("generator") == "real":
        # the world's universe, as calibrate counts it: big enough and in its countries
        floor = scenario.world.min_population
        codes = set(setup.world.meta.get("country_codes", ()))
        inside = ((table["population"] >= floor) & table["country"].isin(codes)).to_numpy()
        notes.append(
            f"{int((~inside).sum())} of {len(table)} signatories outside the world's universe "
            f"(population at adhesion below {floor:,} or country not in the world): left out"
        )
    country = table["country"].to_numpy()[inside] if "country" in table else None
    index = np.full(len(table), -2, dtype=np.int64)
    index[inside], how = match_cities(
        table["city"].to_numpy(dtype=object)[inside], setup.world, country, source=adoptions.source
    )
    missing = np.flatnonzero(index == -1)
    if len(missing) and unmatched != "drop":
        lines = table["line"].to_numpy()
        shown = ", ".join(str(lines[i]) for i in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise InputError(
            f"column 'city': {len(missing)} name(s) not among the world's cities, on line(s) "
            f"{shown}{more}; fix the names, or pass --unmatched drop to leave them out",
            source=adoptions.source,
        )
    if len(missing):
        notes.append(f"{len(missing)} city name(s) not in the world: left out (--unmatched drop)")
    if how:
        notes.append(how)
    keep = index >= 0
    freq = PERIODS[unit]
    periods = pd.PeriodIndex(table["date"], freq=freq)
    first = first_period(start, freq) if start else periods[keep].min()
    step = np.asarray(periods.asi8, dtype=np.int64) - first.ordinal
    frame = pd.DataFrame({"city": index[keep], "step": np.maximum(step[keep], 0)})
    held_out = None
    if adoptions.has_coordinated:
        flags = frame.assign(coordinated=table["coordinated"].to_numpy(dtype=bool)[keep])
        held_out = (
            flags.sort_values(["step"], kind="stable")
            .groupby("city", as_index=False)["coordinated"]
            .first()
        )
        in_window = (step[keep] >= 1) & (step[keep] <= scenario.run.steps)
        share = table["coordinated"].to_numpy(dtype=bool)[keep][in_window].mean()
        notes.append(
            f"{share:.0%} of the matched adoptions in steps 1..{scenario.run.steps} had a "
            "coordinator (the data's own trace of vertical upscaling)"
        )
    repeated = int(frame["city"].duplicated().sum())
    if repeated:
        notes.append(f"{repeated} repeated adoption(s) of one city: its earliest date kept")
    frame = frame.groupby("city", as_index=False)["step"].min()
    late = frame["step"] > scenario.run.steps
    if late.any():
        notes.append(
            f"{int(late.sum())} adoption(s) after the last step {scenario.run.steps} "
            "(run.steps): censored, counted as not adopted in the window"
        )
    frame = frame[~late]
    gov, gov_step = _government_dates(governments, setup, first, freq)
    return Histories(
        steps=scenario.run.steps,
        city=frame["city"].to_numpy(dtype=np.int64),
        step=frame["step"].to_numpy(dtype=np.int64),
        change=np.full(len(frame), ADOPT, dtype=np.int8),
        government=gov,
        government_step=gov_step,
        replay_pioneers=False,
        source=adoptions.source,
        start=first,
        notes=tuple(notes),
        held_out=held_out,
    )


def _government_dates(
    path: str | Path | None, setup: Setup, first: pd.Period, freq: str
) -> tuple[np.ndarray, np.ndarray]:
    """Governments' adoption steps from a ``government,date`` CSV (names as the setup's)."""
    if path is None:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    source = str(path)
    if not Path(path).is_file():
        raise InputError("no such governments file (--governments)", source=source)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
        raise InputError(
            "not a readable UTF-8 CSV; expected the columns government,date", source=source
        ) from None
    columns = {str(c).strip().lower(): c for c in raw.columns}
    if "government" not in columns or "date" not in columns:
        raise InputError("expected the columns 'government' and 'date'", source=source)
    lines = np.arange(len(raw)) + 2
    names = {name.casefold(): k for k, name in enumerate(setup.gov_names)}
    found = raw[columns["government"]].str.strip().str.casefold().map(names)
    unknown = np.flatnonzero(found.isna().to_numpy())
    if len(unknown):
        shown = ", ".join(str(lines[i]) for i in unknown[:5])
        raise InputError(
            f"column 'government': {len(unknown)} name(s) not among the scenario's "
            f"governments, on line(s) {shown}; names are as in the results' governments "
            f"table (e.g. {', '.join(setup.gov_names[:3])})",
            source=source,
        )
    dates = pd.to_datetime(raw[columns["date"]].str.strip(), errors="coerce", format="mixed")
    bad = np.flatnonzero(dates.isna().to_numpy())
    if len(bad):
        shown = ", ".join(str(lines[i]) for i in bad[:5])
        raise InputError(
            f"column 'date': {len(bad)} missing or unparseable date(s), on line(s) {shown}; "
            "expected dates like 2012-07-23",
            source=source,
        )
    step = np.asarray(pd.PeriodIndex(dates, freq=freq).asi8, dtype=np.int64) - first.ordinal
    return found.to_numpy(dtype=np.int64), np.maximum(step, 0)


def histories_to_csv(histories: Histories, setup: Setup, start: str, unit: str) -> pd.DataFrame:
    """The adoptions as a ``city,date`` table (the first adoption of each city).

    For round trips through the CSV reader: step s is the first day of the
    period ``start`` + s.
    """
    adopt = histories.change == ADOPT
    frame = pd.DataFrame({"city": histories.city[adopt], "step": histories.step[adopt]})
    frame = frame.groupby("city", as_index=False)["step"].min()
    period = first_period(start, PERIODS[unit])
    dates = [(period + int(s)).to_timestamp().date().isoformat() for s in frame["step"]]
    names = np.asarray(setup.world.city_names, dtype=object)[frame["city"].to_numpy()]
    return pd.DataFrame({"city": names, "date": dates})


def changes_at(histories: Histories, steps: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per step 0..steps: the cities that adopt, and those that drop, at that step."""
    adopt = histories.change == ADOPT
    return _split(histories.city[adopt], histories.step[adopt], steps), _split(
        histories.city[~adopt], histories.step[~adopt], steps
    )


def _split(cities: np.ndarray, steps_of: np.ndarray, steps: int) -> list[np.ndarray]:
    keep = steps_of <= steps
    order = np.argsort(steps_of[keep], kind="stable")
    sorted_cities, sorted_steps = cities[keep][order], steps_of[keep][order]
    bounds = np.searchsorted(sorted_steps, np.arange(steps + 2))
    return [sorted_cities[bounds[t] : bounds[t + 1]] for t in range(steps + 1)]
