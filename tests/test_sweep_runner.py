"""Running sweeps for real: a Dask cluster of separate processes, kills, resumes, failures.

One small grid (16 points x 3 replicates on a 1,500-city world, runs long enough
to interrupt mid-sweep) serves every test; a quarter of its points are invalid
(laggard_cutoff 0.5 above leader_cutoff 0.42) and must be recorded as failures
while the rest complete.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import diffusion_sim as ds
from diffusion_sim.sweep.runner import MANIFEST, PARTS, read_results, run_sweep
from diffusion_sim.sweep.spec import load_sweep
from tests.conftest import ROOT, SCENARIOS

SWEEP = f"""
name = "runner_test"
scenario = "{SCENARIOS / "embedded.toml"}"
seed = 11
replicates = 3
runs_per_task = 2
outcomes = ["share_cities", "share_laggards", "time_to_50pct", "adopters_horizontal"]

[constants]
"world.n_cities" = 1500
"run.steps" = 40

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

[[levers]]
key = "mechanisms.hierarchical.enabled"
name = "mandates"
values = [true, false]
"""
REPLICATES = 3
TOTAL_RUNS = 4 * 2 * 2 * REPLICATES


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sweep") / "runner_test.toml"
    path.write_text(SWEEP)
    return path


@pytest.fixture(scope="module")
def straight(sweep_file, tmp_path_factory) -> pd.DataFrame:
    """The sweep run straight through on one local worker."""
    folder = tmp_path_factory.mktemp("straight") / "out"
    report = run_sweep(load_sweep(sweep_file), folder, workers=1, progress=False)
    assert report.complete and report.runs_done == TOTAL_RUNS
    return read_results(folder)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


# Without it the scheduler's HTTP server (even with --no-dashboard) listens on 0.0.0.0:8787
# and each worker's on 0.0.0.0 at a random port.
LOOPBACK_HTTP = ["--dashboard-address", "127.0.0.1:0"]
CLUSTER_PIDS: list[int] = []


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """A Dask scheduler and two workers, each its own process, on 127.0.0.1."""
    from dask.distributed import Client

    folder = tmp_path_factory.mktemp("dask")
    dask = str(Path(sys.executable).with_name("dask"))
    scheduler_file = folder / "scheduler.json"
    processes = []
    log = open(folder / "cluster.log", "w")  # closed at teardown
    try:
        processes.append(
            subprocess.Popen(
                [dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"]
                + LOOPBACK_HTTP
                + ["--scheduler-file", str(scheduler_file)],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        deadline = time.monotonic() + 300  # a bound for a stuck start, not a timing check
        while not scheduler_file.is_file() and time.monotonic() < deadline:
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        for _ in range(2):
            processes.append(
                subprocess.Popen(
                    [dask, "worker", address, "--nworkers", "1", "--nthreads", "1"]
                    + ["--no-nanny", "--host", "127.0.0.1", "--no-dashboard"]
                    + LOOPBACK_HTTP,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=ROOT,
                    start_new_session=True,
                )
            )
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=300)
            assert len(client.scheduler_info()["workers"]) == 2
        CLUSTER_PIDS[:] = [p.pid for p in processes]
        yield address
    finally:
        for process in reversed(processes):
            _stop(process)
        log.close()


def test_the_cluster_listens_on_loopback_only(dask_cluster):
    import psutil

    addresses = {
        connection.laddr.ip
        for pid in CLUSTER_PIDS
        for connection in psutil.Process(pid).net_connections(kind="inet")
        if connection.status == psutil.CONN_LISTEN
    }
    assert addresses == {"127.0.0.1"}


def test_a_local_cluster_listens_on_loopback_only():
    import psutil

    from diffusion_sim.sweep.runner import open_client

    with open_client(workers=2) as client:
        pids = [psutil.Process().pid]
        pids += list(client.run(os.getpid).values())
        pids += [psutil.Process(pid).ppid() for pid in pids[1:]]  # the nannies
        addresses = {
            connection.laddr.ip
            for pid in set(pids)
            for connection in psutil.Process(pid).net_connections(kind="inet")
            if connection.status == psutil.CONN_LISTEN
        }
    assert addresses == {"127.0.0.1"}


def test_a_cluster_of_two_worker_processes_gives_the_local_table(
    dask_cluster, sweep_file, straight, tmp_path
):
    # Other batches (5 runs per task) on other workers: seeds and table do not change.
    sweep = load_sweep(sweep_file)
    rebatched = type(sweep)(
        spec=sweep.spec.model_copy(update={"runs_per_task": 5}),
        base=sweep.base,
        params=sweep.params,
    )
    report = run_sweep(rebatched, tmp_path / "out", scheduler=dask_cluster, progress=False)
    assert report.complete and report.workers == 2
    pd.testing.assert_frame_equal(read_results(tmp_path / "out"), straight)


def test_the_table_is_tidy_and_failing_points_are_recorded(straight):
    table = straight
    assert len(table) == TOTAL_RUNS
    assert list(table[["point", "replicate"]].itertuples(index=False, name=None)) == [
        (p, r) for p in range(TOTAL_RUNS // REPLICATES) for r in range(REPLICATES)
    ]
    assert list(table.columns[:6]) == [
        "point",
        "replicate",
        "seed",
        "threshold",
        "laggard_cutoff",
        "mandates",
    ]
    bad = table["laggard_cutoff"] == 0.5
    assert (table.loc[bad, "status"] == "error").all()
    assert table.loc[bad, "error"].str.contains("laggard_cutoff must not exceed").all()
    assert table.loc[bad, "share_cities"].isna().all()
    good = table[~bad]
    assert (good["status"] == "ok").all() and good["error"].isna().all()
    assert good["share_cities"].between(0, 1).all()
    assert good["share_cities"].nunique() > 4  # the runs really differ
    assert good["seed"].nunique() == len(good)


def test_a_row_is_repeated_by_simulate_with_its_seed(sweep_file, straight):
    sweep = load_sweep(sweep_file)
    row = straight[straight["status"] == "ok"].iloc[5]
    scenario = sweep.base.with_overrides(
        {
            "mechanisms.horizontal.thresholds.mean": float(row["threshold"]),
            "world.ladder.laggard_cutoff": float(row["laggard_cutoff"]),
            "mechanisms.hierarchical.enabled": bool(row["mandates"]),
        }
    )
    again = ds.simulate(scenario, seed=int(row["seed"])).outcomes()
    for name in ("share_cities", "share_laggards", "adopters_horizontal"):
        assert again[name] == row[name]


def _cli(sweep_file: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "diffusion_sim", "sweep", str(sweep_file)]
        + ["--workers", "2", "--out", str(out), "--no-progress"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _wait_for_parts(out: Path, at_least: int, process: subprocess.Popen) -> int:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        parts = len(list((out / PARTS).glob("part-*.parquet"))) if (out / PARTS).is_dir() else 0
        if parts >= at_least:
            return parts
        assert process.poll() is None, process.communicate()
        time.sleep(0.02)
    raise AssertionError("no parts appeared")


def test_interrupted_and_killed_sweeps_resume_to_the_same_table(sweep_file, straight, tmp_path):
    out = tmp_path / "out"
    n_batches = TOTAL_RUNS // 2

    # Ctrl-C: the CLI stops, keeps what is done and says how to go on.
    process = _cli(sweep_file, out)
    _wait_for_parts(out, 2, process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "run the same command again" in stderr
    kept = len(list((out / PARTS).glob("part-*.parquet")))
    assert 2 <= kept < n_batches and not (out / MANIFEST).exists()

    # A killed process (and its workers) at some later point.
    process = _cli(sweep_file, out)
    _wait_for_parts(out, kept + 2, process)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert not (out / MANIFEST).exists()

    # The same command finishes only the rest.
    done = subprocess.run(
        [sys.executable, "-m", "diffusion_sim", "sweep", str(sweep_file)]
        + ["--workers", "2", "--out", str(out), "--no-progress"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "resuming" in done.stderr
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["last_session"]["runs"] < TOTAL_RUNS
    assert manifest["runs_failed"] == TOTAL_RUNS // 2
    # Two workers, three sessions: the same table as one worker straight through.
    pd.testing.assert_frame_equal(read_results(out), straight)


def test_a_changed_sweep_file_does_not_resume_into_old_results(sweep_file, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "sweep.json").write_text(json.dumps({"fingerprint": "something else"}))
    changed = tmp_path / "changed.toml"
    changed.write_text(SWEEP.replace("seed = 11", "seed = 12"))
    done = subprocess.run(
        [sys.executable, "-m", "diffusion_sim", "sweep", str(changed), "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "different sweep" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_killed_worker_does_not_stop_the_sweep(sweep_file, straight, tmp_path):
    import psutil

    out = tmp_path / "out"
    process = _cli(sweep_file, out)
    _wait_for_parts(out, 2, process)
    children = psutil.Process(process.pid).children(recursive=True)
    workers = [
        c
        for c in children
        if "spawn_main" in " ".join(c.cmdline()) and "resource_tracker" not in c.cmdline()[-1]
    ]
    assert len(workers) == 2
    workers[0].send_signal(signal.SIGKILL)  # Dask reschedules its tasks; the nanny restarts it
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr
    pd.testing.assert_frame_equal(read_results(out), straight)
