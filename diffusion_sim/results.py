"""A run's result: its tables (built in :mod:`diffusion_sim.tables`), summary and manifest.

Saving and loading go through :mod:`diffusion_sim.storage`: a folder appears
complete in one rename, manifest last, and is never overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from diffusion_sim.errors import InputError
from diffusion_sim.mechanisms.embedded import ADOPTION_CHANNELS
from diffusion_sim.scenario import LEVELS
from diffusion_sim.setup import Setup
from diffusion_sim.storage import staged, versions, write_manifest
from diffusion_sim.tables import (
    cities_table,
    events_table,
    governments_tables,
    timeseries_table,
)
from diffusion_sim.trajectory import Trajectory


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
        """The headline outcomes of the run, read from the outcome registry (docs/ODD.md,
        "Observation"): the steps, every outcome, and adopters and governments grouped."""
        from diffusion_sim.outcomes import outcomes

        values = outcomes(self)
        gov = self.governments
        return {
            "steps": int(self.timeseries["step"].iloc[-1]),
            **values,
            "adopters_by_channel": {c: int(values[f"adopters_{c}"]) for c in ADOPTION_CHANNELS},
            "governments_adopted": {
                level: int(values[f"governments_{level}"])
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

                labels = chart_labels(self.manifest)
                plot_channels(self.timeseries, staging / "adoption.png", *labels)
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
    """All tables of a run from its change events (one function each, in :mod:`.tables`)."""
    governments, government_events = governments_tables(setup, trajectory)
    return Result(
        timeseries=timeseries_table(setup, trajectory),
        events=events_table(setup, trajectory),
        cities=cities_table(setup, trajectory),
        governments=governments,
        government_events=government_events,
        manifest=manifest or {},
    )


def chart_labels(manifest: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """What a saved run's chart is labelled with, from its manifest: the scenario's name,
    its ``run.step_unit`` (month, year ...) and its ``run.start`` (a date), if recorded."""
    run = manifest.get("scenario", {}).get("run", {})
    return manifest.get("scenario_name", ""), run.get("step_unit"), run.get("start")


def summaries_table(results: list[Result]) -> pd.DataFrame:
    """One row per replicate: its steps and every outcome of the registry."""
    rows = []
    for i, result in enumerate(results):
        summary = result.summary()
        row = {k: v for k, v in summary.items() if not isinstance(v, dict)}
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
