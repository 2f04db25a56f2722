"""Sweeps on Slurm: Dask workers as Slurm jobs (dask-jobqueue) on a real single-node Slurm.

The ``slurm`` tests start Debian's slurmctld, slurmd and munged on loopback
(tests/slurm_support.py) and skip, saying why, where they are missing or not root.
The first tests check the options and flags without Slurm.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from diffusion_sim.errors import InputError
from diffusion_sim.studies.sweep.cluster import (
    load_cluster_config,
    slurm_cluster_kwargs,
    slurm_options,
)
from diffusion_sim.studies.sweep.runner import MANIFEST, read_results, run_sweep
from diffusion_sim.studies.sweep.spec import load_sweep
from tests.conftest import ROOT, SCENARIOS
from tests.slurm_support import slurm_cluster

SWEEP = f"""
name = "slurm_test"
scenario = "{SCENARIOS / "embedded.toml"}"
seed = 5
replicates = 2
runs_per_task = 3
outcomes = ["share_cities", "share_laggards", "time_to_50pct", "adopters_vertical"]

[constants]
"world.n_cities" = 400
"run.steps" = 30

[design]
method = "grid"
levels = 4

[[uncertainties]]
key = "mechanisms.horizontal.thresholds.mean"
name = "threshold"
range = [0.1, 0.5]

[[uncertainties]]
key = "world.ladder.laggard_cutoff"
name = "laggard_cutoff"
values = [0.2, 0.5]
"""
TOTAL_RUNS = 4 * 2 * 2
JOBS = {"jobs": 2, "cores": 1, "memory": "1GiB", "walltime": "00:20:00", "start_timeout": 300}


# ------------------------------------------------------------- without Slurm


def test_slurm_options_are_checked_and_name_the_key(tmp_path):
    with pytest.raises(InputError, match=r"slurm\.jobz': unknown; allowed: jobs"):
        slurm_options({"jobz": 2})
    with pytest.raises(InputError, match=r"slurm\.cores'"):
        slurm_options({"cores": 0})
    config = tmp_path / "cluster.toml"
    config.write_text('[slurm]\njobs = 3\nqueue = "long"\nmemory = "8GiB"\n')
    assert load_cluster_config(config).jobs == 3
    config.write_text("jobs = 3\n")
    with pytest.raises(InputError, match=r"one table, \[slurm\]"):
        load_cluster_config(config)


def test_slurm_scheduler_and_workers_are_told_to_use_loopback():
    kwargs = slurm_cluster_kwargs(slurm_options({"jobs": 2}), Path("logs"))
    assert kwargs["scheduler_options"] == {"host": "127.0.0.1", "dashboard_address": "127.0.0.1:0"}
    args = kwargs["worker_extra_args"]
    assert args[args.index("--host") + 1] == "127.0.0.1"
    assert args[args.index("--dashboard-address") + 1] == "127.0.0.1:0"
    assert kwargs["python"] == sys.executable and kwargs["log_directory"] == "logs"
    multi = slurm_cluster_kwargs(slurm_options({"interface": "ib0"}), None)
    assert multi["interface"] == "ib0" and "--host" not in multi["worker_extra_args"]


def test_conflicting_cluster_flags_exit_2_before_any_work(tmp_path):
    sweep = tmp_path / "s.toml"
    sweep.write_text(SWEEP)
    for flags, message in (
        (["--cluster", "slurm", "--workers", "2"], "--workers counts local processes"),
        (["--cluster-config", str(sweep)], "--cluster-config is for --cluster slurm"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "diffusion_sim", "sweep", str(sweep), *flags],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 2 and message in done.stderr, done.stderr
        assert "Traceback" not in done.stderr


# ---------------------------------------------------------------- on Slurm


@pytest.fixture(scope="module")
def slurm(tmp_path_factory):
    """A running single-node Slurm; SLURM_CONF points this process's sbatch at it."""
    with slurm_cluster(tmp_path_factory.mktemp("slurm")) as cluster:
        before = os.environ.get("SLURM_CONF")
        os.environ["SLURM_CONF"] = str(cluster.conf)
        try:
            yield cluster
        finally:
            if before is None:
                os.environ.pop("SLURM_CONF", None)
            else:
                os.environ["SLURM_CONF"] = before


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("slurm_sweep") / "slurm_test.toml"
    path.write_text(SWEEP)
    return path


@pytest.fixture(scope="module")
def local_table(sweep_file, tmp_path_factory) -> pd.DataFrame:
    folder = tmp_path_factory.mktemp("local") / "out"
    report = run_sweep(load_sweep(sweep_file), folder, workers=1, progress=False)
    assert report.complete and report.runs_done == TOTAL_RUNS
    return read_results(folder)


@pytest.mark.slurm
def test_the_sweep_command_on_slurm_gives_the_local_table(slurm, sweep_file, local_table, tmp_path):
    config = tmp_path / "cluster.toml"
    config.write_text(
        "[slurm]\n" + "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in JOBS.items())
    )
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "diffusion_sim", "sweep", str(sweep_file), "--out", str(out)]
        + ["--cluster", "slurm", "--cluster-config", str(config), "--no-progress"],
        cwd=ROOT,
        env=slurm.env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 Slurm job(s)" in done.stdout
    pd.testing.assert_frame_equal(read_results(out), local_table)
    assert list((out / "slurm-logs").glob("*.err")), "the jobs' logs go beside the results"
    assert slurm.run("squeue", "--noheader").strip() == ""  # the jobs are cancelled


@pytest.mark.slurm
def test_a_sweep_resumes_on_slurm_without_redoing_finished_runs(
    slurm, sweep_file, local_table, tmp_path
):
    from diffusion_sim.studies.sweep._worker import run_batch
    from diffusion_sim.studies.sweep.parts import PARTS, runs_of, schema, write_part
    from diffusion_sim.studies.sweep.runner import prepare, worker_context

    # Three batches done before, as by an interrupted local session.
    sweep = load_sweep(sweep_file)
    out = tmp_path / "out"
    plan = prepare(sweep, out)
    (out / PARTS).mkdir()
    context = worker_context(plan)
    for batch in range(3):
        write_part(
            plan, batch, run_batch(context, runs_of(plan, batch)), schema(plan, with_timing=True)
        )

    report = run_sweep(sweep, out, cluster="slurm", cluster_options=JOBS, progress=False)
    assert report.complete and report.workers >= 1
    assert report.runs_before == 9 and report.runs_done == TOTAL_RUNS - 9
    assert (out / MANIFEST).is_file()
    pd.testing.assert_frame_equal(read_results(out), local_table)


@pytest.mark.slurm
def test_slurm_daemons_scheduler_and_workers_listen_on_loopback_only(slurm, tmp_path):
    import psutil

    from diffusion_sim.studies.sweep.cluster import open_client

    with open_client(cluster="slurm", cluster_options=JOBS, log_directory=tmp_path) as client:
        client.wait_for_workers(2, timeout=300)
        workers = list(client.run(os.getpid).values())
        nannies = [psutil.Process(pid).ppid() for pid in workers]
        pids = {os.getpid(), *workers, *nannies, *slurm.pids.values()}
        listening = {
            (pid, connection.laddr.ip)
            for pid in pids
            for connection in psutil.Process(pid).net_connections(kind="inet")
            if connection.status == psutil.CONN_LISTEN
        }
    assert {ip for _, ip in listening} == {"127.0.0.1"}
    assert {pid for pid, _ in listening} >= {os.getpid(), *workers, slurm.pids["slurmctld"]}
