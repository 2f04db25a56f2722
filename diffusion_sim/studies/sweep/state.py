"""What a sweep reads back from its folder, checked before it is used.

A sweep resumes from files anyone may have touched: ``sweep.json`` (the plan),
``design.parquet`` and the parts. None is trusted:

- the plan must have the shape written (:class:`PlanRecord`), this sweep's
  fingerprint, and totals that agree with its design; the design must match the
  digest the plan recorded. Either wrong: the sweep is refused, naming the file;
- each part carries, in its Parquet metadata, the sweep's fingerprint, its batch
  and a digest of its rows (and of its series part). A part that is unreadable,
  foreign (another sweep or seed), of another batch or altered is not counted: it
  is removed and its batch run again. It is never mixed in;
- nothing is read, written or removed through a symbolic link, and one process at
  a time works in a folder (:func:`sweep_lock`; a second one is refused, clearly).
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from diffusion_sim.errors import InputError
from diffusion_sim.record.storage import LOCK, read_bytes, refuse_link, try_lock

MANIFEST, RESULTS = "manifest.json", "results.parquet"
"""A finished sweep's manifest (written last) and its table of runs."""
RUN_AGAIN = ": move the folder away (or give another --out) and run the sweep again"
PART_KEY = b"diffusion_sim.part"
"""The Parquet metadata key of a part's fingerprint record."""


class PlanParameter(BaseModel):
    column: str
    key: str
    kind: str


class PlanSpec(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)
    seed: int
    common_seeds: bool
    engine: str
    outcomes: list[str]


class PlanRecord(BaseModel):
    """The keys of ``sweep.json`` a resumed sweep relies on (strict: ``"4"`` is no count)."""

    model_config = ConfigDict(extra="allow", strict=True)
    format: int
    fingerprint: str
    name: str
    spec: PlanSpec
    base_scenario: dict[str, Any]
    parameters: list[PlanParameter]
    points: int = Field(ge=1)
    replicates: int = Field(ge=1)
    total_runs: int = Field(ge=1)
    runs_per_task: int = Field(ge=1)
    design_sha256: str | None = None


def fingerprint(sweep: Any) -> str:
    """A hash of everything that decides the results (sweep file and resolved base).

    The series keys count only when series are kept, and the window only when one is
    given, so folders of sweeps without them (older ones included) keep their fingerprint.
    """
    return _digest(sweep.spec.model_dump(mode="json"), sweep.base_dict)


def _digest(spec: dict[str, Any], base: dict[str, Any]) -> str:
    spec = dict(spec)
    if not spec.get("series"):
        spec.pop("series", None), spec.pop("series_every", None)
    for key in ("at", "between"):  # a sweep at the last step keeps its older fingerprint
        if spec.get(key) is None:
            spec.pop(key, None)
    text = json.dumps({"spec": spec, "base": base}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def refuse(path: Path, what: str) -> InputError:
    return InputError(
        f"{what}; this folder cannot be resumed safely: give another --out, or move the "
        "folder away to start over",
        source=str(path),
    )


def read_json(path: Path) -> Any:
    """A state file's JSON, read without following a link; unreadable: refused."""
    try:
        return json.loads(read_bytes(path))
    except (OSError, ValueError) as exc:
        raise refuse(path, f"not valid JSON ({type(exc).__name__})") from None


def check_plan(
    path: Path, data: Any, fingerprint: str, parameters: list[dict[str, str]]
) -> dict[str, Any]:
    """``sweep.json`` of this sweep: whose it is first, then its shape, totals and content
    (the spec, base scenario and parameters its runs are built from)."""
    if isinstance(data, dict) and isinstance(data.get("fingerprint"), str):
        if data["fingerprint"] != fingerprint:
            raise InputError(
                "this folder holds results of a different sweep (the sweep file or its "
                "base scenario changed); give another --out, or delete the folder to "
                "start over",
                source=str(path.parent),
            )
    try:
        record = PlanRecord.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"]) or "(top level)"
        what = f"not a sweep plan this program wrote (key '{where}': {error['msg']})"
        raise refuse(path, what) from None
    if record.total_runs != record.points * record.replicates:
        raise refuse(path, "its total_runs is not points x replicates (altered)")
    if _digest(data["spec"], data["base_scenario"]) != fingerprint:
        raise refuse(path, "its spec or base scenario is not what its fingerprint says (altered)")
    if record.replicates != record.spec.model_extra.get("replicates", record.replicates):
        raise refuse(path, "its replicates differ from its spec's (altered)")
    if data["parameters"] != parameters:
        raise refuse(path, "its parameters are not the sweep file's (altered)")
    return data


def is_fresh(folder: Path) -> bool:
    """Whether a folder may become a sweep's: missing, empty, or holding only its lock."""
    return not folder.exists() or all(p.name == LOCK for p in folder.iterdir())


def frame_digest(frame: pd.DataFrame) -> str:
    """A digest of a table's columns and values (the same after a Parquet round trip)."""
    digest = hashlib.sha256(json.dumps([str(c) for c in frame.columns]).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def read_table(path: Path) -> pa.Table:
    """A Parquet file read without following a link (raises ValueError/OSError if broken)."""
    return pq.read_table(io.BytesIO(read_bytes(path)))


def read_design(path: Path, plan_data: dict[str, Any]) -> pd.DataFrame:
    """``design.parquet``, readable and equal to what the plan recorded; else refused."""
    if path.is_symlink():
        raise refuse_link(path)
    try:
        table = read_table(path).to_pandas()
    except FileNotFoundError:
        raise refuse(path, "missing") from None
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise refuse(path, f"not a readable Parquet table ({type(exc).__name__})") from None
    columns = ["point", *(p["column"] for p in plan_data["parameters"])]
    if any(c not in table.columns for c in columns) or len(table) != plan_data["points"]:
        raise refuse(path, "its columns or its number of points differ from the plan")
    expected = plan_data.get("design_sha256")
    if expected is not None and frame_digest(table) != expected:
        raise refuse(path, "differs from the design the plan recorded (altered)")
    return table


def file_digests(folder: Path, names: list[str]) -> dict[str, str]:
    """Each finished table's SHA-256, for the manifest (checked by :func:`check_digest`)."""
    return {name: hashlib.sha256(read_bytes(folder / name)).hexdigest() for name in names}


def finished_bytes(folder: Path, name: str) -> bytes:
    """A finished sweep's table file, as its manifest recorded it (:func:`check_digest`)."""
    path = folder / name
    try:
        data = read_bytes(path)
    except FileNotFoundError:
        raise InputError(
            f"missing, though the sweep is marked finished{RUN_AGAIN}", source=str(path)
        ) from None
    check_digest(path, data)
    return data


def check_digest(path: Path, data: bytes) -> None:
    """Refuse a finished table whose SHA-256 is not the one the manifest beside it recorded.

    A manifest written before digests were kept (no ``files``) is taken at its word.
    """
    manifest = read_json(path.parent / MANIFEST)
    expected = (manifest.get("files") or {}).get(path.name) if isinstance(manifest, dict) else None
    if expected is not None and hashlib.sha256(data).hexdigest() != expected:
        raise InputError(
            "altered since the sweep finished (its SHA-256 is not the one manifest.json "
            f"recorded){RUN_AGAIN}",
            source=str(path),
        )


def read_results(folder: str | Path) -> pd.DataFrame:
    """The tidy table of a finished sweep (one row per run)."""
    return read_finished(Path(folder), RESULTS)


def read_finished(folder: Path, name: str) -> pd.DataFrame:
    """A finished sweep's table (:func:`finished_bytes`), read; an unfinished sweep: refused."""
    if not (folder / MANIFEST).is_file():
        raise InputError(
            "not a finished sweep (no manifest.json); run the sweep command again to finish it",
            source=str(folder),
        )
    try:
        return pq.read_table(io.BytesIO(finished_bytes(folder, name))).to_pandas()
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise InputError(
            f"not a readable Parquet table ({type(exc).__name__}){RUN_AGAIN}",
            source=str(folder / name),
        ) from None


def check_results(path: Path, total_runs: int) -> None:
    """A finished sweep's ``results.parquet``: a whole Parquet file of its runs, else refused.

    Its parts were removed when it was assembled, so it cannot be rebuilt in place.
    """
    if path.is_symlink():
        raise refuse_link(path)
    data = b""
    try:
        data = read_bytes(path)
        rows = pq.ParquetFile(io.BytesIO(data)).metadata.num_rows
    except (OSError, ValueError, pa.ArrowException):
        rows = None
    if rows != total_runs:
        raise InputError(
            f"damaged or missing (not a whole Parquet table of this sweep's {total_runs} "
            f"runs), though the sweep is marked finished and its parts are gone{RUN_AGAIN}",
            source=str(path),
        )
    check_digest(path, data)  # whole, but is it the table the sweep wrote?


def part_record(fingerprint: str, batch: int, table: pa.Table, series: str | None) -> bytes:
    """The record a part carries: whose it is, which batch, what rows (and series part)."""
    record = {
        "fingerprint": fingerprint,
        "batch": batch,
        "rows": frame_digest(table.to_pandas()),
        "series_sha256": series,
    }
    return json.dumps(record).encode()


def part_problem(
    path: Path,
    fingerprint: str,
    batch: int,
    ids: dict[str, list[int]],
    table_schema: pa.Schema,
    series: Path | None,
) -> str | None:
    """Why a part cannot be counted for ``batch`` of this sweep, or None if it can."""
    if path.is_symlink():
        return "is a symbolic link"
    if path.is_dir():
        raise InputError(
            "is a folder, not a part: remove it and run the same command again",
            source=str(path),
        )
    try:
        table = read_table(path)
    except (OSError, ValueError, pa.ArrowException):
        return "is not a readable Parquet file (truncated or damaged)"
    try:
        record = json.loads((table.schema.metadata or {})[PART_KEY])
    except (KeyError, ValueError):
        return "carries no fingerprint (written by another program or version)"
    if not isinstance(record, dict) or record.get("fingerprint") != fingerprint:
        return "belongs to another sweep (another seed, scenario or design)"
    if record.get("batch") != batch:
        return f"holds batch {record.get('batch')}, not {batch}"
    if not table.schema.equals(table_schema, check_metadata=False):
        return "has other columns than this sweep's"
    if any(table[name].to_pylist() != values for name, values in ids.items()):
        return "holds other runs (points, replicates or seeds) than its batch"
    if frame_digest(table.to_pandas()) != record.get("rows"):
        return "was altered after it was written"
    if series is not None:
        if series.is_symlink() or not series.is_file():
            return f"lacks its series part {series.name}"
        if hashlib.sha256(read_bytes(series)).hexdigest() != record.get("series_sha256"):
            return f"does not match its series part {series.name}"
    return None


@contextmanager
def sweep_lock(folder: Path) -> Iterator[None]:
    """Hold ``folder/.lock`` while a sweep works there; a second process is refused."""
    handle = try_lock(folder / LOCK)
    if handle is None:
        raise InputError(
            "another sweep is running in this folder; wait for it to finish (then run "
            "this command again: it will find the sweep done or resume it), or give "
            "another --out",
            source=str(folder),
        )
    try:
        yield
    finally:
        handle.close()
