"""Analysing sweeps: Sobol indices that see what matters, PRIM boxes, the report."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from diffusion_sim.studies.sweep.analyze import analyze
from diffusion_sim.studies.sweep.data import condition_mask
from diffusion_sim.studies.sweep.runner import run_sweep
from diffusion_sim.studies.sweep.spec import sweep_from_dict
from tests.conftest import ROOT, SCENARIOS

# Under the threshold rule, mechanisms.horizontal.strength (the contagion
# probability) is never read: the same seed gives the same run whatever its value.
SOBOL = {
    "name": "sobol_test",
    "scenario": str(SCENARIOS / "embedded.toml"),
    "seed": 5,
    "outcomes": ["share_cities", "time_to_50pct", "adopters_horizontal"],
    "constants": {"world.n_cities": 200, "run.steps": 12},
    "uncertainties": [
        {"key": "mechanisms.horizontal.thresholds.mean", "name": "threshold", "range": [0.05, 0.6]},
        {"key": "mechanisms.horizontal.strength", "name": "ignored", "range": [0.0, 1.0]},
    ],
    "design": {"method": "sobol", "samples": 32},
    "questions": [{"name": "Half the cities within 5 steps", "condition": "time_to_50pct <= 5"}],
}


@pytest.fixture(scope="module")
def sobol_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sobol") / "out"
    report = run_sweep(sweep_from_dict(SOBOL), folder, workers=2, progress=False)
    assert report.complete and report.total_runs == 32 * (2 + 2)
    return folder


def test_sobol_indices_of_an_ignored_parameter_are_near_zero(sobol_folder):
    indices = analyze(sobol_folder).indices.set_index(["outcome", "parameter"])
    for outcome in SOBOL["outcomes"]:
        used, ignored = indices.loc[(outcome, "threshold")], indices.loc[(outcome, "ignored")]
        # Each point has its own seed, so run-to-run noise enters the estimates as
        # (noise variance / total variance); with N = 32 SALib's 95% intervals are
        # about +-0.1. Tolerance 0.1 for the ignored one, and the threshold dominates.
        assert abs(ignored["S1"]) < 0.1, (outcome, ignored)
        assert ignored["ST"] < 0.1, (outcome, ignored)
        assert used["ST"] > 0.7, (outcome, used)
        assert used["S1"] > 0.5, (outcome, used)


def test_analyze_writes_figures_prim_boxes_and_a_report(sobol_folder):
    done = subprocess.run(
        [sys.executable, "-m", "diffusion_sim", "analyze", str(sobol_folder)]
        + ["--question", "share_cities >= 0.9"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    report = (sobol_folder / "report.md").read_text()
    for section in ("## Sensitivity", "## Main effects", "## Scenario discovery (PRIM)"):
        assert section in report
    for png in ("sensitivity.png", "main_effects_time_to_50pct.png"):
        assert (sobol_folder / png).stat().st_size > 10_000
    boxes = pd.read_csv(sobol_folder / "prim_boxes.csv")
    assert list(boxes["condition"]) == ["time_to_50pct <= 5", "share_cities >= 0.9"]
    # Only the threshold matters, so PRIM's boxes restrict the threshold alone, from above.
    for restrictions in boxes["restrictions"]:
        assert "threshold" in restrictions and "ignored" not in restrictions
    assert (boxes["density"] >= 0.8).all()
    assert "threshold" in done.stdout  # the boxes are printed too


def test_conditions_are_parsed_never_evaluated():
    frame = pd.DataFrame({"share_small": [0.9, 0.5, float("nan")], "time_to_50pct": [3, 9, 4]})
    mask = condition_mask(frame, "share_small >= 0.8 and time_to_50pct < 5")
    assert mask.tolist() == [True, False, False]


def test_analyze_refuses_unfinished_folders_with_exit_code_2(tmp_path):
    (tmp_path / "sweep.json").write_text("{}")
    done = subprocess.run(
        [sys.executable, "-m", "diffusion_sim", "analyze", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "unfinished" in done.stderr
    assert "Traceback" not in done.stderr


def test_prim_finds_a_box_over_a_listed_parameter_and_a_range(tmp_path):
    import numpy as np

    from diffusion_sim.studies.sweep.data import SweepData
    from diffusion_sim.studies.sweep.discovery import discover

    rng = np.random.default_rng(0)
    n = 400
    a, flag = rng.uniform(0, 1, n), rng.integers(0, 2, n).astype(bool)
    results = pd.DataFrame(
        {
            "point": np.arange(n),
            "a": a,
            "flag": pd.array(flag, dtype="boolean"),
            "steps": rng.integers(6, 49, n),  # goes to PRIM as float (see _prim_inputs)
            "status": "ok",
            "share_cities": np.where(flag & (a > 0.5), 0.9, 0.2),
        }
    )
    plan = {
        "parameters": [
            {"column": "a", "key": "x.a", "kind": "float"},
            {"column": "flag", "key": "x.flag", "kind": "values"},
            {"column": "steps", "key": "x.steps", "kind": "int"},
        ],
        "spec": {"outcomes": ["share_cities"]},
    }
    data = SweepData(tmp_path, plan, {}, pd.DataFrame(), results)
    answer = discover(data, "q", "share_cities >= 0.5", threshold=0.9)
    assert answer["density"] >= 0.9 and answer["coverage"] > 0.9
    text = "; ".join(answer["restrictions"])
    assert "`flag` in {True}" in text and "`a`" in text
