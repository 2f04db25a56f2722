"""Data files that cannot fool estimate and calibrate; a killed calibrate's leftovers.

- ``estimate --unmatched drop`` where no name is a city of the world: one message with
  examples of both sides, exit 2 (was an AttributeError on NaT);
- ``calibrate`` counts a city listed five times once, at its first date, and says so;
  names the world lacks are named in a warning;
- a calibrate killed by SIGKILL leaves a locked-then-orphaned working folder and an
  empty results folder; the next calibrate into the same ``--out`` removes both, and
  never a live run's.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import diffusion_sim as ds
from diffusion_sim.cli import main
from diffusion_sim.studies.calibration import observed_curve, read_adoptions
from diffusion_sim.studies.calibration.workspace import clean_stale_workspaces
from tests.conftest import ROOT, SCENARIOS

CONTAGION = ["--set", "mechanisms.horizontal.rule=contagion"]


def cli(args: list[str], capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


@pytest.fixture(scope="module")
def classroom() -> tuple[ds.Scenario, ds.World]:
    scenario = ds.load_scenario(SCENARIOS / "classroom.toml")
    return scenario, ds.build_world(scenario)


def write(path: Path, rows: list[str]) -> Path:
    path.write_text("city,date\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


# ------------------------------------------------------------------ estimate


@pytest.mark.parametrize("unmatched", ["drop", "error"])
def test_estimate_with_no_name_of_the_world_says_so_with_examples(tmp_path, capsys, unmatched):
    data = write(tmp_path / "d.csv", ["Atlantis,2010-01-05", "El Dorado,2011-02-01"])
    args = ["estimate", "classroom", "--data", data, "--unmatched", unmatched, "--no-save"]
    code, _, err = cli([*args, *CONTAGION], capsys)
    assert code == 2 and err.count("error:") == 1 and str(data) in err
    assert "none of the 2 name(s) is a city of the world (63 cities)" in err
    assert "'Atlantis', 'El Dorado'" in err and "'Copenhagen'" in err  # both sides


# ------------------------------------------------------------------ calibrate


def test_calibrate_counts_each_city_once_at_its_first_date(tmp_path, classroom):
    scenario, world = classroom
    rows = [f"Antwerp,201{k}-03-01" for k in (4, 1, 3, 2, 0)]
    rows += [f"{name},201{k + 2}-05-01" for k, name in enumerate(["Ghent", "GHENT", "ghent "])]
    adoptions = read_adoptions(write(tmp_path / "dup.csv", rows))
    curve = observed_curve(adoptions, scenario, world)
    assert curve.count[-1] == 2 and curve.used == 2 and curve.total == 8
    assert "2 cities in 8 rows (6 repeated row(s) of one city dropped" in curve.note
    # Antwerp's first date (2010-03) is step 0: one adopter there; Ghent joins in 2012-05.
    periods = curve.periods.astype(str)
    assert curve.count[list(periods).index("2010-03")] == 1
    assert curve.count[list(periods).index("2012-04")] == 1
    assert curve.count[list(periods).index("2012-05")] == 2
    assert curve.warnings == ()  # both are cities of the world


def test_calibrate_warns_about_names_the_world_lacks(tmp_path, classroom):
    scenario, world = classroom
    rows = [f"Nowhere {k},2010-0{1 + k % 9}-01" for k in range(40)]
    rows += [f"{name},2012-01-01" for name in ("Antwerp", "Ghent", "Utrecht")]
    curve = observed_curve(read_adoptions(write(tmp_path / "a.csv", rows)), scenario, world)
    (warning,) = curve.warnings
    assert warning.startswith("40 of 43 cities of the data are not cities of this world")
    assert "'Nowhere 0', 'Nowhere 1', 'Nowhere 2'" in warning and "line(s) 2, 3" in warning
    assert curve.count[-1] == 43  # still counted: the curve is a share


def test_calibrate_prints_both_on_the_command_line(tmp_path, capsys):
    rows = [*(f"Antwerp,201{k}-03-01" for k in range(5)), "Atlantis,2012-01-01"]
    data = write(tmp_path / "d.csv", rows)
    args = ["calibrate", "classroom", "--data", data, "--fit", "mechanisms.innovation.rate"]
    args += ["--method", "point", "--max-evaluations", "2", "--replicates", "1", "--no-save"]
    code, out, _ = cli([*args, "--quiet"], capsys)
    assert code == 0
    assert "observed: 2 cities in 6 rows (4 repeated row(s) of one city dropped" in out
    assert "WARNING: 1 of 2 cities of the data are not cities of this world" in out


# ------------------------------------------------------------------ killed calibrate


def start_calibrate(data: Path, out: Path) -> subprocess.Popen:
    """A real calibrate (ABC) into ``out``, in its own process."""
    args = ["calibrate", "classroom", "--data", data, "--fit", "mechanisms.innovation.rate"]
    args += ["--out", out, "--quiet", "--population", "10", "--generations", "1"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "diffusion_sim", *map(str, args)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for_workspace(out: Path, process: subprocess.Popen, before: set[Path]) -> Path:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = set(out.glob(".calibrate-*.abc")) - before
        if found and all((w / ".lock").is_file() for w in found):
            return found.pop()
        assert process.poll() is None, "calibrate ended before its working folder appeared"
        time.sleep(0.05)
    raise AssertionError("no working folder appeared")


def test_a_killed_calibrate_is_cleaned_by_the_next_and_a_live_one_never(tmp_path):
    pytest.importorskip("pyabc")
    data = write(tmp_path / "d.csv", [f"{c},201{k}-01-01" for k, c in enumerate(["Antwerp"])])
    out = tmp_path / "results"
    killed = start_calibrate(data, out)
    stale = wait_for_workspace(out, killed, set())
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    empty = [p for p in out.iterdir() if not p.name.startswith(".")]
    assert stale.is_dir() and len(empty) == 1 and not any(empty[0].iterdir())  # the leftovers

    live = start_calibrate(data, out)
    try:
        mine = wait_for_workspace(out, live, {stale})
        assert not stale.exists() and not empty[0].exists()  # removed by the next calibrate
        assert clean_stale_workspaces(out) == [] and mine.is_dir()  # a live one is kept
    finally:
        live.kill()
        live.wait()
