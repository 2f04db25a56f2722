"""Results: tidy tables derived from a run's change events, and how they are saved.

Every table comes from the trajectory (change events) and the setup, so the
two engines produce identical tables whenever their events agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from diffusion_sim.errors import InputError
from diffusion_sim.mechanisms.embedded import ADOPTION_CHANNELS, CHANNELS, EXIT_CHANNELS
from diffusion_sim.scenario import LEVELS
from diffusion_sim.setup import Setup

# staged, timestamp and write_manifest are re-exported for callers that predate storage.py.
from diffusion_sim.storage import staged, timestamp, versions, write_manifest  # noqa: F401
from diffusion_sim.trajectory import ADOPT, GOV_ADOPT, GOV_WITHDRAW, Trajectory
from diffusion_sim.world import LADDER_NAMES

GOV_CHANGES = {1: "adopt", -1: "withdraw", 0: "stance"}
STANCES = {-1: "hostile", 0: "neutral", 1: "supportive"}


def first_step_at_or_above(values: np.ndarray, level: float) -> float:
    """First step index where values reach level, NaN if never (time to x%)."""
    hits = np.flatnonzero(np.asarray(values) >= level)
    return float(hits[0]) if len(hits) else float("nan")


@dataclass(eq=False)
class Result:
    """One run: ``timeseries``, ``events``, ``cities`` and ``governments`` as DataFrames."""

    timeseries: pd.DataFrame
    events: pd.DataFrame
    cities: pd.DataFrame
    governments: pd.DataFrame
    government_events: pd.DataFrame
    manifest: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The headline outcomes of the run (see docs/ODD.md, "Observation")."""
        ts = self.timeseries
        last = ts.iloc[-1]
        adopters = self.cities[self.cities["adopted"]]
        by_channel = adopters["channel"].value_counts().reindex(ADOPTION_CHANNELS, fill_value=0)
        gov = self.governments
        return {
            "steps": int(last["step"]),
            "share_cities": float(last["share_cities"]),
            "share_population": float(last["share_population"]),
            "share_leaders": float(last["share_leaders"]),
            "share_followers": float(last["share_followers"]),
            "share_laggards": float(last["share_laggards"]),
            "time_to_50pct": first_step_at_or_above(ts["share_cities"], 0.5),
            "adopters_by_channel": {k: int(v) for k, v in by_channel.items()},
            "abandonments": int(ts[[f"drop_{c}" for c in EXIT_CHANNELS]].to_numpy().sum()),
            "governments_adopted": {
                level: int(gov.loc[gov["level"] == level, "adopted"].sum())
                for level in LEVELS
                if (gov["level"] == level).any()
            },
        }

    def outcomes(self) -> dict[str, float]:
        """Every outcome of :mod:`diffusion_sim.outcomes`, as a flat dict."""
        from diffusion_sim.outcomes import outcomes

        return outcomes(self)

    TABLES = ("timeseries", "events", "cities", "governments", "government_events")

    def save(self, folder: str | Path, *, plot: bool = True) -> Path:
        """Write tables, chart and manifest into ``folder``; the manifest is written last.

        Files go to a hidden sibling first and the folder appears complete in
        one rename, so an interrupted save never looks finished. ``folder``
        must not exist yet (or be empty): results are never overwritten.
        ``plot=False`` skips ``adoption.png`` (an ensemble draws one band instead).
        """
        folder = Path(folder)
        with staged(folder) as staging:
            for name in self.TABLES:
                getattr(self, name).to_parquet(staging / f"{name}.parquet", index=False)
            if plot:
                from diffusion_sim.plotting import plot_channels

                title = self.manifest.get("scenario_name", "")
                unit = step_unit_of(self.manifest)
                plot_channels(self.timeseries, staging / "adoption.png", title, unit)
            write_manifest(staging, self.manifest)
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> Result:
        """A saved, complete result (one with a manifest) read back from ``folder``."""
        import json

        folder = Path(folder)
        manifest_path = folder / "manifest.json"
        if not manifest_path.is_file():
            raise InputError(f"{folder}: no manifest.json, so not a complete result")
        tables = {name: pd.read_parquet(folder / f"{name}.parquet") for name in cls.TABLES}
        return cls(**tables, manifest=json.loads(manifest_path.read_text()))


def make_manifest(setup: Setup, engine: str, seed_info: dict, wall_time: float) -> dict:
    return {
        "scenario_name": setup.scenario.name,
        "scenario_file": setup.scenario.source,
        "scenario": setup.scenario.to_dict(),
        "engine": engine,
        "seed": seed_info,
        "world": {
            "cities": setup.world.n_cities,
            "ties": setup.world.n_ties,
            "governments": setup.n_governments,
            "networks": [n.name for n in setup.world.networks],
            "seed": setup.world.seed,
        },
        "versions": versions(),
        "wall_time_s": round(wall_time, 4),
        "complete": True,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def build_result(setup: Setup, trajectory: Trajectory, manifest: dict | None = None) -> Result:
    """All tables of a run from its change events."""
    world = setup.world
    n, steps = world.n_cities, trajectory.steps
    events = pd.DataFrame(
        {
            "step": trajectory.city_step,
            "city": trajectory.city,
            "kind": np.where(trajectory.city_change == ADOPT, "adopt", "drop"),
            "channel": np.asarray(CHANNELS, dtype=object)[trajectory.city_channel],
        }
    )
    events["kind"] = events["kind"].astype("category")
    events["channel"] = pd.Categorical(events["channel"], categories=CHANNELS)

    # Per step: net change of adopters overall, by population and by ladder rung.
    sign = trajectory.city_change.astype(np.int64)
    step = trajectory.city_step.astype(np.int64)
    bins = steps + 1
    adopters = np.cumsum(np.bincount(step, weights=sign, minlength=bins))
    population = world.population.astype(np.float64)
    pop_adopted = np.cumsum(
        np.bincount(step, weights=sign * population[trajectory.city], minlength=bins)
    )
    timeseries = {
        "step": np.arange(bins),
        "adopters": adopters.astype(np.int64),
        "share_cities": adopters / n,
        "share_population": pop_adopted / max(population.sum(), 1.0),
    }
    rung = world.ladder[trajectory.city]
    for code, name in enumerate(LADDER_NAMES):
        size = int((world.ladder == code).sum())
        count = np.cumsum(
            np.bincount(step[rung == code], weights=sign[rung == code], minlength=bins)
        )
        timeseries[f"share_{name}s"] = count / size if size else np.zeros(bins)
    for code, name in enumerate(CHANNELS):
        mask = (trajectory.city_channel == code) & (sign == 1)
        if name in ADOPTION_CHANNELS:
            timeseries[f"new_{name}"] = np.bincount(step[mask], minlength=bins)
    for name in EXIT_CHANNELS:
        mask = trajectory.city_channel == CHANNELS.index(name)
        timeseries[f"drop_{name}"] = np.bincount(step[mask], minlength=bins)

    # Governments: state after each step, from their change events.
    gov_frame = pd.DataFrame(
        {
            "government": np.arange(setup.n_governments),
            "name": setup.gov_names,
            "level": [LEVELS[code] for code in setup.gov_level],
            "cities": setup.gov_cities[:-1].astype(np.int64),
            "population": setup.gov_population[:-1].astype(np.int64),
        }
    )
    gstep = trajectory.gov_step.astype(np.int64)
    gchange = trajectory.gov_change
    for level in LEVELS:
        level_code = LEVELS.index(level)
        if not (setup.gov_level == level_code).any():
            continue
        in_level = setup.gov_level[trajectory.gov] == level_code
        delta = np.where(gchange == GOV_ADOPT, 1, np.where(gchange == GOV_WITHDRAW, -1, 0))
        timeseries[f"governments_{level}"] = np.cumsum(
            np.bincount(gstep[in_level], weights=delta[in_level], minlength=bins)
        ).astype(np.int64)
    timeseries = pd.DataFrame(timeseries)

    government_events = pd.DataFrame(
        {
            "step": trajectory.gov_step,
            "government": trajectory.gov,
            "name": [setup.gov_names[g] for g in trajectory.gov],
            "kind": [GOV_CHANGES[int(c)] for c in gchange],
            "channel": [CHANNELS[c] for c in trajectory.gov_channel],
            "value": trajectory.gov_value,
        }
    )
    stance = setup.gov_stance0.astype(np.int64).copy()
    adopted = np.zeros(setup.n_governments, dtype=bool)
    mandate = np.zeros(setup.n_governments, dtype=bool)
    adoption_step = np.full(setup.n_governments, -1, dtype=np.int64)
    channel = np.full(setup.n_governments, "", dtype=object)
    for row in government_events.itertuples(index=False):
        if row.kind == "stance":
            stance[row.government] = row.value
        elif row.kind == "adopt":
            adopted[row.government], mandate[row.government] = True, bool(row.value)
            adoption_step[row.government], channel[row.government] = row.step, row.channel
        else:
            adopted[row.government] = mandate[row.government] = False
    gov_frame["stance"] = [STANCES[int(s)] for s in stance]
    gov_frame["adopted"] = adopted
    gov_frame["mandate"] = mandate
    gov_frame["adoption_step"] = adoption_step
    gov_frame["channel"] = channel

    # Cities: final state. The last event of each city decides it.
    cities = world.cities_frame()
    last = np.full(n, -1, dtype=np.int64)
    order = np.arange(len(trajectory.city))
    last[trajectory.city] = order  # later events overwrite earlier ones
    has = last >= 0
    final_change = np.zeros(n, dtype=np.int8)
    final_change[has] = trajectory.city_change[last[has]]
    cities["adopted"] = final_change == ADOPT
    final_channel = np.full(n, len(CHANNELS), dtype=np.int64)  # one past the end: none
    final_channel[has] = trajectory.city_channel[last[has]]
    cities["channel"] = pd.Categorical(
        np.asarray((*CHANNELS, None), dtype=object)[final_channel],
        categories=CHANNELS,
    )
    adoption_step = np.full(n, -1, dtype=np.int64)
    first_adoption = trajectory.city_change == ADOPT
    adoption_step[trajectory.city[first_adoption][::-1]] = trajectory.city_step[first_adoption][
        ::-1
    ]
    cities["first_adoption_step"] = adoption_step
    last_change = np.full(n, -1, dtype=np.int64)
    last_change[has] = trajectory.city_step[last[has]]
    cities["last_change_step"] = last_change
    cities["threshold"] = setup.threshold
    cities["defiant"] = setup.defiant
    for level_row, level_code in zip(
        setup.city_gov, sorted(set(setup.gov_level.tolist())), strict=False
    ):
        cities[f"{LEVELS[level_code]}_government"] = _government_names(setup, level_row)
    return Result(
        timeseries=timeseries,
        events=events,
        cities=cities,
        governments=gov_frame,
        government_events=government_events,
        manifest=manifest or {},
    )


def _government_names(setup: Setup, level_row: np.ndarray) -> pd.Categorical | np.ndarray:
    """Each city's government at one level by name ('' for none).

    A categorical (codes into the names) when the names are distinct: building a
    million strings would cost more than the run at world scale.
    """
    names = (*setup.gov_names, "")
    if len(set(names)) == len(names):
        return pd.Categorical.from_codes(level_row, categories=names)
    return np.where(
        level_row < setup.n_governments,
        np.asarray(setup.gov_names + ("",), dtype=object)[level_row],
        "",
    )


def step_unit_of(manifest: dict[str, Any]) -> str | None:
    """The scenario's ``run.step_unit`` (month, year ...) recorded in a manifest, if any."""
    return manifest.get("scenario", {}).get("run", {}).get("step_unit")


def summaries_table(results: list[Result]) -> pd.DataFrame:
    """One row of headline outcomes per replicate (channels as ``adopters_<channel>``)."""
    rows = []
    for i, result in enumerate(results):
        summary = result.summary()
        row = {k: v for k, v in summary.items() if not isinstance(v, dict)}
        for k, v in summary["adopters_by_channel"].items():
            row[f"adopters_{k}"] = v
        rows.append({"replicate": i, **row})
    return pd.DataFrame(rows)


def ensemble_band(timeseries: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """Mean and 5-95% band per step over replicates (a long table with a 'replicate' column)."""
    columns = columns or ["share_cities", "share_population", "adopters"]
    grouped = timeseries.groupby("step")[columns]
    parts = {
        "mean": grouped.mean(),
        "p5": grouped.quantile(0.05),
        "p95": grouped.quantile(0.95),
    }
    band = pd.concat(parts, axis=1)
    band.columns = [f"{col}_{stat}" for stat, col in band.columns]
    return band.reset_index()
