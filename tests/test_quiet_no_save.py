"""``--quiet`` and ``--no-save`` on every command that runs a model (issue 15).

``--no-save`` writes nothing at all: the results folder is never made. ``--quiet``
prints no progress bars or progress notes, only the final summary (and errors).
Sweep and export exist to write files: no ``--no-save``, and their help says so.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import diffusion_sim as ds
from diffusion_sim.cli import build_parser, main
from tests.conftest import SCENARIOS

SMALL = ["--set", "world.n_cities=300", "--set", "run.steps=12"]
CONTAGION = ["--set", "mechanisms.horizontal.rule=contagion"]


@pytest.fixture(scope="module")
def adoptions(tmp_path_factory) -> Path:
    """A CSV of one small run's adoption dates (the data calibrate and estimate read)."""
    scenario = ds.load_scenario("embedded").with_overrides(
        {"world.n_cities": 300, "run.steps": 12, "mechanisms.horizontal.rule": "contagion"}
    )
    cities = ds.simulate(scenario, seed=4).cities
    adopters = cities[cities["first_adoption_step"] >= 0]
    dates = pd.Period("2010-01", freq="M") + adopters["first_adoption_step"].to_numpy()
    path = tmp_path_factory.mktemp("data") / "adoptions.csv"
    pd.DataFrame({"city": adopters["name"], "date": [d.start_time.date() for d in dates]}).to_csv(
        path, index=False
    )
    return path


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def commands(data: Path) -> dict[str, list[str]]:
    return {
        "compare": ["compare", "horizontal", "vertical", "--replicates", "2", *SMALL],
        "calibrate": [
            "calibrate",
            "embedded",
            *SMALL,
            *CONTAGION,
            "--data",
            str(data),
            "--start",
            "2010-01",
            "--fit",
            "mechanisms.horizontal.strength",
            "--method",
            "point",
            "--replicates",
            "1",
            "--max-evaluations",
            "2",
        ],
        "estimate": [
            "estimate",
            "embedded",
            *SMALL,
            *CONTAGION,
            "--data",
            str(data),
            "--start",
            "2010-01",
            "--params",
            "innovation.rate,horizontal.strength",
            "--no-layer-tests",
            "--draws",
            "0",
        ],
    }


@pytest.mark.parametrize("command", ["compare", "calibrate", "estimate"])
def test_no_save_writes_nothing_and_quiet_keeps_only_the_summary(
    command, adoptions, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    argv = [*commands(adoptions)[command], "--out", str(tmp_path / "out"), "--no-save", "--quiet"]
    code, out, err = run(argv, capsys)
    assert code == 0, err
    assert list(tmp_path.iterdir()) == []  # neither --out nor ./results, nor any temporary file
    assert "not saved (--no-save)" in out
    assert err == ""  # no progress bar, no progress note
    summary = {"compare": "share_cities", "calibrate": "R²", "estimate": "innovation.rate"}
    assert summary[command] in out


def test_without_quiet_the_progress_notes_are_printed(adoptions, tmp_path, capsys):
    argv = [*commands(adoptions)["estimate"], "--no-save"]
    code, _, err = run(argv, capsys)
    assert code == 0 and "maximum likelihood" in err


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (
            ["calibrate", "horizontal", "--fit", "x", "--write-scenario", "f.toml"],
            "--write-scenario",
        ),
        (["estimate", "horizontal", "--panel", "p"], "--panel"),
    ],
)
def test_no_save_with_a_flag_that_writes_is_refused(argv, flag, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, _, err = run([*argv, "--data", "d.csv", "--no-save"], capsys)
    assert code == 2 and flag in err and "--no-save" in err
    assert list(tmp_path.iterdir()) == []


def test_quiet_sweep_and_export_print_only_where_the_files_are(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "w.toml").write_text(
        'name = "w"\nscenario = "horizontal"\n[design]\nmethod = "grid"\n'
        '[[levers]]\nkey = "run.seed"\nvalues = [1, 2]\n'
    )
    tiny = ["--set", "world.n_cities=60"]
    code, out, err = run(["sweep", "w.toml", "--workers", "1", "--quiet"], capsys)
    assert code == 0, err
    assert out.splitlines() == [out.strip()] and "results in" in out
    assert "%|" not in err  # no progress bar
    code, out, err = run(["export", "horizontal", *tiny, "--world-only", "--quiet"], capsys)
    assert code == 0 and len(out.splitlines()) == 1 and "cities" in out


def test_a_quiet_sweep_resumed_or_already_complete_says_only_where_the_results_are(tmp_path):
    """Killed after its first part (tests/process_hooks.py), a sweep resumed with --quiet
    prints nothing on stderr; without it, it says it resumes and, when done, that it is."""
    from tests.test_hostile_resume import SWEEP, cli

    sweep_file = tmp_path / "w.toml"
    sweep_file.write_text(SWEEP.format(scenario=SCENARIOS / "embedded.toml", seed=3))
    argv = ["sweep", str(sweep_file), "--workers", "1", "--no-progress"]
    for quiet in (True, False):
        out = tmp_path / f"quiet-{quiet}"
        assert cli([*argv, "--out", str(out)], kill_after=1).returncode == 137
        resumed = cli([*argv, "--out", str(out), *(["--quiet"] if quiet else [])])
        assert resumed.returncode == 0, resumed.stderr
        if quiet:
            assert resumed.stderr == "" and resumed.stdout.splitlines() == [resumed.stdout.strip()]
        else:
            assert "resuming: 1 of " in resumed.stderr
        again = cli([*argv, "--out", str(out), *(["--quiet"] if quiet else [])])
        assert again.returncode == 0
        assert ("already complete" in again.stderr) is not quiet


def test_every_command_that_runs_a_model_has_quiet_and_no_save_or_says_why_not():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices
    for name in ("run", "compare", "calibrate", "estimate", "sweep", "export"):
        flags = {f for a in sub[name]._actions for f in a.option_strings}
        assert "--quiet" in flags, name
        if name in ("sweep", "export"):
            assert "--no-save" not in flags and "no --no-save" in sub[name].description
        else:
            assert "--no-save" in flags, name
