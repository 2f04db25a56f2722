"""An ensemble written to its folder replicate by replicate: nothing finished is ever lost.

Each replicate is saved (atomically, in its own ``replicate-NNN/``) the moment
it finishes, on as many worker processes as asked. Ctrl-C or a kill at any
moment keeps every finished replicate; the same command run again finds the
unfinished folder by its fingerprint (the resolved scenario, engine, steps,
replicates and root seed) and runs only what is missing. The ensemble tables
are built from the replicate folders last, then ``manifest.json``: until then
the folder holds ``incomplete.json`` and never looks complete.

Replicate ``i`` always gets child ``i`` of ``SeedSequence(root).spawn(n)``, so
a resumed ensemble equals one run straight through, table for table.

Nothing found in a folder is trusted: ``incomplete.json`` is read only if it has
the shape written here, and each finished replicate is checked before it counts
(its manifest's fingerprint of scenario, engine and seed against the one expected
for its index, its tables against their recorded SHA-256, no symbolic links). A
replicate from another run, truncated or altered, is refused, naming it.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ValidationError

from diffusion_sim.errors import InputError
from diffusion_sim.record.results import (
    Result,
    ensemble_band,
    run_fingerprint,
)
from diffusion_sim.record.storage import (
    LOCK,
    MANIFEST,
    clean_stale_staging,
    give_back,
    held_lock,
    is_locked,
    read_bytes,
    refuse_link,
    reserve_folder,
    timestamp,
    write_atomic,
    write_json,
    write_manifest,
)
from diffusion_sim.scenario import Scenario
from diffusion_sim.world import World

INCOMPLETE = "incomplete.json"


@dataclass
class EnsembleReport:
    """What one call of :func:`run_ensemble` did."""

    folder: Path
    replicates: int
    done_before: int
    complete: bool
    wall_s: float = 0.0


def replicate_name(index: int) -> str:
    return f"replicate-{index:03d}"


def fingerprint(scenario: Scenario, engine: str, steps: int, replicates: int, seed: int) -> str:
    """What makes two ensembles the same: a resumed folder must match it exactly."""
    payload = {
        "scenario": scenario.to_dict(),
        "engine": engine,
        "steps": steps,
        "replicates": replicates,
        "seed": seed,
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class IncompleteRecord(BaseModel):
    """The shape of ``incomplete.json``: a folder whose record is otherwise is not resumed."""

    fingerprint: str
    scenario: dict[str, Any]


def find_resumable(root: Path, name: str, print_: str) -> Path | None:
    """The newest unfinished folder of this ensemble under ``root`` that no live process holds.

    A folder that is a link, or whose ``incomplete.json`` is not one this program
    wrote (invalid JSON, another shape, another fingerprint), is not resumed.
    """
    if not root.is_dir():
        return None
    candidates = []
    for folder in root.glob(f"{name}-*"):
        record = folder / INCOMPLETE
        if folder.is_symlink() or record.is_symlink() or not record.is_file():
            continue
        if (folder / MANIFEST).exists() or (folder / MANIFEST).is_symlink():
            continue
        try:
            data = IncompleteRecord.model_validate_json(read_bytes(record))
        except (OSError, ValueError, ValidationError, InputError):
            continue
        if data.fingerprint == print_ and not is_locked(folder):
            candidates.append(folder)
    return max(candidates, key=lambda p: p.stat().st_mtime) if candidates else None


def finished_replicates(folder: Path, replicates: int) -> list[int]:
    """Replicates whose folder is complete (has its manifest); links never count."""
    done = []
    for i in range(replicates):
        replicate = folder / replicate_name(i)
        manifest = replicate / MANIFEST
        if replicate.is_symlink() or manifest.is_symlink():
            continue
        if manifest.is_file():
            done.append(i)
    return done


def replicate_fingerprint(scenario: Scenario, engine: str, seed: int, index: int) -> str:
    """The fingerprint replicate ``index`` must carry (:func:`.results.run_fingerprint`)."""
    seed_info = {"entropy": seed, "spawn_key": [index]}
    return run_fingerprint({"scenario": scenario.to_dict(), "engine": engine, "seed": seed_info})


def checked_replicates(folder: Path, scenario: Scenario, engine: str) -> list[int]:
    """The finished replicates of a folder, each checked to be this ensemble's own.

    Raises
    ------
    InputError
        For a replicate that is a link, lacks its manifest while holding files, or
        whose manifest or tables are not those of replicate *i* of this ensemble.
    """
    run = scenario.run
    done = []
    for i in range(run.replicates):
        replicate = folder / replicate_name(i)
        if replicate.is_symlink():
            raise refuse_link(replicate)
        if not replicate.exists():
            continue
        if not (replicate / MANIFEST).exists() and not (replicate / MANIFEST).is_symlink():
            if replicate.is_dir() and not any(replicate.iterdir()):
                continue  # an empty folder: the replicate is saved into it
            raise InputError(
                f"{replicate}: holds files but no manifest.json, so it is not a finished "
                "replicate of this ensemble; move it out of the folder and run the same "
                "command again"
            )
        Result.load(replicate, fingerprint=replicate_fingerprint(scenario, engine, run.seed, i))
        done.append(i)
    return done


# ---------------------------------------------------------------- one replicate

_JOB: dict[str, Any] = {}


def _init_worker(job: dict[str, Any]) -> None:
    """A worker ignores Ctrl-C (the parent decides), dies with its parent, keeps the job."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()
    if os.getppid() != job["parent"]:  # the parent died before the line above took effect
        os._exit(1)
    _JOB.update(job)


def _die_with_parent() -> None:
    """Linux: SIGKILL this process when its parent dies (a killed ``run`` leaves no orphans)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: workers exit when their queue closes
        return


def _run_replicate(index: int) -> int:
    from diffusion_sim.simulation import simulate

    job = _JOB
    child = np.random.SeedSequence(job["seed"]).spawn(job["replicates"])[index]
    result = simulate(
        job["scenario"],
        child,
        engine=job["engine"],
        world=job["world"],
        steps=job["steps"],
        influence_cache=job.setdefault("ties", {}),  # per process: built once, then shared
    )
    result.save(job["folder"] / replicate_name(index), plot=False)
    return index


# ---------------------------------------------------------------- the ensemble


def run_ensemble(
    scenario: Scenario,
    root: str | Path,
    *,
    engine: str = "vectorized",
    workers: int | None = None,
    world: World | None = None,
    on_start: Callable[[Path, int], None] | None = None,
    on_replicate: Callable[[int], None] | None = None,
    chart_format: str = "png",
    figsize: tuple[float, float] | None = None,
) -> EnsembleReport:
    """Run ``scenario.run.replicates`` replicates into a folder under ``root``, resuming if asked.

    Parameters
    ----------
    scenario : Scenario
        Its ``run`` section gives steps, replicates and the root seed.
    root : path
        The results folder the ensemble's own folder is created in (or found in).
    workers : int, optional
        Worker processes (default: every core); 1 runs in this process.
    on_start : callable, optional
        Called with the folder and the number of replicates already done.
    on_replicate : callable, optional
        Called with each replicate's index as it is saved.
    chart_format, figsize : optional
        The charts' format (png, svg, pdf) and size in inches (not part of the
        fingerprint: a resumed ensemble may draw them otherwise).
    """
    from diffusion_sim.simulation import build_world

    started = time.perf_counter()
    root = Path(root)
    run = scenario.run
    print_ = fingerprint(scenario, engine, run.steps, run.replicates, run.seed)
    folder = find_resumable(root, scenario.name, print_) or reserve_folder(
        root, f"{scenario.name}-{timestamp()}"
    )
    with held_lock(folder) as mine:
        if not mine:  # another process resumed the same folder first: start a new one
            return run_ensemble(
                scenario,
                root,
                engine=engine,
                workers=workers,
                world=world,
                on_start=on_start,
                on_replicate=on_replicate,
            )
        done = checked_replicates(folder, scenario, engine)
        try:
            write_json(folder / INCOMPLETE, {"fingerprint": print_, "scenario": scenario.to_dict()})
            if on_start is not None:
                on_start(folder, len(done))
            pending = sorted(set(range(run.replicates)) - set(done))
            if pending:
                job = {
                    "scenario": scenario,
                    "engine": engine,
                    "steps": run.steps,
                    "replicates": run.replicates,
                    "seed": run.seed,
                    "folder": folder,
                    "parent": os.getpid(),
                    "world": world if world is not None else build_world(scenario, seed=run.seed),
                }
                _run_pending(job, pending, workers, on_replicate)
            charts = {"chart_format": chart_format, "figsize": figsize}
            _write_tables(folder, scenario, engine, time.perf_counter() - started, charts)
        except InputError:  # a full disk: no debris, the finished replicates stay
            _remove_debris(folder, run.replicates)
            raise
    return EnsembleReport(folder, run.replicates, len(done), True, time.perf_counter() - started)


def _remove_debris(folder: Path, replicates: int) -> None:
    """After a failed write: staging of stopped workers removed; a folder with no finished
    replicate given back whole (the same command then starts afresh)."""
    clean_stale_staging(folder)
    for stale in folder.glob(".*.tmp*"):
        if not stale.is_dir():
            stale.unlink(missing_ok=True)
    if not finished_replicates(folder, replicates):
        for name in (INCOMPLETE, LOCK):
            (folder / name).unlink(missing_ok=True)
        give_back(folder)


def _run_pending(
    job: dict[str, Any],
    pending: list[int],
    workers: int | None,
    on_replicate: Callable[[int], None] | None,
) -> None:
    """Each pending replicate run and saved; on Ctrl-C, workers stop and saved ones stay."""
    n_workers = min(workers or os.cpu_count() or 1, len(pending))
    if n_workers <= 1:
        _JOB.update(job)
        try:
            for index in pending:
                _run_replicate(index)
                if on_replicate is not None:
                    on_replicate(index)
        finally:
            _JOB.clear()
        return
    # fork: workers share the built world and the compiled loops without pickling them.
    context = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(n_workers, context, initializer=_init_worker, initargs=(job,))
    try:
        running: set[Future] = {pool.submit(_run_replicate, i) for i in pending}
        while running:
            finished, running = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                index = future.result()
                if on_replicate is not None:
                    on_replicate(index)
    except BaseException:
        for process in list(getattr(pool, "_processes", {}).values()):
            process.terminate()  # a half-run replicate is worth nothing; its staging is cleaned
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _write_tables(
    folder: Path, scenario: Scenario, engine: str, wall_s: float, charts: dict[str, Any]
) -> None:
    """The ensemble tables from the replicate folders (each checked again), the charts, then
    the manifest; ``charts`` holds ``chart_format`` and ``figsize``."""
    from diffusion_sim.record.charts import plot_ensemble
    from diffusion_sim.simulation import ensemble_of

    run = scenario.run
    results = [
        Result.load(
            folder / replicate_name(i),
            fingerprint=replicate_fingerprint(scenario, engine, run.seed, i),
        )
        for i in range(run.replicates)
    ]
    ensemble = ensemble_of(results, run.seed, wall_s, complete=True)
    timeseries = ensemble.timeseries  # a property that stacks the replicates: once
    band = ensemble_band(timeseries)
    tables = (("timeseries", timeseries), ("band", band), ("summaries", ensemble.summaries()))
    for name, table in tables:
        write_atomic(folder / f"{name}.parquet", _parquet_writer(table))
    manifest = ensemble.manifest
    chart_format = charts.get("chart_format", "png")
    drawn = plot_ensemble(timeseries, band, manifest, charts.get("figsize"))
    for name, write in drawn.items():
        write_atomic(folder / f"{name}.{chart_format}", write)
    write_manifest(folder, manifest)
    (folder / INCOMPLETE).unlink(missing_ok=True)
    (folder / LOCK).unlink(missing_ok=True)  # complete: nothing will resume it


def _parquet_writer(table: pd.DataFrame) -> Callable[[Path], None]:
    return lambda tmp: table.to_parquet(tmp, index=False)
