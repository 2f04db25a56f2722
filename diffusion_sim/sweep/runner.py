"""Running a sweep: batches of runs on Dask, streamed to Parquet parts, resumable.

One code path for a laptop and a cluster: locally a ``LocalCluster`` of worker
processes, with ``scheduler=`` a ``Client`` of an existing cluster; everything
after the client is shared. The results folder holds:

- ``sweep.json``: the plan (sweep file, resolved base scenario, batches), written first;
- ``design.parquet``: the points (scenario values and SALib's matrix);
- ``parts/part-NNNNNN.parquet``: one file per finished batch, written atomically;
- ``results.parquet``: the tidy table, assembled part by part when all are in;
- ``manifest.json``: written last; a folder without it is unfinished.

Running the same command again skips the batches whose part exists, so a sweep
interrupted anyhow (Ctrl-C, a killed worker, a killed process) finishes with
the same table as one that ran straight through.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import json
import logging
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from diffusion_sim.errors import InputError
from diffusion_sim.sweep.design import Points, problem, run_seed, sample
from diffusion_sim.sweep.spec import Sweep

PLAN, DESIGN, PARTS, RESULTS, MANIFEST = (
    "sweep.json",
    "design.parquet",
    "parts",
    "results.parquet",
    "manifest.json",
)
FORMAT_VERSION = 1
_WORLD_KEYS = ("world.", "networks.")
_WORLD_CACHE_SIZE = 4


# --------------------------------------------------------------------- plan


@dataclass(frozen=True)
class Plan:
    """What a results folder is for: fixed when the sweep starts, checked on resume."""

    folder: Path
    data: dict[str, Any]
    points: Points

    @property
    def total_runs(self) -> int:
        return self.data["total_runs"]

    @property
    def runs_per_task(self) -> int:
        return self.data["runs_per_task"]

    @property
    def n_batches(self) -> int:
        return math.ceil(self.total_runs / self.runs_per_task)

    def batch_runs(self, batch: int) -> range:
        """Run ids of a batch; run id = point x replicates + replicate."""
        start = batch * self.runs_per_task
        return range(start, min(start + self.runs_per_task, self.total_runs))


def auto_runs_per_task(total_runs: int) -> int:
    """About 1% of the runs per task, 1 to 50: a few hundred tasks at most.

    Independent of the number of workers, so a sweep can resume on another cluster.
    """
    return max(1, min(50, total_runs // 100))


def fingerprint(sweep: Sweep) -> str:
    """A hash of everything that decides the results (sweep file and resolved base)."""
    payload = {"spec": sweep.spec.model_dump(mode="json"), "base": sweep.base_dict}
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def versions() -> dict[str, str]:
    """Versions that decide the numbers of a sweep."""
    from diffusion_sim.results import versions as core_versions

    found = core_versions()
    for package in ("SALib", "distributed", "pyarrow"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str))
    os.replace(tmp, path)


def prepare(sweep: Sweep, folder: Path) -> Plan:
    """Create the results folder's plan, or read it back and check it is this sweep's."""
    folder = Path(folder)
    plan_path = folder / PLAN
    digest = fingerprint(sweep)
    if plan_path.is_file():
        data = json.loads(plan_path.read_text())
        if data.get("fingerprint") != digest:
            raise InputError(
                "this folder holds results of a different sweep (the sweep file or its "
                "base scenario changed); give another --out, or delete the folder to "
                "start over",
                source=str(folder),
            )
        table = pd.read_parquet(folder / DESIGN)
        x = table[[c for c in table.columns if c.startswith("_x")]].to_numpy()
        values = table[[p.column for p in sweep.params]]
        return Plan(folder, data, Points(values, x, problem(sweep.params)))
    if folder.exists() and any(folder.iterdir()):
        raise InputError(
            "folder exists and is not a sweep's results folder; give another --out",
            source=str(folder),
        )
    folder.mkdir(parents=True, exist_ok=True)
    points = sample(sweep)
    spec = sweep.spec
    total = len(points) * spec.replicates
    per_task = spec.runs_per_task if isinstance(spec.runs_per_task, int) else 0
    data = {
        "format": FORMAT_VERSION,
        "fingerprint": digest,
        "name": spec.name,
        "description": spec.description,
        "sweep_file": sweep.source,
        "spec": spec.model_dump(mode="json"),
        "base_scenario": sweep.base_dict,
        "parameters": [
            {"column": p.column, "key": p.parameter.key, "kind": p.kind} for p in sweep.params
        ],
        "uncertainties": [p.column for p in spec.uncertainties],
        "levers": [p.column for p in spec.levers],
        "problem": points.problem,
        "points": len(points),
        "replicates": spec.replicates,
        "total_runs": total,
        "runs_per_task": per_task or auto_runs_per_task(total),
        "seeds": "run (point i, replicate r): SeedSequence(seed, spawn_key=(1, i, r)); "
        "with common_seeds: SeedSequence(seed, spawn_key=(2, r)); the 'seed' column is "
        "a 63-bit integer drawn from it: ds.simulate(scenario, seed=row.seed) repeats a run",
        "versions": versions(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    design = points.values.copy()
    for j in range(points.x.shape[1]):
        design[f"_x{j}"] = points.x[:, j]
    design.insert(0, "point", np.arange(len(points), dtype=np.int64))
    design.to_parquet(folder / DESIGN, index=False)
    _write_json(plan_path, data)  # last: a plan without its design is never trusted
    values = design[[p.column for p in sweep.params]]
    return Plan(folder, data, Points(values, points.x, points.problem))


# ------------------------------------------------------------------ schema


def _arrow_type(kind: str, dtype: Any) -> pa.DataType:
    if kind == "float":
        return pa.float64()
    if kind == "int":
        return pa.int64()
    name = str(dtype)
    if name == "boolean":
        return pa.bool_()
    if name == "Int64":
        return pa.int64()
    if name == "Float64":
        return pa.float64()
    return pa.string()


def schema(plan: Plan, *, with_timing: bool) -> pa.Schema:
    """The results table's columns: point, replicate, seed, parameters, status, error, outcomes."""
    fields = [pa.field("point", pa.int64()), pa.field("replicate", pa.int64())]
    fields.append(pa.field("seed", pa.int64()))
    for p in plan.data["parameters"]:
        dtype = plan.points.values.dtypes[p["column"]]
        fields.append(pa.field(p["column"], _arrow_type(p["kind"], dtype)))
    fields += [pa.field("status", pa.string()), pa.field("error", pa.string())]
    fields += [pa.field(o, pa.float64()) for o in plan.data["spec"]["outcomes"]]
    if with_timing:
        fields.append(pa.field("_sim_s", pa.float64()))
    return pa.schema(fields)


# ------------------------------------------------------------------ workers

_STATE: dict[str, Any] = {}


def _worker_base(context: dict[str, Any]):
    """The base scenario and world cache of this worker process, parsed once per sweep."""
    from diffusion_sim.scenario import parse_scenario

    state = _STATE.get(context["fingerprint"])
    if state is None:
        _STATE.clear()
        base = context["base"]
        state = (parse_scenario(base, name=base.get("name")), collections.OrderedDict())
        _STATE[context["fingerprint"]] = state
    return state


def run_batch(context: dict[str, Any], runs: list[tuple[int, int, int, dict]]) -> dict[str, list]:
    """Run a batch on a worker; a run that raises is recorded with its error, not raised.

    Worlds are cached per distinct set of world and network parameters, so points
    that vary only mechanisms share one world.
    """
    from diffusion_sim.simulation import build_world, simulate

    base, worlds = _worker_base(context)
    outcomes = context["outcomes"]
    columns: dict[str, list] = {
        k: [] for k in ("point", "replicate", "seed", "status", "error", *outcomes, "_sim_s")
    }
    for point, replicate, seed, overrides in runs:
        started = time.perf_counter()
        try:
            scenario = base.with_overrides(overrides)
            world_key = json.dumps(
                sorted((k, v) for k, v in overrides.items() if k.startswith(_WORLD_KEYS)),
                default=str,
            )
            world = worlds.get(world_key)
            if world is None:
                world = build_world(scenario)
                worlds[world_key] = world
                while len(worlds) > _WORLD_CACHE_SIZE:
                    worlds.popitem(last=False)
            values = simulate(scenario, seed, engine=context["engine"], world=world).outcomes()
            status, error = "ok", None
        except Exception as exc:  # any failure of a run is data
            values, status = {}, "error"
            error = f"{type(exc).__name__}: {exc}"
        columns["point"].append(point)
        columns["replicate"].append(replicate)
        columns["seed"].append(seed)
        columns["status"].append(status)
        columns["error"].append(error)
        for name in outcomes:
            columns[name].append(float(values.get(name, np.nan)))
        columns["_sim_s"].append(time.perf_counter() - started)
    return columns


# ------------------------------------------------------------------- driver


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


@contextlib.contextmanager
def open_client(workers: int | None = None, scheduler: str | None = None) -> Iterator[Any]:
    """A Dask client: of an existing cluster, or of a LocalCluster of worker processes."""
    from dask.distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout="30s")
        except OSError as exc:
            raise InputError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        try:
            yield client
        finally:
            client.close()
        return
    import dask

    n = workers or os.cpu_count() or 1
    # Dask's statistical profiler keeps an hour of call trees per worker, which grows a
    # worker by ~20 kB per run of a small world: memory would not stay flat.
    with dask.config.set({"distributed.worker.profile.enabled": False}):
        cluster = LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",  # the HTTP endpoint always runs: keep it local
            silence_logs=logging.ERROR,
        )
    client = Client(cluster)
    try:
        from diffusion_sim.sweep._worker import IgnoreInterrupt

        client.register_plugin(IgnoreInterrupt())
        yield client
    finally:
        client.close()
        cluster.close()


def _completed_batches(parts: Path) -> set[int]:
    done = set()
    for path in parts.glob("part-*.parquet"):
        done.add(int(path.stem.split("-")[1]))
    for stale in parts.glob(".*.tmp"):
        stale.unlink(missing_ok=True)
    return done


def _runs_of(plan: Plan, batch: int) -> list[tuple[int, int, int, dict]]:
    replicates, spec = plan.data["replicates"], plan.data["spec"]
    params = plan.data["parameters"]
    runs = []
    for run_id in plan.batch_runs(batch):
        point, replicate = divmod(run_id, replicates)
        row = plan.points.values.iloc[point]
        overrides = {}
        for p in params:
            value = row[p["column"]]
            overrides[p["key"]] = value.item() if hasattr(value, "item") else value
        seed = run_seed(spec["seed"], point, replicate, common=spec["common_seeds"])
        runs.append((point, replicate, seed, overrides))
    return runs


def _write_part(plan: Plan, batch: int, columns: dict[str, list], table_schema: pa.Schema) -> int:
    frame = pd.DataFrame(columns)
    params = plan.points.values.iloc[frame["point"].to_numpy()].reset_index(drop=True)
    frame = pd.concat(
        [
            frame[["point", "replicate", "seed"]],
            params,
            frame.drop(columns=["point", "replicate", "seed"]),
        ],
        axis=1,
    )
    table = pa.Table.from_pandas(frame, schema=table_schema, preserve_index=False)
    parts = plan.folder / PARTS
    tmp = parts / f".part-{batch:06d}.parquet.tmp"
    pq.write_table(table, tmp)
    os.replace(tmp, parts / f"part-{batch:06d}.parquet")
    return len(frame)


def run_sweep(
    sweep: Sweep,
    folder: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
) -> SweepReport:
    """Run (or finish) a sweep into ``folder``.

    Parameters
    ----------
    sweep : Sweep
        From :func:`~diffusion_sim.sweep.spec.load_sweep`.
    folder : path
        Results folder; a folder from an earlier, unfinished call is resumed.
    workers : int, optional
        Worker processes of the LocalCluster (default: all cores); ignored with ``scheduler``.
    scheduler : str, optional
        Address of an existing Dask scheduler, e.g. ``tcp://10.0.0.5:8786``.
    progress : bool
        Show a progress bar (runs done, runs/s, ETA) on stderr.
    """
    say = log or (lambda text: print(text, file=sys.stderr))
    plan = prepare(sweep, Path(folder))
    if (plan.folder / MANIFEST).is_file():
        say(f"{plan.folder}: sweep already complete ({plan.total_runs} runs)")
        return SweepReport(plan.folder, plan.total_runs, plan.total_runs, 0, True)
    parts = plan.folder / PARTS
    parts.mkdir(exist_ok=True)
    done = _completed_batches(parts)
    pending = [b for b in range(plan.n_batches) if b not in done]
    runs_before = sum(len(plan.batch_runs(b)) for b in done)
    report = SweepReport(plan.folder, plan.total_runs, runs_before, 0, False)
    if runs_before:
        say(f"resuming: {runs_before} of {plan.total_runs} runs already in {plan.folder}")
    if pending:
        _execute(plan, pending, report, workers, scheduler, progress, say)
    if not report.failed_batches and len(_completed_batches(parts)) == plan.n_batches:
        finalize(plan, report)
        report.complete = True
    return report


def _execute(plan, pending, report, workers, scheduler, progress, say) -> None:
    from dask.distributed import as_completed
    from tqdm.auto import tqdm

    spec = plan.data["spec"]
    context = {
        "fingerprint": plan.data["fingerprint"],
        "base": plan.data["base_scenario"],
        "engine": spec["engine"],
        "outcomes": list(spec["outcomes"]),
    }
    table_schema = schema(plan, with_timing=True)
    started = time.perf_counter()
    with open_client(workers, scheduler) as client:
        if scheduler:
            client.wait_for_workers(1, timeout=60)
        report.workers = len(client.scheduler_info()["workers"])
        report.startup_s = time.perf_counter() - started
        slots = max(1, sum(client.nthreads().values()))
        window = max(8, 4 * slots)
        queue = iter(pending)
        batches: dict[Any, tuple[int, int]] = {}
        flow = as_completed()

        def submit_next() -> None:
            batch = next(queue, None)
            if batch is not None:
                runs = _runs_of(plan, batch)
                future = client.submit(run_batch, context, runs, pure=False)
                batches[future] = (batch, len(runs))
                flow.add(future)

        for _ in range(window):
            submit_next()
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
            for future in flow:
                batch, n_runs = batches.pop(future)
                if future.status == "error":
                    exc = future.exception()
                    report.failed_batches.append((batch, f"{type(exc).__name__}: {exc}"))
                else:
                    _write_part(plan, batch, future.result(), table_schema)
                    report.runs_done += n_runs
                    bar.update(n_runs)
                future.release()
                submit_next()
        finally:
            bar.close()
            for future in list(batches):
                future.cancel()
            report.wall_s = time.perf_counter() - started
    if report.failed_batches:
        batch, message = report.failed_batches[0]
        say(
            f"{len(report.failed_batches)} batch(es) could not run (first: batch {batch}, "
            f"{message}); run the same command again to retry them"
        )


def finalize(plan: Plan, report: SweepReport) -> Path:
    """Assemble ``results.parquet`` part by part (memory flat), then write the manifest."""
    parts = plan.folder / PARTS
    final = schema(plan, with_timing=False)
    tmp = plan.folder / f".{RESULTS}.tmp"
    sim_s, ok, errors = 0.0, 0, collections.Counter()
    with pq.ParquetWriter(tmp, final) as writer:
        for batch in range(plan.n_batches):
            table = pq.read_table(parts / f"part-{batch:06d}.parquet")
            sim_s += float(pc.sum(table["_sim_s"]).as_py() or 0.0)
            status = table["status"].to_pylist()
            ok += status.count("ok")
            for message in table["error"].to_pylist():
                if message is not None:
                    errors[message] += 1
            writer.write_table(table.drop_columns(["_sim_s"]).cast(final))
    os.replace(tmp, plan.folder / RESULTS)
    manifest = {
        **{k: v for k, v in plan.data.items() if k not in ("spec", "base_scenario", "problem")},
        "complete": True,
        "runs_ok": ok,
        "runs_failed": plan.total_runs - ok,
        "errors": [{"error": e, "runs": n} for e, n in errors.most_common(20)],
        "simulation_seconds": round(sim_s, 3),
        "last_session": {
            "workers": report.workers,
            "runs": report.runs_done,
            "wall_seconds": round(report.wall_s, 3),
            "startup_seconds": round(report.startup_s, 3),
        },
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    _write_json(plan.folder / MANIFEST, manifest)
    for path in parts.glob("part-*.parquet"):
        path.unlink()
    parts.rmdir()
    return plan.folder / RESULTS


def read_results(folder: str | Path) -> pd.DataFrame:
    """The tidy table of a finished sweep (one row per run)."""
    folder = Path(folder)
    if not (folder / MANIFEST).is_file():
        raise InputError(
            "not a finished sweep (no manifest.json); run the sweep command again to finish it",
            source=str(folder),
        )
    return pd.read_parquet(folder / RESULTS)
