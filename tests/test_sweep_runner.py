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
from diffusion_sim.studies.sweep.runner import MANIFEST, PARTS, read_results, run_sweep
from diffusion_sim.studies.sweep.spec import load_sweep
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

    from diffusion_sim.studies.sweep.runner import open_client

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

    # Ctrl-C: the CLI stops, keeps what is done and says how to go on. Signals land at
    # whatever moment the machine's speed gives; a sweep that finished first is checked
    # as finished (the invariants below hold at every moment).
    process = _cli(sweep_file, out)
    _wait_for_parts(out, 2, process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    kept = len(list((out / PARTS).glob("part-*.parquet")))
    if not (out / MANIFEST).exists():
        assert process.returncode == 130, stderr
        assert "run the same command again" in stderr
        assert 2 <= kept < n_batches

        # A killed process (and its workers) at some later point.
        process = _cli(sweep_file, out)
        _wait_for_parts(out, min(kept + 2, n_batches), process)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    # The same command finishes only the rest.
    unfinished = not (out / MANIFEST).exists()
    done = subprocess.run(
        [sys.executable, "-m", "diffusion_sim", "sweep", str(sweep_file)]
        + ["--workers", "2", "--out", str(out), "--no-progress"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / MANIFEST).read_text())
    if unfinished:
        assert "resuming" in done.stderr
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


@pytest.mark.parametrize(
    ("name", "engine"),
    [
        ("embedded", "vectorized"),
        ("vertical", "vectorized"),
        ("us_paris_withdrawal", "vectorized"),
        ("club_exclusive", "vectorized"),
        ("hierarchical", "agents"),
    ],
)
def test_a_worker_run_gives_the_outcomes_of_simulate(name, engine):
    # The worker shares tie matrices between runs and computes outcomes from the change
    # events; every number must still be simulate(...).outcomes()'s, run after run.
    import math

    from diffusion_sim.studies.sweep._worker import WorkerState, run_one

    base = ds.load_scenario(SCENARIOS / f"{name}.toml")
    size = 150 if engine == "agents" else 500
    base = base.with_overrides(
        {"world.n_cities": size, "world.seed": 5, "run.steps": min(base.run.steps, 60)}
    )
    state = WorkerState(base)
    variations = [
        {},
        {"mechanisms.horizontal.thresholds.mean": 0.2},
        {"mechanisms.horizontal.rule": "contagion", "mechanisms.horizontal.strength": 0.3},
        {"mechanisms.horizontal.prestige_alpha": 0.2},
        {},
    ]
    for seed, overrides in enumerate(variations):
        fast = run_one(state, overrides, seed, engine)
        full = ds.simulate(base.with_overrides(overrides), seed, engine=engine).outcomes()
        assert list(fast) == list(full)
        for key, value in full.items():
            assert fast[key] == value or (math.isnan(value) and math.isnan(fast[key])), key
    assert len(state.ties) == 3  # one tie cache per set of horizontal weights


def test_the_automatic_batch_size_suits_a_100000_run_sweep(tmp_path):
    from diffusion_sim.studies.sweep.parts import MAX_TASKS, MIN_TASKS, runs_of
    from diffusion_sim.studies.sweep.runner import prepare
    from diffusion_sim.studies.sweep.spec import sweep_from_dict

    data = {
        "name": "big",
        "scenario": str(SCENARIOS / "embedded.toml"),
        "seed": 3,
        "constants": {"world.n_cities": 200, "run.steps": 12},
        "uncertainties": [
            {"key": "mechanisms.horizontal.thresholds.mean", "range": [0.1, 0.4]},
            {"key": "world.n_cities", "range": [100, 300], "name": "cities"},
        ],
        "design": {"method": "random", "samples": 50_000},
        "replicates": 2,
    }
    data["constants"].pop("world.n_cities")
    plan = prepare(sweep_from_dict(data), tmp_path / "big")
    assert plan.total_runs == 100_000
    assert 1 < plan.runs_per_task <= plan.total_runs // MIN_TASKS
    assert MIN_TASKS <= plan.n_batches <= MAX_TASKS
    last = runs_of(plan, plan.n_batches - 1)
    assert (last[-1][0], last[-1][1]) == (49_999, 1)
    point, replicate, _, overrides = runs_of(plan, 3)[0]
    assert point * 2 + replicate == 3 * plan.runs_per_task
    assert isinstance(overrides["world.n_cities"], int)  # an int column stays int
    assert overrides["world.n_cities"] == plan.points.values["cities"].iloc[point]


# ------------------------------------------------------------ per-step series (issue 15)

SERIES = ("share_cities", "adopters", "new_horizontal", "governments_global")
SERIES_EVERY = 3
SERIES_SWEEP = SWEEP.replace(
    "runs_per_task = 2\n",
    f"runs_per_task = 2\nseries = {list(SERIES)!r}\nseries_every = {SERIES_EVERY}\n".replace(
        "'", '"'
    ),
)


@pytest.fixture(scope="module")
def series_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("series_sweep") / "series_test.toml"
    path.write_text(SERIES_SWEEP)
    return path


@pytest.fixture(scope="module")
def with_series(series_file, tmp_path_factory) -> Path:
    """The series sweep run straight through on one local worker: its folder."""
    folder = tmp_path_factory.mktemp("with_series") / "out"
    report = run_sweep(load_sweep(series_file), folder, workers=1, progress=False)
    assert report.complete
    return folder


def test_kept_series_are_simulates_timeseries_every_kth_step(series_file, straight, with_series):
    from diffusion_sim.studies.sweep.series import read_series

    sweep = load_sweep(series_file)
    results = read_results(with_series)
    # Keeping series changes no outcome (the seeds and batches are those of `straight`).
    pd.testing.assert_frame_equal(results, straight)
    series = read_series(with_series)
    assert list(series.columns) == ["point", "replicate", "run", "step", *SERIES]
    ok = results[results["status"] == "ok"]
    # Failed runs keep no series; every ok run keeps steps 0, 3, ..., 39.
    assert series.groupby("run").size().to_dict() == {
        p * REPLICATES + r: 14 for p, r in zip(ok["point"], ok["replicate"], strict=True)
    }
    for row in ok.itertuples(index=False):
        scenario = sweep.base.with_overrides(
            {
                "mechanisms.horizontal.thresholds.mean": float(row.threshold),
                "world.ladder.laggard_cutoff": float(row.laggard_cutoff),
                "mechanisms.hierarchical.enabled": bool(row.mandates),
            }
        )
        expected = ds.simulate(scenario, seed=int(row.seed)).timeseries
        expected = expected[expected["step"] % SERIES_EVERY == 0].reset_index(drop=True)
        kept = series[(series["point"] == row.point) & (series["replicate"] == row.replicate)]
        kept = kept.reset_index(drop=True)
        assert (kept["run"] == row.point * REPLICATES + row.replicate).all()
        for name in ("step", *SERIES[:3]):  # bit for bit, dtypes included
            pd.testing.assert_series_equal(kept[name], expected[name], check_exact=True)
        assert "governments_global" not in expected and kept["governments_global"].isna().all()


def test_a_resumed_series_sweep_gives_the_same_series(series_file, with_series, tmp_path):
    # An interruption made deterministic: every batch runs but the sweep is not finished;
    # then half the batches are lost, some as a series part whose outcome part never got
    # written (a kill between the two) or a half-written temporary file.
    from diffusion_sim.studies.sweep import runner
    from diffusion_sim.studies.sweep.series import SERIES as SERIES_DIR
    from diffusion_sim.studies.sweep.series import SERIES_RESULTS, read_series

    out = tmp_path / "out"
    sweep = load_sweep(series_file)
    patch = pytest.MonkeyPatch()
    patch.setattr(runner, "finalize", lambda plan, report: None)
    try:
        run_sweep(sweep, out, workers=1, progress=False)
    finally:
        patch.undo()
    assert not (out / MANIFEST).exists()
    parts = sorted((out / PARTS).glob("part-*.parquet"))
    assert len(parts) == TOTAL_RUNS // 2
    for part in parts[::2]:
        part.unlink()  # its series part stays behind, stale
    (out / SERIES_DIR / parts[1].name).unlink()  # a batch lost whole
    (out / PARTS / parts[1].name).unlink()
    (out / SERIES_DIR / ".part-000003.parquet.tmp").write_bytes(b"half a file")
    again = run_sweep(sweep, out, workers=2, progress=False)
    assert again.complete and again.runs_before == TOTAL_RUNS - 2 * (len(parts[::2]) + 1)
    assert not (out / SERIES_DIR).exists() and (out / SERIES_RESULTS).is_file()
    pd.testing.assert_frame_equal(read_series(out), read_series(with_series))
    pd.testing.assert_frame_equal(read_results(out), read_results(with_series))


def test_csv_copies_equal_the_parquet_tables(series_file, with_series, tmp_path):
    import shutil

    from diffusion_sim.studies.sweep.series import read_series

    out = tmp_path / "out"
    shutil.copytree(with_series, out)
    done = subprocess.run(
        [sys.executable, "-m", "diffusion_sim", "sweep", str(series_file)]
        + ["--out", str(out), "--no-progress", "--csv"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "already complete" in done.stderr and "results.csv" in done.stdout
    for csv, table in (("results.csv", read_results(out)), ("series.csv", read_series(out))):
        copy = pd.read_csv(out / csv)
        assert list(copy.columns) == list(table.columns)
        pd.testing.assert_frame_equal(copy, table, check_exact=True, check_dtype=False)
        for column in table.columns:  # every value, NaN where the table has none
            assert copy[column].isna().equals(table[column].isna()), column


def test_an_altered_series_table_is_refused_by_read_and_csv(with_series, tmp_path):
    import shutil

    from diffusion_sim.errors import InputError
    from diffusion_sim.studies.sweep.series import read_series, write_csv

    out = tmp_path / "out"
    shutil.copytree(with_series, out)
    series = read_series(out)
    series.loc[0, "step"] += 1  # whole and readable: only the manifest's digest can tell
    series.to_parquet(out / "series.parquet", index=False)
    with pytest.raises(InputError, match=r"series\.parquet.*altered since the sweep finished"):
        read_series(out)
    with pytest.raises(InputError, match=r"series\.parquet.*altered since the sweep finished"):
        write_csv(out)
    assert not (out / "series.csv").exists() and not list(out.glob(".*.tmp"))


def test_a_sweep_without_series_writes_none_and_keeps_its_fingerprint(tmp_path):
    import hashlib

    from diffusion_sim.studies.sweep.parts import fingerprint
    from diffusion_sim.studies.sweep.spec import sweep_from_dict

    data = {
        "name": "no_series",
        "scenario": str(SCENARIOS / "embedded.toml"),
        "seed": 2,
        "constants": {"world.n_cities": 100, "run.steps": 5},
        "uncertainties": [{"key": "mechanisms.horizontal.thresholds.mean", "values": [0.2]}],
        "replicates": 2,
    }
    sweep = sweep_from_dict(data)
    report = run_sweep(sweep, tmp_path / "out", workers=1, progress=False)
    assert report.complete
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "design.parquet",
        "manifest.json",
        "results.parquet",
        "sweep.json",
    ]
    assert json.loads((tmp_path / "out" / MANIFEST).read_text())["series_file"] is None
    # Folders written before series and windows existed resume: their fingerprint is
    # unchanged ...
    spec = sweep.spec.model_dump(mode="json")
    del spec["series"], spec["series_every"], spec["at"], spec["between"]
    old = json.dumps({"spec": spec, "base": sweep.base_dict}, sort_keys=True, default=str)
    assert fingerprint(sweep) == hashlib.sha256(old.encode()).hexdigest()
    # ... and a sweep file that starts keeping series is a different sweep.
    kept = sweep_from_dict({**data, "series": ["adopters"]})
    assert fingerprint(kept) != fingerprint(sweep)
    every = sweep_from_dict({**data, "series": ["adopters"], "series_every": 2})
    assert fingerprint(every) != fingerprint(kept)
    assert fingerprint(sweep_from_dict({**data, "at": 3})) != fingerprint(sweep)


def _heartbeat_filter_on_worker(dask_worker) -> tuple[bool, bool]:
    """(is the filter installed, does a failed-heartbeat record pass) in this worker now."""
    import logging

    from diffusion_sim.studies.sweep._worker import HEARTBEAT_FAILED, HeartbeatAtClose

    logger = logging.getLogger("distributed.worker")
    record = logger.makeRecord(logger.name, logging.ERROR, __file__, 0, HEARTBEAT_FAILED, (), None)
    installed = any(isinstance(f, HeartbeatAtClose) for f in logger.filters)
    return installed, bool(logger.filter(record))


def test_a_local_workers_heartbeat_error_is_dropped_only_while_it_closes():
    import logging
    from types import SimpleNamespace

    from distributed.core import Status

    from diffusion_sim.studies.sweep._worker import HEARTBEAT_FAILED, HeartbeatAtClose
    from diffusion_sim.studies.sweep.runner import open_client

    with open_client(workers=1) as client:  # installed on the real worker, which is running
        assert list(client.run(_heartbeat_filter_on_worker).values()) == [(True, True)]
    record = logging.makeLogRecord({"msg": HEARTBEAT_FAILED + ".", "levelno": logging.ERROR})
    other = logging.makeLogRecord({"msg": "Unexpected exception during heartbeat."})
    for status, passes in [(Status.running, True), (Status.closing, False), (Status.closed, False)]:
        quiet = HeartbeatAtClose(SimpleNamespace(status=status))
        assert quiet.filter(record) is passes, status
        assert quiet.filter(other) is True
