"""The results folder of a sweep: its plan, its Parquet parts, and their assembly.

- ``sweep.json``: the plan (sweep file, resolved base scenario, batches), written first;
- ``design.parquet``: the points (scenario values and SALib's matrix);
- ``parts/part-NNNNNN.parquet``: one file per finished batch, written atomically;
- ``results.parquet``: the tidy table, assembled part by part when all are in;
- ``series/`` and ``series.parquet``: per-step series, if the sweep keeps any
  (:mod:`~diffusion_sim.studies.sweep.series`);
- ``manifest.json``: written last; a folder without it is unfinished.

Everything here runs in the driver and depends on nothing but the folder, so a
sweep resumes the same on a laptop, a Dask cluster or Slurm.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from diffusion_sim.errors import InputError
from diffusion_sim.record.storage import refuse_link, write_atomic
from diffusion_sim.studies.sweep.design import Points, problem, run_seed, sample
from diffusion_sim.studies.sweep.series import SERIES, assemble_series, remove_series_parts
from diffusion_sim.studies.sweep.spec import Sweep
from diffusion_sim.studies.sweep.state import (
    MANIFEST,
    PART_KEY,
    RESULTS,
    check_plan,
    file_digests,
    fingerprint,
    frame_digest,
    is_fresh,
    part_problem,
    part_record,
    read_design,
    read_json,
    read_table,
)

if TYPE_CHECKING:
    from diffusion_sim.studies.sweep.runner import SweepReport

PLAN, DESIGN, PARTS = "sweep.json", "design.parquet", "parts"
FORMAT_VERSION = 1

# Automatic batch size (``runs_per_task = "auto"``), decided once when the plan is written.
TASK_SECONDS = 2.0
"""Aimed work per task: the scheduler's few milliseconds per task stay under 1%."""
MIN_TASKS = 100
"""At least this many tasks (at most 1% of the runs per task): balance, progress, resume."""
MAX_TASKS = 5_000
"""At most this many tasks: bounds the parts in a folder and the scheduler's bookkeeping."""
RUN_SECONDS = 0.003
"""Rough fixed cost of one run in a worker (overrides, setup, outcomes), one core."""
CITY_STEP_SECONDS = 1e-6
"""Rough cost of one city-step of the vectorized engine, one core."""
AGENTS_FACTOR = 20.0
"""Rough slowdown of the agents (Mesa) engine."""

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


def auto_runs_per_task(total_runs: int, run_seconds: float = 0.02) -> int:
    """Runs per task: about :data:`TASK_SECONDS` of work, within 100 to 5,000 tasks.

    ``run_seconds`` is a rough estimate of one run (:func:`estimate_run_seconds`).
    Small sweeps get one run per task; 100,000 runs of a 200-city, 12-step world
    get 370 (271 tasks). Independent of the number of workers, and stored in the
    plan, so a sweep resumes with the same batches anywhere.

    >>> auto_runs_per_task(80, 0.25), auto_runs_per_task(100_000, 0.007)
    (1, 286)
    >>> auto_runs_per_task(1_000_000, 10.0)
    200
    """
    fewest = max(1, math.ceil(total_runs / MAX_TASKS))
    most = max(1, total_runs // MIN_TASKS)
    aimed = round(TASK_SECONDS / max(run_seconds, 1e-6))
    return max(fewest, min(most, max(1, aimed)))


def estimate_run_seconds(sweep: Sweep) -> float:
    """A rough cost of one run of the base scenario on one core (for batch sizes only)."""
    base = sweep.base
    world = base.world
    cities = world.n_cities if world.generator == "synthetic" else (world.max_cities or 10_000)
    seconds = RUN_SECONDS + CITY_STEP_SECONDS * cities * base.run.steps
    return seconds * (AGENTS_FACTOR if sweep.spec.engine == "agents" else 1.0)


def versions() -> dict[str, str]:
    """Versions that decide the numbers of a sweep."""
    from diffusion_sim.record.storage import versions as core_versions

    found = core_versions()
    for package in ("SALib", "distributed", "pyarrow"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def _write_json(path: Path, data: dict[str, Any]) -> None:
    text = json.dumps(data, indent=2, default=str)
    write_atomic(path, lambda tmp: tmp.write_text(text))


def plan_parameters(sweep: Sweep) -> list[dict[str, str]]:
    """The plan's record of the sweep's parameters: which column sets which key."""
    return [{"column": p.column, "key": p.parameter.key, "kind": p.kind} for p in sweep.params]


def prepare(sweep: Sweep, folder: Path) -> Plan:
    """Create the results folder's plan, or read it back and check it is this sweep's."""
    folder = Path(folder)
    plan_path = folder / PLAN
    digest = fingerprint(sweep)
    if plan_path.exists() or plan_path.is_symlink():
        if plan_path.is_symlink():
            raise refuse_link(plan_path)
        data = check_plan(plan_path, read_json(plan_path), digest, plan_parameters(sweep))
        table = read_design(folder / DESIGN, data)
        x = table[[c for c in table.columns if c.startswith("_x")]].to_numpy()
        values = table[[p.column for p in sweep.params]]
        return Plan(folder, data, Points(values, x, problem(sweep.params)))
    if not is_fresh(folder):
        raise InputError(
            "folder exists and is not a sweep's results folder (or its sweep.json is "
            "gone); give another --out",
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
        "parameters": plan_parameters(sweep),
        "uncertainties": [p.column for p in spec.uncertainties],
        "levers": [p.column for p in spec.levers],
        "problem": points.problem,
        "points": len(points),
        "replicates": spec.replicates,
        "total_runs": total,
        "runs_per_task": per_task or auto_runs_per_task(total, estimate_run_seconds(sweep)),
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
    try:
        write_atomic(folder / DESIGN, lambda tmp: design.to_parquet(tmp, index=False))
        data["design_sha256"] = frame_digest(pd.read_parquet(folder / DESIGN))
        _write_json(plan_path, data)  # last: a plan without its design is never trusted
    except BaseException:  # a full disk: the folder stays fresh for the same command
        (folder / DESIGN).unlink(missing_ok=True)
        raise
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


# ------------------------------------------------------------------- parts


PART_NAME = re.compile(r"part-(\d{6})\.parquet")


def completed_batches(plan: Plan, say: Any = None) -> set[int]:
    """Batches whose part is written and checked to be theirs (:func:`.state.part_problem`).

    A part that cannot be counted is removed (its batch runs again), saying why;
    a file of another name is left alone, said once; a killed driver's temporary
    files are removed.
    """
    say = say or (lambda text: None)
    parts = plan.folder / PARTS
    done = set()
    table_schema = schema(plan, with_timing=True)
    series = plan.folder / SERIES if plan.data["spec"].get("series") else None
    for path in sorted(parts.iterdir()):
        match = PART_NAME.fullmatch(path.name)
        if path.name.startswith(".") and ".tmp" in path.name:
            path.unlink(missing_ok=True)  # a link is removed, never followed
            continue
        batch = int(match.group(1)) if match else -1
        if not 0 <= batch < plan.n_batches:
            say(f"{path}: not a part of this sweep's; left alone and not counted")
            continue
        ids = {name: [run[i] for run in runs_of(plan, batch)] for i, name in enumerate(ID_NAMES)}
        series_part = series / path.name if series is not None else None
        why = part_problem(path, plan.data["fingerprint"], batch, ids, table_schema, series_part)
        if why is None:
            done.add(batch)
        else:
            say(f"{path}: {why}; removed, its batch {batch} runs again")
            path.unlink()
    return done


ID_NAMES = ("point", "replicate", "seed")


def runs_of(plan: Plan, batch: int) -> list[tuple[int, int, int, dict]]:
    """The runs of a batch as (point, replicate, seed, overrides), built when submitted.

    Values are read column by column (each column keeps its own type: an integer
    parameter stays an int beside a float one), as plain Python values.
    """
    replicates, spec = plan.data["replicates"], plan.data["spec"]
    ids = plan.batch_runs(batch)
    first, last = ids[0] // replicates, ids[-1] // replicates
    block = plan.points.values.iloc[first : last + 1]
    columns = {p["key"]: block[p["column"]].tolist() for p in plan.data["parameters"]}
    runs = []
    for run_id in ids:
        point, replicate = divmod(run_id, replicates)
        overrides = {key: values[point - first] for key, values in columns.items()}
        seed = run_seed(spec["seed"], point, replicate, common=spec["common_seeds"])
        runs.append((point, replicate, seed, overrides))
    return runs


def write_part(
    plan: Plan,
    batch: int,
    columns: dict[str, list],
    table_schema: pa.Schema,
    *,
    with_series: bool = False,
) -> int:
    """Write a finished batch's rows atomically, with their record (:func:`.state.part_record`).

    ``with_series``: the batch's series part is written already; its digest is recorded.
    """
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
    series_part = plan.folder / SERIES / f"part-{batch:06d}.parquet"
    series = hashlib.sha256(series_part.read_bytes()).hexdigest() if with_series else None
    record = part_record(plan.data["fingerprint"], batch, table, series)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), PART_KEY: record})
    write_atomic(parts / f"part-{batch:06d}.parquet", lambda tmp: pq.write_table(table, tmp))
    return len(frame)


def finalize(plan: Plan, report: SweepReport) -> Path:
    """Assemble ``results.parquet`` part by part (memory flat), then write the manifest."""
    parts = plan.folder / PARTS
    final = schema(plan, with_timing=False)
    sim_s, ok, errors = 0.0, 0, collections.Counter()

    def assemble(tmp: Path) -> None:
        nonlocal sim_s, ok
        with pq.ParquetWriter(tmp, final) as writer:
            for batch in range(plan.n_batches):
                table = read_table(parts / f"part-{batch:06d}.parquet")
                sim_s += float(pc.sum(table["_sim_s"]).as_py() or 0.0)
                status = table["status"].to_pylist()
                ok += status.count("ok")
                for message in table["error"].to_pylist():
                    if message is not None:
                        errors[message] += 1
                writer.write_table(table.drop_columns(["_sim_s"]).cast(final))

    write_atomic(plan.folder / RESULTS, assemble)
    series = assemble_series(plan)
    manifest = {
        **{k: v for k, v in plan.data.items() if k not in ("spec", "base_scenario", "problem")},
        "complete": True,
        "runs_ok": ok,
        "runs_failed": plan.total_runs - ok,
        "errors": [{"error": e, "runs": n} for e, n in errors.most_common(20)],
        "simulation_seconds": round(sim_s, 3),
        "series_file": series.name if series else None,
        "files": file_digests(plan.folder, [RESULTS, *([series.name] if series else [])]),
        "last_session": {
            "workers": report.workers,
            "runs": report.runs_done,
            "wall_seconds": round(report.wall_s, 3),
            "startup_seconds": round(report.startup_s, 3),
        },
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    _write_json(plan.folder / MANIFEST, manifest)
    for batch in range(plan.n_batches):
        (parts / f"part-{batch:06d}.parquet").unlink()
    with contextlib.suppress(OSError):  # a stray file of another name stays, with its folder
        parts.rmdir()
    remove_series_parts(plan)
    return plan.folder / RESULTS
