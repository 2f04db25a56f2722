"""``diffusion-sim estimate``: bad input exits 2 with one message and no traceback; good input
writes the results (resolved scenario, seeds) into --out and the panel into --panel; a CSV of
the run's own adoptions gives the same fit as the run's events."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import diffusion_sim as ds
from diffusion_sim.cli import main
from diffusion_sim.studies.estimation import (
    estimate,
    histories_from_result,
    histories_to_csv,
    prepare,
)
from tests.conftest import ROOT, SCENARIOS

COVENANT = ROOT.parent / "shared" / "data" / "covenant_of_mayors_signatories_2024.csv"

SMALL = [
    "--set",
    "world.n_cities=300",
    "--set",
    "run.steps=30",
    "--set",
    "mechanisms.horizontal.rule=contagion",
    "--set",
    "mechanisms.horizontal.strength=0.05",
]


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = main(["estimate", "embedded", *args])
    except SystemExit as exc:  # argparse's own refusal of a flag's value
        code = exc.code
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


@pytest.fixture
def no_world(monkeypatch):
    """Cases refused before any world is built."""

    def refuse(*args, **kwargs):
        raise AssertionError("a world was built on bad input")

    monkeypatch.setattr("diffusion_sim.simulation.build_world", refuse)


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    scenario = ds.load_scenario(SCENARIOS / "embedded.toml").with_overrides(
        {
            "world.n_cities": 300,
            "run.steps": 30,
            "mechanisms.horizontal.rule": "contagion",
            "mechanisms.horizontal.strength": 0.05,
        }
    )
    return ds.simulate(scenario, seed=5).save(tmp_path_factory.mktemp("runs") / "run")


def csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "data.csv"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--params", "innovation.speed"], "--params innovation.speed: unknown key"),
        (["--params", "vertical.bottom_up_rate"], "not one this likelihood contains"),
        (["--params", "innovation.rate,innovation.rate"], "named twice"),
        (["--params", "innovation.rate,,x"], "none empty"),
        (
            ["--set", "mechanisms.vertical.enabled=false", "--params", "top_down_rate"],
            "mechanisms.vertical.enabled",
        ),
        (["--set", "mechanisms.horizontal.rule=threshold"], "mechanisms.horizontal.rule"),
    ],
    ids=["unknown-key", "not-estimable", "twice", "empty-item", "switched-off", "threshold"],
)
def test_bad_keys_are_refused_before_any_world(tmp_path, capsys, no_world, args, expected):
    data = csv(tmp_path, "city,date\nCity 1,2010-01-05\n")
    code, _, err = run_cli([*SMALL, "--data", str(data), *args, "--out", str(tmp_path)], capsys)
    assert code == 2 and expected in err, err


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "no such data file"),
        ("city,date\nCity 1,2010-01-05\nCity 2,someday\n", "on line(s) 3"),
        ("town,when\nCity 1,2010-01-05\n", "expected the columns 'city' and 'date'"),
    ],
    ids=["missing", "bad-date", "columns"],
)
def test_bad_data_files_name_the_file_and_line(tmp_path, capsys, no_world, content, expected):
    data = tmp_path / "data.csv"
    if content is not None:
        data.write_text(content)
    code, _, err = run_cli([*SMALL, "--data", str(data), "--out", str(tmp_path)], capsys)
    assert code == 2 and expected in err and str(data) in err, err


def test_unmatched_cities_name_the_lines_and_the_way_out(tmp_path, capsys):
    data = csv(tmp_path, "city,date\nCity 1,2010-01-05\nAtlantis,2010-02-01\nCity 7,2010-03-01\n")
    code, _, err = run_cli([*SMALL, "--data", str(data), "--out", str(tmp_path)], capsys)
    assert code == 2 and "column 'city'" in err and "line(s) 3;" in err, err
    assert "--unmatched drop" in err and str(data) in err


def test_unknown_governments_and_layers_are_named(tmp_path, capsys):
    data = csv(tmp_path, "city,date\nCity 1,2010-01-05\nCity 7,2010-03-01\n")
    governments = tmp_path / "gov.csv"
    governments.write_text("government,date\nNation 1,2010-02-01\nNowhere,2010-03-01\n")
    args = [*SMALL, "--data", str(data), "--out", str(tmp_path)]
    code, _, err = run_cli([*args, "--governments", str(governments)], capsys)
    assert code == 2 and "column 'government'" in err and "line(s) 3;" in err, err
    code, _, err = run_cli([*args, "--layers", "proximity,tramways"], capsys)
    assert code == 2 and "--layers tramways" in err and "proximity" in err, err
    code, _, err = run_cli([*args, "--params", "horizontal.strength", "--layers", "all"], capsys)
    assert code == 2 and "not identifiable" in err, err


def test_bad_result_folders_and_outputs(tmp_path, capsys, run_folder):
    code, _, err = run_cli([*SMALL, "--from-result", str(tmp_path / "nope")], capsys)
    assert code == 2 and "--from-result" in err and "no such folder" in err
    code, _, err = run_cli([*SMALL, "--from-result", str(tmp_path)], capsys)
    assert code == 2 and "no events.parquet" in err
    code, _, err = run_cli([*SMALL, "--from-result", str(run_folder), "--data", "x"], capsys)
    assert code == 2 and "not allowed with argument" in err
    full = tmp_path / "full"
    full.mkdir()
    (full / "something").write_text("x")
    code, _, err = run_cli([*SMALL, "--from-result", str(run_folder), "--panel", str(full)], capsys)
    assert code == 2 and "--panel" in err and "not empty" in err


def test_a_run_folder_gives_results_and_a_panel(tmp_path, capsys, run_folder):
    out, panel_folder = tmp_path / "results", tmp_path / "panel"
    code, printed, err = run_cli(
        [
            *SMALL,
            "--from-result",
            str(run_folder),
            "--layers",
            "proximity,networks",
            "--draws",
            "20",
            "--dyad-rows",
            "5000",
            "--out",
            str(out),
            "--panel",
            str(panel_folder),
        ],
        capsys,
    )
    assert code == 0, err
    assert "Which network carried it" in printed and "layers.proximity" in printed
    (folder,) = out.iterdir()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["scenario"]["world"]["n_cities"] == 300
    assert manifest["seed"]["setup"]["entropy"] == 5
    assert {p["key"] for p in manifest["parameters"]} == {
        "mechanisms.innovation.rate",  # the default rates, without the strength: layers
        "mechanisms.vertical.top_down_rate",  # carry their own weights
        "layers.proximity",
        "layers.networks",
    }
    for name in ("parameters.csv", "layers.csv", "shares.csv", "adoptions.parquet"):
        assert (folder / name).is_file(), name
    panel = pd.read_parquet(panel_folder / "panel.parquet")
    dyads = pd.read_parquet(panel_folder / "dyads.parquet")
    assert len(pd.read_csv(panel_folder / "panel.csv")) == len(panel) > 0
    assert 0 < len(dyads) <= 5000
    assert panel["adopted"].sum() == manifest["adoptions"]


def test_a_csv_of_the_runs_adoptions_gives_the_runs_fit(tmp_path):
    scenario = ds.load_scenario(SCENARIOS / "embedded.toml").with_overrides(
        {
            "world.n_cities": 400,
            "run.steps": 40,
            "mechanisms.horizontal.rule": "contagion",
            "mechanisms.horizontal.strength": 0.05,
            "mechanisms.abandonment.enabled": False,  # a CSV of dates has no drops
        }
    )
    result = ds.simulate(scenario, seed=9)
    world = ds.build_world(scenario)
    setup = prepare(scenario, result, world=world).setup
    histories = histories_from_result(result)
    data = tmp_path / "adoptions.csv"
    histories_to_csv(histories, setup, "2000-01", "month").to_csv(data, index=False)
    gov = result.governments
    own = gov[gov["channel"].isin(["vertical", "hierarchical"])]
    governments = tmp_path / "governments.csv"
    pd.DataFrame(
        {
            "government": own["name"],
            "date": [f"{2000 + (s // 12)}-{s % 12 + 1:02d}-15" for s in own["adoption_step"]],
        }
    ).to_csv(governments, index=False)
    keys = ["innovation.rate", "horizontal.strength"]
    from_run = estimate(scenario, result, keys, world=world, draws=0)
    from_csv = estimate(
        scenario, data, keys, world=world, start="2000-01", governments=governments, draws=0
    )
    assert from_csv.n_cells == from_run.n_cells and from_csv.n_adoptions == from_run.n_adoptions
    assert from_csv.fit.loglik == pytest.approx(from_run.fit.loglik, abs=1e-6)


@pytest.mark.skipif(
    not COVENANT.is_file(), reason="the JRC file is reference data outside the repository"
)
def test_the_covenant_file_is_matched_to_the_european_world():
    import numpy as np

    from diffusion_sim.model.setup import build_setup
    from diffusion_sim.studies.estimation import read_histories

    scenario = ds.load_scenario("eu_covenant")
    setup = build_setup(scenario, ds.build_world(scenario), np.random.default_rng(0))
    histories = read_histories(COVENANT, setup, start="2008-01", unmatched="drop")
    matched = len(histories.city)
    assert 1800 <= matched <= 2747  # 2,747 signatories lie in the world's universe
    assert len(set(histories.city.tolist())) == matched  # one adoption per city
    assert histories.step.min() >= 0 and histories.step.max() <= scenario.run.steps
    names = np.asarray(setup.world.city_names)[histories.city]
    assert {"Milan", "Barcelona", "Geneva"} <= set(names)  # Geneva: "Genève" in the file
    assert any("had a coordinator" in note for note in histories.notes)
