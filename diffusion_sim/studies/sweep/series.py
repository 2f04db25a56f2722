"""Per-step series of a sweep (BehaviorSpace's "every step"), and CSV copies of its tables.

Kept only when the sweep file lists ``series``:

- ``series/part-NNNNNN.parquet``: one file per finished batch, long format (point,
  replicate, run, step, one column per series), written atomically *before* the
  batch's outcome part, so a batch whose outcome part exists has its series part too
  and resume needs no bookkeeping of its own;
- ``series.parquet``: assembled part by part when the sweep finishes (memory flat: one
  part at a time), the parts then removed.

Lives apart from :mod:`~diffusion_sim.studies.sweep.parts` so that a sweep without series runs
exactly the code it ran before.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from diffusion_sim.record.csv_cells import neutral_batch, neutral_schema
from diffusion_sim.record.tables import timeseries_columns
from diffusion_sim.studies.sweep.state import RESULTS, finished_bytes, read_finished

if TYPE_CHECKING:
    from diffusion_sim.studies.sweep.parts import Plan

SERIES, SERIES_RESULTS = "series", "series.parquet"
RESULTS_CSV, SERIES_CSV = "results.csv", "series.csv"
ID_COLUMNS = ("point", "replicate", "run", "step")


def wanted(plan: Plan) -> tuple[str, ...]:
    """The series a plan keeps (none for plans written before series existed)."""
    return tuple(plan.data["spec"].get("series") or ())


def series_schema(names: tuple[str, ...]) -> pa.Schema:
    """Ids as int64, counts as int64 (null where a run lacks the column), shares as float64."""
    fields = [pa.field(c, pa.int64()) for c in ID_COLUMNS]
    counts = timeseries_columns()
    fields += [pa.field(n, pa.int64() if counts.get(n) else pa.float64()) for n in names]
    return pa.schema(fields)


def run_series(
    timeseries: pd.DataFrame, names: tuple[str, ...], every: int
) -> dict[str, np.ndarray]:
    """One run's kept rows (steps 0, k, 2k, ...) of the columns asked for.

    A column the run does not have (``governments_global`` in a world without a
    global government) is NaN, written as null.
    """
    rows = timeseries[timeseries["step"].to_numpy() % every == 0]
    kept = {"step": rows["step"].to_numpy(dtype=np.int64)}
    for name in names:
        if name in rows:
            kept[name] = rows[name].to_numpy()
        else:
            kept[name] = np.full(len(rows), np.nan)
    return kept


def batch_series(
    runs: list[tuple[int, int, int, dict[str, np.ndarray]]], names: tuple[str, ...]
) -> dict[str, np.ndarray]:
    """A batch's runs as (point, replicate, run id, kept rows), in long format."""
    columns: dict[str, list[np.ndarray]] = {c: [] for c in (*ID_COLUMNS, *names)}
    for point, replicate, run_id, kept in runs:
        n = len(kept["step"])
        columns["point"].append(np.full(n, point, dtype=np.int64))
        columns["replicate"].append(np.full(n, replicate, dtype=np.int64))
        columns["run"].append(np.full(n, run_id, dtype=np.int64))
        for name in ("step", *names):
            columns[name].append(np.asarray(kept[name]))
    return {
        name: np.concatenate(parts) if parts else np.zeros(0, dtype=np.float64)
        for name, parts in columns.items()
    }


def write_series_part(plan: Plan, batch: int, columns: dict[str, np.ndarray]) -> None:
    """Write a batch's series atomically (temporary file, then rename)."""
    table_schema = series_schema(wanted(plan))
    arrays = [
        pa.array(columns[field.name], type=field.type, from_pandas=True) for field in table_schema
    ]
    folder = plan.folder / SERIES
    folder.mkdir(exist_ok=True)
    tmp = folder / f".part-{batch:06d}.parquet.tmp"
    pq.write_table(pa.Table.from_arrays(arrays, schema=table_schema), tmp)
    os.replace(tmp, folder / f"part-{batch:06d}.parquet")


def clean_series_parts(plan: Plan) -> None:
    """Remove temporary files a killed driver left (a part is rewritten if its batch reruns)."""
    for stale in (plan.folder / SERIES).glob(".*.tmp"):
        stale.unlink(missing_ok=True)


def assemble_series(plan: Plan) -> Path | None:
    """Stream the parts into ``series.parquet`` in batch order (parts kept until the manifest)."""
    names = wanted(plan)
    if not names:
        return None
    folder = plan.folder / SERIES
    tmp = plan.folder / f".{SERIES_RESULTS}.tmp"
    with pq.ParquetWriter(tmp, series_schema(names)) as writer:
        for batch in range(plan.n_batches):
            writer.write_table(pq.read_table(folder / f"part-{batch:06d}.parquet"))
    os.replace(tmp, plan.folder / SERIES_RESULTS)
    return plan.folder / SERIES_RESULTS


def remove_series_parts(plan: Plan) -> None:
    """Remove the parts once the manifest is written (a finalize cut short redoes it all)."""
    folder = plan.folder / SERIES
    if folder.is_dir():
        for path in folder.glob("part-*.parquet"):
            path.unlink()
        folder.rmdir()


def write_csv(folder: str | Path) -> list[Path]:
    """``results.csv`` (and ``series.csv``) beside the Parquet tables, streamed.

    Written batch by batch from the Parquet files (memory flat), each through a
    temporary file, so a CSV present is complete; floats keep all their digits.
    """
    folder = Path(folder)
    written = []
    for source, target in ((RESULTS_CSV, RESULTS), (SERIES_CSV, SERIES_RESULTS)):
        if not (folder / target).is_file():
            continue
        reader = pq.ParquetFile(io.BytesIO(finished_bytes(folder, target)))
        tmp = folder / f".{source}.tmp"
        with pacsv.CSVWriter(tmp, neutral_schema(reader.schema_arrow)) as writer:
            for batch in reader.iter_batches():
                writer.write_batch(neutral_batch(batch))
        os.replace(tmp, folder / source)
        written.append(folder / source)
    return written


def read_series(folder: str | Path) -> pd.DataFrame:
    """The per-step series of a finished sweep (long format; one row per run and kept step)."""
    return read_finished(Path(folder), SERIES_RESULTS)
