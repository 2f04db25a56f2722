"""Running a sweep: batches of runs on Dask, streamed to Parquet parts, resumable.

One code path for a laptop and a cluster: a ``distributed.Client`` of local worker
processes, of an existing scheduler (``scheduler=``) or of Slurm jobs
(``cluster="slurm"``, :mod:`~diffusion_sim.studies.sweep.cluster`); everything after the
client is shared. The driver submits a few batches per worker thread, writes each
finished batch as a Parquet part (:mod:`~diffusion_sim.studies.sweep.parts`) and drops it,
so its memory stays flat whatever the number of runs; workers run batches with
their per-process caches (:mod:`~diffusion_sim.studies.sweep._worker`).

Running the same command again skips the batches whose part exists, so a sweep
interrupted anyhow (Ctrl-C, a killed worker, a killed process, Slurm jobs at their
walltime) finishes with the same table as one that ran straight through.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from diffusion_sim.errors import InputError
from diffusion_sim.record.storage import LOCK, disk_full_is_input_error, refuse_link
from diffusion_sim.studies.sweep.cluster import Cluster, SlurmOptions, open_client
from diffusion_sim.studies.sweep.parts import (
    DESIGN,
    MANIFEST,
    PARTS,
    PLAN,
    RESULTS,
    Plan,
    auto_runs_per_task,
    completed_batches,
    finalize,
    prepare,
    runs_of,
    schema,
    write_part,
)
from diffusion_sim.studies.sweep.series import SERIES, clean_series_parts, wanted, write_series_part
from diffusion_sim.studies.sweep.spec import Sweep
from diffusion_sim.studies.sweep.state import (
    check_results,
    is_fresh,
    read_results,
    refuse,
    sweep_lock,
)

__all__ = [
    "DESIGN",
    "MANIFEST",
    "PARTS",
    "PLAN",
    "RESULTS",
    "SweepReport",
    "auto_runs_per_task",
    "open_client",
    "prepare",
    "read_results",
    "run_sweep",
]

IN_FLIGHT_PER_THREAD = 4
"""Batches submitted per worker thread: workers never wait, the driver holds few futures."""
POLL_SECONDS = 2.0
"""How often the driver re-reads the workers (a cluster may grow or lose them)."""
NO_WORKERS_TIMEOUT = 600.0
"""Seconds without any worker before a sweep on a remote cluster stops (parts are kept)."""


@dataclass
class SweepReport:
    """What a call of :func:`run_sweep` did."""

    folder: Path
    total_runs: int
    runs_before: int
    runs_done: int
    complete: bool
    wall_s: float = 0.0
    startup_s: float = 0.0
    workers: int = 0
    failed_batches: list[tuple[int, str]] = field(default_factory=list)
    stopped: str | None = None
    """Why the session stopped before the end (no workers left), if it did."""


def run_sweep(
    sweep: Sweep,
    folder: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    cluster: Cluster = "local",
    cluster_options: dict[str, Any] | SlurmOptions | None = None,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    quiet: bool = False,
) -> SweepReport:
    """Run (or finish) a sweep into ``folder``.

    Parameters
    ----------
    sweep : Sweep
        From :func:`~diffusion_sim.studies.sweep.spec.load_sweep`.
    folder : path
        Results folder; a folder from an earlier, unfinished call is resumed.
    workers : int, optional
        Worker processes of the local cluster (default: all cores).
    scheduler : str, optional
        Address of an existing Dask scheduler, e.g. ``tcp://10.0.0.5:8786``.
    cluster : {"local", "slurm"}
        ``"slurm"`` starts Dask workers as Slurm jobs (dask-jobqueue).
    cluster_options : dict or SlurmOptions, optional
        For ``cluster="slurm"``: jobs, cores, memory, walltime, queue, ... (docs/sweeps.md).
    progress : bool
        Show a progress bar (runs done, runs/s, ETA) on stderr.
    log : callable, optional
        Where the sweep's lines go (default: stderr).
    quiet : bool
        Leave out the lines that only inform ("resuming ...", "already complete"); the
        lines that name a damaged or foreign part are still said.

    Raises
    ------
    InputError
        If another process works in ``folder``, its state files are not this
        sweep's, or the disk fills (the parts written are kept).
    """
    where = {
        "workers": workers,
        "scheduler": scheduler,
        "cluster": cluster,
        "cluster_options": cluster_options,
    }
    say = log or (lambda text: print(text, file=sys.stderr))
    folder = Path(folder)
    if not (folder / PLAN).exists() and not is_fresh(folder):
        prepare(sweep, folder)  # refuses a folder that is not a sweep's, creating nothing
    folder.mkdir(parents=True, exist_ok=True)
    with sweep_lock(folder):
        inform = (lambda text: None) if quiet else say
        try:
            report = _run_locked(sweep, folder, say, inform, progress, where)
        finally:
            if (folder / MANIFEST).is_file():  # finished (or refused as such): none resumes it
                (folder / LOCK).unlink(missing_ok=True)
    return report


def _run_locked(
    sweep, folder: Path, say, inform, progress: bool, where: dict[str, Any]
) -> SweepReport:
    """The sweep, with its folder's lock held: state checked, missing batches run, assembled."""
    plan = prepare(sweep, folder)
    if (plan.folder / MANIFEST).is_file():
        check_results(plan.folder / RESULTS, plan.total_runs)
        inform(f"{plan.folder}: sweep already complete ({plan.total_runs} runs)")
        return SweepReport(plan.folder, plan.total_runs, plan.total_runs, 0, True)
    for name in (PARTS, SERIES):
        if (plan.folder / name).is_symlink():
            raise refuse_link(plan.folder / name)
        if (plan.folder / name).exists() and not (plan.folder / name).is_dir():
            raise refuse(plan.folder / name, "is a file where the sweep keeps a folder")
    parts = plan.folder / PARTS
    parts.mkdir(exist_ok=True)
    clean_series_parts(plan)
    done = completed_batches(plan, say)
    pending = [b for b in range(plan.n_batches) if b not in done]
    runs_before = sum(len(plan.batch_runs(b)) for b in done)
    report = SweepReport(plan.folder, plan.total_runs, runs_before, 0, False)
    if runs_before:
        inform(f"resuming: {runs_before} of {plan.total_runs} runs already in {plan.folder}")
    if pending:
        where = {**where, "log_directory": plan.folder / "slurm-logs"}
        try:
            done |= _execute(plan, pending, report, where, progress)
        except InputError:  # a full disk: no temporary file stays, the parts written do
            for stale in [*parts.glob(".*.tmp*"), *(plan.folder / SERIES).glob(".*.tmp*")]:
                stale.unlink(missing_ok=True)
            raise
    if report.failed_batches:
        batch, message = report.failed_batches[0]
        say(
            f"{len(report.failed_batches)} batch(es) could not run (first: batch {batch}, "
            f"{message}); run the same command again to retry them"
        )
    if report.stopped:
        say(f"stopped: {report.stopped}; run the same command again to resume")
    if not report.failed_batches and len(done) == plan.n_batches:
        finalize(plan, report)
        report.complete = True
    return report


def worker_context(plan: Plan) -> dict[str, Any]:
    """What every batch of the sweep carries to its worker (``_worker.run_batch``)."""
    spec = plan.data["spec"]
    return {
        "fingerprint": plan.data["fingerprint"],
        "base": plan.data["base_scenario"],
        "engine": spec["engine"],
        "outcomes": list(spec["outcomes"]),
        "at": spec.get("at"),
        "between": spec.get("between"),
        "series": list(wanted(plan)),
        "series_every": spec.get("series_every", 1),
        "replicates": plan.data["replicates"],
    }


def _execute(
    plan: Plan, pending: list[int], report: SweepReport, where: dict[str, Any], progress: bool
) -> set[int]:
    """Run the pending batches; the batches whose part was written this session."""
    from distributed import wait
    from tqdm.auto import tqdm

    from diffusion_sim.studies.sweep._worker import run_batch

    context = worker_context(plan)
    table_schema = schema(plan, with_timing=True)
    started = time.perf_counter()
    with open_client(
        where["workers"],
        where["scheduler"],
        cluster=where["cluster"],
        cluster_options=where["cluster_options"],
        log_directory=where["log_directory"],
    ) as client:
        report.startup_s = time.perf_counter() - started
        report.workers = len(client.nthreads())
        written: set[int] = set()
        queue = iter(pending)
        batches: dict[Any, tuple[int, int]] = {}
        slots = max(1, sum(client.nthreads().values()))
        checked = no_workers_since = time.monotonic()

        def fill() -> None:
            while len(batches) < max(8, IN_FLIGHT_PER_THREAD * slots):
                batch = next(queue, None)
                if batch is None:
                    return
                runs = runs_of(plan, batch)
                future = client.submit(run_batch, context, runs, pure=False)
                batches[future] = (batch, len(runs))

        bar = tqdm(
            total=plan.total_runs,
            initial=report.runs_before,
            unit="run",
            desc=plan.data["name"],
            smoothing=0.1,
            mininterval=0.5,
            file=sys.stderr,
            disable=not progress,
            dynamic_ncols=True,
        )
        try:
            fill()
            while batches:
                try:
                    finished, _ = wait(
                        list(batches), timeout=POLL_SECONDS, return_when="FIRST_COMPLETED"
                    )
                except TimeoutError:
                    finished = set()
                for future in finished:
                    batch, n_runs = batches.pop(future)
                    if future.status == "error":
                        exc = future.exception()
                        report.failed_batches.append((batch, f"{type(exc).__name__}: {exc}"))
                    else:
                        columns = future.result()
                        series = "_series" in columns
                        with disk_full_is_input_error(plan.folder / PARTS):
                            if series:  # first: an outcome part implies its series
                                write_series_part(plan, batch, columns.pop("_series"))
                            write_part(plan, batch, columns, table_schema, with_series=series)
                        written.add(batch)
                        report.runs_done += n_runs
                        bar.update(n_runs)
                    future.release()
                now = time.monotonic()
                if now - checked >= POLL_SECONDS:  # a cluster may grow, shrink or vanish
                    checked = now
                    threads = client.nthreads()
                    slots = max(1, sum(threads.values()))
                    report.workers = max(report.workers, len(threads))
                    if threads:
                        no_workers_since = now
                    elif now - no_workers_since > _no_workers_timeout(where):
                        report.stopped = (
                            f"no Dask worker for {now - no_workers_since:.0f} s (Slurm jobs "
                            "at their walltime or cancelled, or workers stopped)"
                        )
                        break
                fill()
        finally:
            bar.close()
            for future in list(batches):
                future.cancel()
            report.wall_s = time.perf_counter() - started
    return written


def __getattr__(name: str) -> Any:
    # run_batch lives with the workers' code, which imports distributed: load it when asked.
    if name == "run_batch":
        from diffusion_sim.studies.sweep._worker import run_batch

        return run_batch
    raise AttributeError(name)


def _no_workers_timeout(where: dict[str, Any]) -> float:
    if where["cluster"] == "slurm" and not where["scheduler"]:
        from diffusion_sim.studies.sweep.cluster import slurm_options

        return slurm_options(where["cluster_options"]).start_timeout
    return NO_WORKERS_TIMEOUT
