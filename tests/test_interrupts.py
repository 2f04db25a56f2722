"""Nothing finished is lost: ensembles stream replicates to disk and resume exactly.

Signals arrive at pseudo-random moments (a seeded ``random.Random``), so the
moments differ from machine to machine with its load; every assertion is an
invariant that holds at any moment: what was on disk before the signal is on
disk after it, nothing unfinished has a manifest, and the rerun of the same
command gives the tables of a run straight through.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numba
import pandas as pd
import pytest
from numba.core import event as numba_events

import diffusion_sim as ds
from diffusion_sim.ensemble_folder import INCOMPLETE, finished_replicates, run_ensemble
from diffusion_sim.mechanisms import compiling
from diffusion_sim.record.storage import clean_stale_staging, reserve_folder, staged
from tests.conftest import ROOT

REPLICATES = 12
RUN = [
    "run",
    "embedded",
    "--replicates",
    str(REPLICATES),
    "--steps",
    "30",
    "--set",
    "world.n_cities=1500",
    "--seed",
    "4",
]


def start(out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "diffusion_sim", *RUN, "--out", str(out), *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "diffusion_sim", *RUN, "--out", str(out), *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def the_folder(out: Path) -> Path | None:
    folders = [p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert len(folders) <= 1, folders
    return folders[0] if folders else None


@pytest.fixture(scope="module")
def straight(tmp_path_factory) -> Path:
    """The same ensemble run straight through, never interrupted."""
    out = tmp_path_factory.mktemp("straight")
    done = finish(out)
    assert done.returncode == 0, done.stderr
    return the_folder(out)


def tables(folder: Path) -> dict[str, pd.DataFrame]:
    names = ("timeseries", "band", "summaries")
    return {name: pd.read_parquet(folder / f"{name}.parquet") for name in names}


def wait_for_folder(process: subprocess.Popen, out: Path, deadline_s: float = 120) -> Path:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline and process.poll() is None:
        folder = the_folder(out)
        if folder is not None and (folder / INCOMPLETE).exists():
            return folder
        time.sleep(0.02)
    pytest.fail("the ensemble never created its folder")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGKILL], ids=["sigint", "sigkill"])
@pytest.mark.parametrize("moment", range(3))
def test_a_signal_at_any_moment_keeps_finished_replicates_and_resume_is_exact(
    tmp_path, straight, signum, moment
):
    out = tmp_path / "out"
    out.mkdir()
    process = start(out, "--workers", "2")
    folder = wait_for_folder(process, out)
    time.sleep(random.Random(f"{signum}-{moment}").uniform(0.0, 2.5))
    before = set(finished_replicates(folder, REPLICATES))
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    if signum == signal.SIGINT:
        assert "Traceback" not in stderr
        if not (folder / "manifest.json").exists():  # stopped mid-ensemble: it says so
            assert process.returncode == 130, stderr
            assert "run the same command again" in stderr
            assert stderr.count("interrupted") == 1, stderr  # one line, not two
        # else the signal came after the work was saved: 0 or 130 (or, in the instant
        # between main's return and ignoring SIGINT, the signal itself); nothing is lost
    after = set(finished_replicates(folder, REPLICATES))
    assert before <= after, "a replicate finished before the signal was lost"
    if not (folder / "manifest.json").exists():
        assert (folder / INCOMPLETE).exists(), "an unfinished folder must say so"
    for index in after:  # every replicate on disk is whole
        ds.Result.load(folder / f"replicate-{index:03d}")

    finished_first = (folder / "manifest.json").exists()  # the signal came after the work
    again = finish(out, "--workers", "2")
    assert again.returncode == 0, again.stderr
    if finished_first:  # a finished ensemble is never resumed: the rerun is a new, whole one
        (fresh,) = {p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")} - {
            folder
        }
        for name, table in tables(fresh).items():
            pd.testing.assert_frame_equal(table, tables(straight)[name], obj=name)
    else:
        assert the_folder(out) == folder, "the rerun must resume the same folder"
    assert not (folder / INCOMPLETE).exists()
    assert not list(out.glob(".*.partial")) and not list(folder.glob(".*.partial"))
    for name, table in tables(folder).items():
        pd.testing.assert_frame_equal(table, tables(straight)[name], obj=name)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["complete"] is True and len(manifest["seed"]["replicates"]) == REPLICATES


def test_streamed_ensemble_equals_the_in_memory_ensemble(tmp_path):
    scenario = ds.load_scenario(ROOT / "scenarios" / "horizontal.toml").with_overrides(
        {"world.n_cities": 300, "run.steps": 15, "run.replicates": 4, "run.seed": 11}
    )
    report = run_ensemble(scenario, tmp_path, workers=1)
    in_memory = ds.simulate_ensemble(scenario)
    pd.testing.assert_frame_equal(
        pd.read_parquet(report.folder / "timeseries.parquet"), in_memory.timeseries
    )
    pd.testing.assert_frame_equal(
        pd.read_parquet(report.folder / "summaries.parquet"), in_memory.summaries()
    )
    with_two = run_ensemble(scenario, tmp_path / "two", workers=2)
    for name in ("timeseries", "band", "summaries"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(with_two.folder / f"{name}.parquet"),
            pd.read_parquet(report.folder / f"{name}.parquet"),
        )


def test_a_finished_ensemble_is_not_resumed_but_run_anew(tmp_path):
    scenario = ds.load_scenario(ROOT / "scenarios" / "horizontal.toml").with_overrides(
        {"world.n_cities": 200, "run.steps": 5, "run.replicates": 2}
    )
    first = run_ensemble(scenario, tmp_path, workers=1)
    second = run_ensemble(scenario, tmp_path, workers=1)
    assert first.folder != second.folder and second.done_before == 0
    changed = run_ensemble(scenario.with_overrides({"run.seed": 99}), tmp_path, workers=1)
    assert changed.folder not in (first.folder, second.folder)


def test_two_runs_with_one_name_in_one_second_both_survive(tmp_path):
    names = {reserve_folder(tmp_path, "embedded-20261201-120000") for _ in range(5)}
    assert len(names) == 5 and all(p.is_dir() for p in names)
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "diffusion_sim", "run", "horizontal", "--steps", "5"]
            + ["--set", "world.n_cities=200", "--out", str(tmp_path / "same")],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr
    folders = [p for p in (tmp_path / "same").iterdir() if not p.name.startswith(".")]
    assert len(folders) == 3 and all((p / "manifest.json").is_file() for p in folders)


def test_staging_of_a_killed_writer_is_cleaned_and_a_live_one_kept(tmp_path):
    killed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, sys; from diffusion_sim.record.storage import staged\n"
            f"with staged(__import__('pathlib').Path({str(tmp_path / 'x')!r})):\n"
            "    os.kill(os.getpid(), 9)",
        ],
        cwd=ROOT,
    )
    assert killed.returncode == -signal.SIGKILL
    assert len(list(tmp_path.glob(".x.*.partial"))) == 1
    starting = tmp_path / ".z.killed-before-its-lock.starting"
    starting.mkdir()
    with staged(tmp_path / "y") as live:
        assert starting.is_dir(), "a young .starting folder is left alone"
        an_hour_ago = time.time() - 3600
        os.utime(starting, (an_hour_ago, an_hour_ago))
        removed = clean_stale_staging(tmp_path)
        assert live.is_dir() and live not in removed
        assert not list(tmp_path.glob(".x.*.partial")) and not starting.exists()
    assert (tmp_path / "y").is_dir() and not live.exists()


def test_results_are_never_overwritten(tmp_path):
    scenario = ds.load_scenario(ROOT / "scenarios" / "horizontal.toml").with_overrides(
        {"world.n_cities": 200, "run.steps": 5}
    )
    result = ds.simulate(scenario)
    result.save(tmp_path / "run")
    with pytest.raises(ds.InputError, match="never overwritten"):
        result.save(tmp_path / "run")
    assert (tmp_path / "run" / "manifest.json").is_file()


def interrupted(argv: list[str], moment: str, earliest: float, latest: float) -> tuple[int, str]:
    """``diffusion-sim ARGV`` sent a Ctrl-C at a seeded random moment: (exit code, stderr)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "diffusion_sim", *argv],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(random.Random(moment).uniform(earliest, latest))
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=300)
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    return process.returncode, stderr


@pytest.mark.parametrize("moment", range(8))
def test_a_ctrl_c_as_the_program_starts_is_one_line_exit_130_and_no_debris(tmp_path, moment):
    """From the first modules loading to the save of a short run, any moment.

    A Ctrl-C while pydantic built its models used to end the process by SIGINT
    (exit -2) after the message (cli.forget_interrupt); one during the save left
    an empty results folder.
    """
    out = tmp_path / "out"
    run = ["run", "horizontal", "--steps", "3", "--set", "world.n_cities=100", "--out", str(out)]
    code, stderr = interrupted(run, f"start-{moment}", 0.05, 1.5)
    folders = list(out.iterdir()) if out.exists() else []
    if code == 0:  # the run had finished and saved
        assert len(folders) == 1 and (folders[0] / "manifest.json").exists()
        return
    if code == -signal.SIGINT and stderr == "":
        # On a busy machine the signal can come before the interpreter has started
        # at all: the system's default action ends it, before any code of ours ran.
        assert folders == [], f"an interrupted run left {folders}"
        return
    assert code == 130, stderr
    assert stderr.count("interrupted") == 1, stderr  # one line, whatever the progress bar drew
    assert folders == [], f"an interrupted run left {folders}"


@pytest.mark.parametrize("command", ["calibrate", "forecast"])
@pytest.mark.parametrize("moment", range(2))
def test_an_interrupted_calibration_leaves_no_folder_behind(tmp_path, moment, command):
    """Its results folder is claimed before the fit; a Ctrl-C during the fit gives it back."""
    data = tmp_path / "d.csv"
    rows = [f"City {k},{2000 + k // 12}-{k % 12 + 1:02d}-15" for k in range(40)]
    data.write_text("city,date\n" + "\n".join(rows) + "\n")
    out = tmp_path / "out"
    fit = [command, "horizontal", "--data", str(data), "--method", "point"]
    fit += ["--fit", "mechanisms.horizontal.strength", "--max-evaluations", "60"]
    fit += ["--set", "world.n_cities=400", "--out", str(out)]
    fit += ["--train-until", "2002-06"] if command == "forecast" else []
    code, stderr = interrupted(fit, f"{command}-{moment}", 1.0, 5.0)
    left = list(out.iterdir()) if out.exists() else []
    if code == 0:  # the fit had finished: one whole folder
        assert len(left) == 1 and (left[0] / "manifest.json").exists()
        return
    assert code == 130, stderr
    assert left == [], f"an interrupted calibration left {left}"


def test_an_interrupted_compare_leaves_nothing_that_looks_complete(tmp_path):
    out = tmp_path / "out"
    compare = ["compare", "horizontal", "embedded", "--replicates", "200"]
    compare += ["--set", "world.n_cities=1500", "--out", str(out)]
    code, stderr = interrupted(compare, "compare", 1.0, 4.0)
    assert code == 130, stderr
    left = list(out.rglob("*")) if out.exists() else []
    assert not [p for p in left if p.name == "manifest.json" or p.name.endswith(".partial")]


class _CtrlCWhenCompiling(numba_events.Listener):
    """Sends this process a SIGINT as numba starts compiling (its event API)."""

    def on_start(self, event):
        os.kill(os.getpid(), signal.SIGINT)

    def on_end(self, event):
        pass


def test_a_ctrl_c_is_held_until_numba_has_compiled_then_raised():
    kernel = numba.njit(lambda x: x + 1.0)  # new, so it compiles here
    with numba_events.install_listener("numba:compile", _CtrlCWhenCompiling()):
        with pytest.raises(KeyboardInterrupt):
            compiling.bind(kernel, 1.0)
    assert kernel.signatures, "the compile was broken off by the interrupt"
    assert compiling.bind(kernel, 2.0)(2.0) == 3.0


def test_a_ctrl_c_while_numba_compiles_ends_cleanly(tmp_path, compiled_before_signal=1):
    """The first run compiles the kernels (an empty cache here); Ctrl-C then must still
    give exit 130 and one line, not "Exception ignored" and a broken compile."""
    cache = tmp_path / "numba-cache"
    process = subprocess.Popen(
        [sys.executable, "-m", "diffusion_sim", "run", "embedded", "--steps", "5"]
        + ["--set", "world.n_cities=300", "--out", str(tmp_path / "out")],
        cwd=ROOT,
        env={**os.environ, "NUMBA_CACHE_DIR": str(cache)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 300
    while len(list(cache.rglob("*.nbi"))) < compiled_before_signal and process.poll() is None:
        assert time.monotonic() < deadline, "numba never wrote its cache"
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=300)
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    if process.returncode == 0:  # the signal landed after the run had finished
        assert (tmp_path / "out").exists()
    else:
        assert process.returncode == 130, stderr
        assert not list((tmp_path / "out").rglob("manifest.json"))


DROPPED_CTRL_C = """
import sys, time, weakref
from diffusion_sim.cli.interrupts import deliver_ignored_interrupts
if sys.argv[1] == "hook":
    deliver_ignored_interrupts()
class Thing: pass
def callback(ref):
    raise KeyboardInterrupt  # as importlib's module-lock callback does under Ctrl-C
thing = Thing()
ref = weakref.ref(thing, callback)
try:
    del thing  # the callback runs here; Python calls its exception "unraisable"
    for _ in range(20_000 if sys.argv[1] == "hook" else 300):  # ends at the interrupt
        time.sleep(0.001)
    print("went on")
except KeyboardInterrupt:
    print("interrupted")
"""


@pytest.mark.parametrize("hook", ["hook", "none"])
def test_a_ctrl_c_python_would_drop_in_a_callback_still_interrupts(hook):
    done = subprocess.run(
        [sys.executable, "-c", DROPPED_CTRL_C, hook],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if hook == "hook":
        assert done.stdout.strip() == "interrupted" and "Traceback" not in done.stderr
    else:  # what Python does without it: prints a traceback and goes on
        assert done.stdout.strip() == "went on" and "Exception ignored" in done.stderr


def test_after_a_handled_ctrl_c_a_half_built_objects_finalizer_prints_nothing():
    """The llvmlite case (an object the interrupt cut short fails in ``__del__`` at exit),
    made deterministic: printed before forget_interrupt, silent after it."""
    script = (
        "import sys\n"
        "from diffusion_sim.cli.interrupts import forget_interrupt\n"
        "class HalfBuilt:\n"
        "    def __del__(self):\n"
        "        raise AttributeError('no _as_parameter_')\n"
        "first = HalfBuilt()\n"
        "del first\n"
        "sys.stderr.write('handled\\n')\n"
        "forget_interrupt()\n"
        "second = HalfBuilt()\n"
        "del second\n"
        "kept = HalfBuilt()  # finalized at shutdown\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    before, _, after = done.stderr.partition("handled\n")
    assert done.returncode == 0
    assert "Exception ignored" in before and "no _as_parameter_" in before
    assert after == ""


def test_a_ctrl_c_inside_an_extensions_import_is_one_line_and_exit_130(monkeypatch, capsys):
    """A C extension turns a Ctrl-C during its import into "ImportError: initialization
    failed" (matplotlib's _image, seen once in CI); main treats it as the interrupt it is,
    and any other ImportError still escapes."""
    from diffusion_sim import cli

    def interrupted_import(args):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise ImportError("initialization failed") from None

    def broken_import(args):
        raise ImportError("no module named nothing")

    for command, expected in ((interrupted_import, 130), (broken_import, None)):
        parser = cli.build_parser()
        original = parser.parse_args

        def parse(argv, original=original, command=command):
            args = original(["scenarios"])
            args.func = command
            return args

        parser.parse_args = parse
        monkeypatch.setattr(cli, "build_parser", lambda parser=parser: parser)
        if expected is None:
            with pytest.raises(ImportError, match="no module"):
                cli.main([])
        else:
            assert cli.main([]) == expected
            assert capsys.readouterr().err.strip() == (
                "interrupted; no unfinished run was saved as complete"
            )
