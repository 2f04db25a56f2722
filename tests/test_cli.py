"""The command line end to end, as a user runs it (a real subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from tests.conftest import ROOT


def cli(*args: str, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "diffusion_sim", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_run_prints_a_summary_and_saves_a_complete_result(tmp_path):
    done = cli(
        "run",
        "embedded",
        "--steps",
        "20",
        "--set",
        "world.n_cities=400",
        "--seed",
        "3",
        "--out",
        str(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    assert "share of cities adopted" in done.stdout
    assert "adopters by channel" in done.stdout
    (folder,) = [p for p in tmp_path.iterdir() if not p.name.startswith(".")]
    assert folder.name.startswith("embedded-")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["scenario"]["world"]["n_cities"] == 400
    assert manifest["scenario"]["run"]["seed"] == 3
    assert manifest["engine"] == "vectorized" and "numpy" in manifest["versions"]
    timeseries = pd.read_parquet(folder / "timeseries.parquet")
    assert len(timeseries) == 21
    assert (folder / "adoption.png").stat().st_size > 10_000
    for table in ("events", "cities", "governments"):
        assert len(pd.read_parquet(folder / f"{table}.parquet")) > 0


def test_run_with_replicates_saves_an_ensemble(tmp_path):
    done = cli(
        "run",
        "horizontal",
        "--steps",
        "10",
        "--replicates",
        "3",
        "--set",
        "world.n_cities=300",
        "--out",
        str(tmp_path),
        "--engine",
        "agents",
    )
    assert done.returncode == 0, done.stderr
    (folder,) = list(tmp_path.iterdir())
    assert {p.name for p in folder.iterdir()} >= {
        "manifest.json",
        "band.parquet",
        "band.png",
        "replicate-000",
        "replicate-002",
    }
    manifest = json.loads((folder / "manifest.json").read_text())
    assert len(manifest["seed"]["replicates"]) == 3


def test_scenarios_lists_the_shipped_ones_with_their_questions():
    done = cli("scenarios")
    assert done.returncode == 0
    for name in ("horizontal", "vertical", "hierarchical", "embedded"):
        assert name in done.stdout
    assert "_synthetic_world" not in done.stdout
    assert "?" in done.stdout


def test_validate_and_explain():
    assert cli("validate", "scenarios/embedded.toml").returncode == 0
    done = cli("validate", "--explain")
    assert done.returncode == 0 and "mechanisms.horizontal.strength" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("run", "no-such-scenario.toml"), "no such scenario file"),
        (
            ("run", "embedded", "--set", "mechanisms.horizontal.strenght=0.3"),
            "did you mean 'strength'",
        ),
        (("run", "embedded", "--set", "run.steps=-4"), "run.steps"),
        (
            ("run", "embedded", "--set", "mechanisms.horizontal.rule=osmosis"),
            "'threshold' or 'contagion'",
        ),
        (("run", "embedded", "--set", "novalue"), "KEY=VALUE"),
        (("run", "embedded", "--steps", "0"), "argument --steps"),
        (("run", "embeded"), "did you mean 'embedded'"),
        (("run", "embedded", "--set", "networks.c4O.size=10"), "did you mean 'c40'"),
        (("validate", "BAD"), "invalid scenario"),
    ],
)
def test_bad_input_exits_2_with_one_message_and_no_traceback(tmp_path, args, message):
    (tmp_path / "BAD").write_text("[world]\nn_cities = 'lots'\n")
    args = tuple(str(tmp_path / "BAD") if a == "BAD" else a for a in args)
    done = cli(*args, "--out", str(tmp_path)) if args[0] == "run" else cli(*args)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert not [p for p in tmp_path.iterdir() if p.name != "BAD"]  # nothing written


def test_help_everywhere():
    for args in (("--help",), ("run", "--help"), ("scenarios", "--help"), ("validate", "--help")):
        done = cli(*args)
        assert done.returncode == 0 and "usage" in done.stdout


def test_every_flag_of_every_command_says_what_it_does():
    from diffusion_sim.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command").choices
    silent = [
        f"{name} {action.option_strings[0]}"
        for name, parser in sub.items()
        for action in parser._actions
        if action.option_strings and not action.help
    ]
    assert not silent, silent
    # calibrate and forecast share their fit's flags, word for word
    fit = {a.dest: a.help for a in sub["calibrate"]._actions if a.dest in ("fit", "prior")}
    assert fit == {a.dest: a.help for a in sub["forecast"]._actions if a.dest in fit}


def test_parameter_reference_in_docs_matches_the_schema():
    from diffusion_sim.scenario import explain, parameters_markdown

    documented = (ROOT / "docs" / "parameters.md").read_text()
    assert documented == parameters_markdown(explain()), (
        "docs/parameters.md is stale: regenerate it with "
        "`diffusion-sim validate --explain --markdown > docs/parameters.md`"
    )


def test_no_save_writes_nothing_and_quiet_prints_only_the_summary(tmp_path):
    tiny = ["--set", "world.n_cities=200", "--steps", "5"]
    for replicates in ("1", "3"):
        done = cli(
            "run", "horizontal", *tiny, "--replicates", replicates, "--no-save", cwd=tmp_path
        )
        assert done.returncode == 0, done.stderr
        assert "share" in done.stdout and "not saved" in done.stdout
        assert not list(tmp_path.iterdir())
    quiet = cli("run", "horizontal", *tiny, "--quiet", "--out", str(tmp_path / "out"))
    assert quiet.returncode == 0 and quiet.stderr == ""  # no progress bar
    assert "share of cities adopted" in quiet.stdout and "results in" in quiet.stdout
    assert "replicate(s), engine" not in quiet.stdout  # the opening note is progress chatter
    assert list((tmp_path / "out").glob("horizontal-*/manifest.json"))


def test_a_rung_without_cities_is_undefined_not_zero():
    from diffusion_sim.cli.text import format_summary

    summary = {
        "share_cities": 0.5,
        "share_population": 0.6,
        "share_leaders": 0.5,
        "share_followers": float("nan"),
        "share_laggards": float("nan"),
        "time_to_50pct": 3.0,
        "adopters_by_channel": {"innovation": 1},
        "abandonments": 0,
        "governments_adopted": {},
    }
    text = format_summary(summary, "month")
    assert "50.0% / undefined / undefined" in text
