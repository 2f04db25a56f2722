"""Where a sweep's runs go: local worker processes, an existing Dask cluster, or Slurm jobs.

Every kind ends in a ``distributed.Client``; what follows is one code path
(:mod:`diffusion_sim.studies.sweep.runner`). Everything this module starts listens on
127.0.0.1 only, unless a Slurm ``interface`` is given for a multi-node cluster.

Slurm options (``--cluster-config FILE``, a TOML file with a ``[slurm]`` table, or
``cluster_options=`` from Python) are the keys of :class:`SlurmOptions`; a key
left out falls back to dask-jobqueue's own configuration (``jobqueue.slurm.*``,
e.g. ``~/.config/dask/jobqueue.yaml``), then to the defaults below.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from diffusion_sim.errors import InputError

Cluster = Literal["local", "slurm"]
LOOPBACK = "127.0.0.1"
NO_PROFILER = {"distributed.worker.profile.enabled": False}
"""Dask's statistical profiler keeps an hour of call trees per worker (~20 kB per run of a
small world): off, so a worker's memory stays flat over a long sweep."""


class SlurmOptions(BaseModel):
    """Slurm jobs that run Dask workers (dask-jobqueue's ``SLURMCluster``); one job, N workers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    jobs: int = Field(1, ge=1, le=10_000, description="Slurm jobs to start")
    cores: int | None = Field(
        None, ge=1, le=1024, description="cores per job (default 1); one worker thread each"
    )
    processes: int | None = Field(
        None, ge=1, le=1024, description="Dask worker processes per job (default: cores)"
    )
    memory: str | None = Field(None, description="memory per job, e.g. '4GiB' (default 2GiB)")
    walltime: str | None = Field(
        None, description="time limit per job, HH:MM:SS (dask-jobqueue's default 00:30:00)"
    )
    queue: str | None = Field(None, description="partition (sbatch -p)")
    account: str | None = Field(None, description="account to charge (sbatch -A)")
    job_extra_directives: list[str] | None = Field(
        None, description="more #SBATCH lines, e.g. ['--qos=long']"
    )
    job_script_prologue: list[str] | None = Field(
        None, description="shell lines before the worker starts, e.g. 'module load python'"
    )
    python: str | None = Field(
        None, description="the workers' Python (default: this one; needs diffusion_sim[sweep])"
    )
    log_directory: str | None = Field(
        None, description="the jobs' output files (default: <results folder>/slurm-logs)"
    )
    local_directory: str | None = Field(None, description="workers' scratch space")
    interface: str | None = Field(
        None,
        description="network interface of scheduler and workers for a multi-node cluster, "
        "e.g. 'ib0' (default: none, everything on 127.0.0.1, one node)",
    )
    start_timeout: float = Field(
        600.0, gt=0, description="seconds to wait for the first worker (jobs may queue)"
    )


def slurm_options(data: dict[str, Any] | SlurmOptions | None, source: str | None = None):
    """Validated Slurm options; a wrong key or value is an :class:`InputError` naming it."""
    if isinstance(data, SlurmOptions):
        return data
    try:
        return SlurmOptions.model_validate(data or {})
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            key = ".".join(str(part) for part in error["loc"]) or "slurm"
            if error["type"] == "extra_forbidden":
                known = ", ".join(SlurmOptions.model_fields)
                problems.append(f"key 'slurm.{key}': unknown; allowed: {known}")
            else:
                problems.append(f"key 'slurm.{key}': {error['msg']}")
        raise InputError("; ".join(problems), source=source) from None


def load_cluster_config(path: str | Path) -> SlurmOptions:
    """Read ``--cluster-config``: a TOML file with a ``[slurm]`` table of :class:`SlurmOptions`."""
    from diffusion_sim.scenario import read_toml_file

    data, _ = read_toml_file(Path(path), kind="cluster configuration")
    unknown = sorted(set(data) - {"slurm"})
    if unknown or not isinstance(data.get("slurm"), dict):
        raise InputError(
            "a cluster configuration holds one table, [slurm]"
            + (f"; unknown: {', '.join(unknown)}" if unknown else ""),
            source=str(path),
        )
    return slurm_options(data["slurm"], source=str(path))


@contextlib.contextmanager
def open_client(
    workers: int | None = None,
    scheduler: str | None = None,
    *,
    cluster: Cluster = "local",
    cluster_options: dict[str, Any] | SlurmOptions | None = None,
    log_directory: Path | None = None,
) -> Iterator[Any]:
    """A Dask client: of an existing cluster, of local worker processes, or of Slurm jobs."""
    if scheduler:
        with _existing(scheduler) as client:
            yield client
    elif cluster == "slurm":
        options = slurm_options(cluster_options)
        with _slurm(options, log_directory) as client:
            yield client
    elif cluster == "local":
        with _local(workers) as client:
            yield client
    else:
        raise InputError(f"unknown cluster {cluster!r}; allowed: 'local', 'slurm'")


@contextlib.contextmanager
def _existing(scheduler: str) -> Iterator[Any]:
    from dask.distributed import Client

    try:
        client = Client(scheduler, timeout="30s")
    except OSError as exc:
        raise InputError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
    try:
        client.wait_for_workers(1, timeout=60)
        yield client
    finally:
        client.close()


@contextlib.contextmanager
def _local(workers: int | None) -> Iterator[Any]:
    import dask
    from dask.distributed import Client, LocalCluster

    with dask.config.set(NO_PROFILER):
        cluster = LocalCluster(
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            host=LOOPBACK,
            dashboard_address=f"{LOOPBACK}:0",  # the HTTP endpoint always runs: keep it local
            silence_logs=logging.ERROR,
        )
    client = Client(cluster)
    try:
        from diffusion_sim.studies.sweep._worker import IgnoreInterrupt, QuietWhileClosing

        client.register_plugin(IgnoreInterrupt())
        client.register_plugin(QuietWhileClosing())
        yield client
    finally:
        client.close()
        cluster.close()


def slurm_cluster_kwargs(options: SlurmOptions, log_directory: Path | None) -> dict[str, Any]:
    """``SLURMCluster`` keyword arguments: given options, then jobqueue's config, then defaults."""
    import dask

    def configured(key: str) -> Any:
        return dask.config.get(f"jobqueue.slurm.{key}", None)

    given = options.model_dump(exclude_none=True, exclude={"jobs", "start_timeout", "interface"})
    kwargs: dict[str, Any] = dict(given)
    if "cores" not in kwargs and configured("cores") is None:
        kwargs["cores"] = 1
    if "processes" not in kwargs and configured("processes") is None:
        kwargs["processes"] = kwargs.get("cores") or configured("cores") or 1
    if "memory" not in kwargs and configured("memory") is None:
        kwargs["memory"] = "2GiB"
    if "python" not in kwargs and configured("python") is None:
        kwargs["python"] = sys.executable
    if "log_directory" not in kwargs and configured("log-directory") is None and log_directory:
        kwargs["log_directory"] = str(log_directory)
    if configured("name") in (None, "dask-worker"):
        kwargs["job_name"] = "diffusion-sim"
    prologue = kwargs.pop("job_script_prologue", None) or configured("job-script-prologue") or []
    kwargs["job_script_prologue"] = [
        *prologue,
        "export DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False",
    ]
    extra = list(configured("worker-extra-args") or [])
    if options.interface:
        kwargs["interface"] = options.interface
        kwargs["scheduler_options"] = {
            "interface": options.interface,
            "dashboard_address": f"{LOOPBACK}:0",
        }
    else:
        extra += ["--host", LOOPBACK, "--no-dashboard", "--dashboard-address", f"{LOOPBACK}:0"]
        kwargs["scheduler_options"] = {"host": LOOPBACK, "dashboard_address": f"{LOOPBACK}:0"}
    kwargs["worker_extra_args"] = extra
    return kwargs


@contextlib.contextmanager
def _slurm(options: SlurmOptions, log_directory: Path | None) -> Iterator[Any]:
    try:
        import dask
        from dask_jobqueue import SLURMCluster
    except ImportError:
        raise InputError(
            "--cluster slurm needs dask-jobqueue: pip install 'diffusion_sim[sweep]'"
        ) from None
    from dask.distributed import Client

    kwargs = slurm_cluster_kwargs(options, log_directory)
    if kwargs.get("log_directory"):
        Path(kwargs["log_directory"]).mkdir(parents=True, exist_ok=True)
    with dask.config.set(NO_PROFILER):
        try:
            cluster = SLURMCluster(silence_logs=logging.ERROR, **kwargs)
        except (ValueError, FileNotFoundError) as exc:
            raise InputError(f"cannot set up the Slurm cluster: {exc}") from None
    client = Client(cluster)
    try:
        try:
            cluster.scale(jobs=options.jobs)
            client.wait_for_workers(1, timeout=options.start_timeout)
        except (TimeoutError, OSError, RuntimeError) as exc:
            hint = (
                ""
                if options.interface
                else "; on a multi-node cluster set 'interface' (e.g. 'ib0'): by default "
                "scheduler and workers use 127.0.0.1, which reaches one node only"
            )
            raise InputError(
                f"no Slurm worker connected within {options.start_timeout:.0f} s ({exc}); "
                f"check squeue and the job logs in {kwargs.get('log_directory', '.')}{hint}"
            ) from None
        yield client
    finally:
        client.close()
        cluster.close()  # cancels the jobs (scancel)
