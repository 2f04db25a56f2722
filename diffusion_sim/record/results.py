"""A run's result: its tables (built in :mod:`diffusion_sim.record.tables`), summary and manifest.

Saving and loading go through :mod:`diffusion_sim.record.storage`: a folder appears
complete in one rename, manifest last, and is never overwritten.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError

from diffusion_sim.errors import InputError
from diffusion_sim.mechanisms.embedded import ADOPTION_CHANNELS
from diffusion_sim.model.setup import Setup
from diffusion_sim.model.trajectory import Trajectory
from diffusion_sim.record.storage import read_bytes, staged, versions, write_manifest
from diffusion_sim.record.tables import (
    cities_table,
    events_table,
    governments_tables,
    timeseries_table,
)
from diffusion_sim.scenario import LEVELS


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
        from diffusion_sim.record.outcomes import outcomes

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
        """Every outcome of :mod:`diffusion_sim.record.outcomes`, as a flat dict."""
        from diffusion_sim.record.outcomes import outcomes

        return outcomes(self)

    TABLES = ("timeseries", "events", "cities", "governments", "government_events")

    def save(
        self,
        folder: str | Path,
        *,
        plot: bool = True,
        curves: bool = True,
        chart_format: str = "png",
        figsize: tuple[float, float] | None = None,
    ) -> Path:
        """Write tables, charts and manifest into ``folder``; the manifest is written last.

        Files go to a hidden sibling first and the folder appears complete in
        one rename, so an interrupted save never looks finished. ``folder``
        must not exist yet (or be empty): results are never overwritten.
        ``plot=False`` skips the charts (an ensemble draws one band instead):
        ``adoption.<format>`` (channels and reach) and ``curves.<format>`` (by ladder
        rung and by channel; not with ``curves=False``: an ensemble's replicate, whose
        ensemble draws them once), each with the scenario's events marked.
        The manifest records the run's fingerprint and each table's SHA-256, so a
        table or manifest altered or copied in from another run is refused on reading.
        """
        folder = Path(folder)
        with staged(folder) as staging:
            digests = {}
            for name in self.TABLES:
                path = staging / f"{name}.parquet"
                getattr(self, name).to_parquet(path, index=False)
                digests[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
            if plot:
                from diffusion_sim.record.charts import plot_run
                from diffusion_sim.record.plotting import chart_labels, event_marks, plot_channels

                labels = chart_labels(self.manifest)
                marks = event_marks(self.manifest.get("scenario", {}))
                adoption = staging / f"adoption.{chart_format}"
                plot_channels(self.timeseries, adoption, *labels, marks=marks, figsize=figsize)
                if curves:
                    drawn = staging / f"curves.{chart_format}"
                    plot_run(self.timeseries, drawn, self.manifest, figsize)
            manifest = dict(self.manifest)
            if _RECORD_KEYS <= manifest.keys():
                manifest["fingerprint"] = run_fingerprint(manifest)
            write_manifest(staging, {**manifest, "files": digests})
        return folder

    @classmethod
    def load(cls, folder: str | Path, *, fingerprint: str | None = None) -> Result:
        """A saved, complete result (one with a manifest) read back from ``folder``.

        Every file is checked before use: the manifest's JSON and shape, each table
        against its recorded SHA-256 (results saved before digests were kept: that
        it reads), and, if ``fingerprint`` is given, that the run is that one
        (:func:`run_fingerprint`). No file is read through a symbolic link.

        Raises
        ------
        InputError
            Naming the file and what is wrong with it.
        """
        folder = Path(folder)
        manifest = read_manifest(folder, fingerprint)
        tables = {}
        for name in cls.TABLES:
            path = folder / f"{name}.parquet"
            data = _read_file(path)
            expected = manifest.get("files", {}).get(path.name)
            if expected is not None and hashlib.sha256(data).hexdigest() != expected:
                raise InputError(f"{path}: {_ALTERED}")
            try:
                tables[name] = pd.read_parquet(io.BytesIO(data))
            except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
                raise InputError(f"{path}: not a readable Parquet table ({exc})") from None
        return cls(**tables, manifest=manifest)


_RECORD_KEYS = {"scenario", "engine", "seed"}
_ALTERED = (
    "differs from what was saved (truncated, altered or copied in from another run); "
    "move this result out of the folder (or remove it) and run the command again"
)


class _SeedRecord(BaseModel):
    entropy: int | list[int]
    spawn_key: list[int]


class _ManifestRecord(BaseModel):
    """The keys of a run's manifest that reading it back relies on (others are kept as is)."""

    model_config = ConfigDict(extra="allow")
    scenario: dict[str, Any] | None = None
    engine: str | None = None
    seed: _SeedRecord | None = None
    fingerprint: str | None = None
    files: dict[str, str] = {}


def run_fingerprint(record: dict[str, Any]) -> str:
    """What makes a run itself: its resolved scenario, engine and seed (entropy, spawn key).

    The same for a manifest and for the run an ensemble expects as replicate *i*, so
    a replicate copied in from another seed, scenario or engine is told apart.
    """
    payload = {key: record[key] for key in sorted(_RECORD_KEYS)}
    text = json.dumps(payload, sort_keys=True, default=lambda v: getattr(v, "tolist", v.__str__)())
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def read_manifest(folder: Path, fingerprint: str | None = None) -> dict[str, Any]:
    """A complete result's manifest, checked (JSON, shape, fingerprint) before use."""
    path = Path(folder) / "manifest.json"
    if path.is_symlink():
        _read_file(path)  # refused, naming the link
    if not path.is_file():
        raise InputError(f"{folder}: no manifest.json, so not a complete result")
    try:
        manifest = json.loads(_read_file(path))
        record = _ManifestRecord.model_validate(manifest)
    except (ValueError, ValidationError) as exc:
        first = str(exc).splitlines()[0]
        raise InputError(
            f"{path}: not a manifest this program wrote ({first}); {_ALTERED}"
        ) from None
    has_record = all(getattr(record, key) is not None for key in _RECORD_KEYS)
    content = run_fingerprint(manifest) if has_record else None
    if record.fingerprint is not None and record.fingerprint != content:
        raise InputError(f"{path}: {_ALTERED}")
    if fingerprint is not None and content != fingerprint:
        raise InputError(
            f"{path}: belongs to another run (its scenario, engine or seed differ); "
            "move this result out of the folder (or remove it) and run the command again"
        )
    return manifest


def _read_file(path: Path) -> bytes:
    try:
        return read_bytes(path)
    except FileNotFoundError:
        raise InputError(f"{path}: missing; {_ALTERED}") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a file; {_ALTERED}") from None


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
