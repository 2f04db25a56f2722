"""Windows (``at``, ``between``) written in sweep files and compare files, not only as flags."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

from diffusion_sim.cli import main
from diffusion_sim.errors import InputError
from diffusion_sim.record.outcomes import Window, kind_of
from diffusion_sim.simulation import run_trajectory
from diffusion_sim.studies.compare_file import load_compare_file
from diffusion_sim.studies.sweep.runner import read_results, run_sweep
from diffusion_sim.studies.sweep.spec import load_sweep, sweep_from_dict
from tests.conftest import SCENARIOS

SWEEP = {
    "name": "windowed",
    "scenario": str(SCENARIOS / "embedded.toml"),
    "seed": 3,
    "replicates": 2,
    "constants": {"world.n_cities": 250, "run.steps": 16},
    "levers": [
        {"key": "mechanisms.hierarchical.enabled", "name": "mandates", "values": [True, False]}
    ],
}


def sweep_message(**changes) -> str:
    with pytest.raises(InputError) as info:
        sweep_from_dict({**SWEEP, **changes})
    return str(info.value)


def test_a_sweep_files_window_is_checked_with_its_key_and_line(tmp_path):
    assert "give 'at' (one step) or 'between' (two)" in sweep_message(at=3, between=[2, 5])
    assert "0 <= A < B" in sweep_message(between=[9, 4])
    text = sweep_message(between=[2, 8], outcomes=["share_cities", "time_to_50pct"])
    assert "time_to_50pct" in text and "no change between two steps" in text
    path = tmp_path / "late.toml"
    lever = '[[levers]]\nkey = "mechanisms.hierarchical.enabled"\nvalues = [true, false]\n'
    path.write_text(
        f'name = "late"\nscenario = "{SCENARIOS / "embedded.toml"}"\n'
        f'at = 500\n[constants]\n"run.steps" = 40\n{lever}'
    )
    with pytest.raises(
        InputError, match=r"key 'at' \(line 3\): step 500 is after the last step 40"
    ):
        load_sweep(path)
    varied = [{"key": "run.steps", "values": [20, 40]}]
    text = sweep_message(at=30, uncertainties=varied, constants={"world.n_cities": 250})
    assert "step 30 is after the last step 20 (the smallest run.steps the sweep varies)" in text
    # with between and no outcomes named: every outcome that has a change
    outcomes = sweep_from_dict({**SWEEP, "between": [4, 12]}).spec.outcomes
    assert outcomes and all(kind_of(o) != "time_to" for o in outcomes)


@pytest.mark.parametrize("window", [{"at": 9}, {"between": [5, 14]}])
def test_a_windowed_sweep_records_each_runs_outcomes_in_that_window(window, tmp_path):
    sweep = sweep_from_dict({**SWEEP, **window})
    report = run_sweep(sweep, tmp_path / "out", workers=1, progress=False)
    assert report.complete
    table = read_results(tmp_path / "out")
    assert len(table) == 4 and (table["status"] == "ok").all()
    expected_window = Window(at=window.get("at"), between=tuple(window.get("between", ())) or None)
    for row in table.itertuples():
        scenario = sweep.base.with_overrides({"mechanisms.hierarchical.enabled": row.mandates})
        setup, trajectory = run_trajectory(scenario, np.random.SeedSequence(row.seed))
        expected = expected_window.of_events(setup, trajectory)
        for name in sweep.spec.outcomes:
            got, want = getattr(row, name), expected[name]
            assert got == want or (math.isnan(got) and math.isnan(want)), name
    assert ("time_to_50pct" in table) == ("at" in window)  # no change of a time between


STUDY = """# What if the bloc turns hostile at step 6?
[compare]
scenarios = ["base.toml", "hostile.toml"]
labels = ["as is", "bloc hostile"]
replicates = 3
seed = 5
between = [6, 14]
"""


@pytest.fixture
def study(tmp_path):
    base = f'extends = "{os.path.relpath(SCENARIOS / "embedded.toml", tmp_path)}"\n'
    small = "[world]\nn_cities = 250\n[run]\nsteps = 14\n"
    (tmp_path / "base.toml").write_text(base + small)
    (tmp_path / "hostile.toml").write_text(
        base + small + '[[events]]\nkind = "stance"\nstep = 6\nlevel = "bloc"\nstance = "hostile"\n'
    )
    path = tmp_path / "study.toml"
    path.write_text(STUDY)
    return path


def test_a_compare_file_names_scenarios_labels_replicates_and_window(study):
    read = load_compare_file(study)
    assert list(read.scenarios) == ["as is", "bloc hostile"]
    assert read.spec.replicates == 3 and read.window == Window(between=(6, 14))
    assert read.scenarios["bloc hostile"].events[0].kind == "stance"


def test_compare_runs_a_compare_file_and_flags_given_win(study, capsys):
    from diffusion_sim.studies.comparison import compare

    assert main(["compare", str(study), "--no-save", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "as is" in out and "bloc hostile" in out
    direct = compare(load_compare_file(study).scenarios, 3, 5, window=Window(between=(6, 14)))
    assert direct.format() in out  # the same table as the API's with the file's settings
    assert main(["compare", str(study), "--no-save", "--replicates", "2", "--at", "10"]) == 0
    out = capsys.readouterr().out
    assert "x 2 replicates" in out
    flagged = compare(load_compare_file(study).scenarios, 2, 5, window=Window(at=10))
    assert flagged.format() in out


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("replicates = 3", "replicate = 3"), "key 'compare.replicate' (line 5)"),
        (("replicates = 3", "replicate = 3"), "did you mean 'replicates'"),
        (("between = [6, 14]", "between = [6, 40]"), "key 'compare.between' (line 7): step 40"),
        (("between = [6, 14]", "between = [6, 14]\nat = 3"), "not both"),
        (('"hostile.toml"]', '"hostle.toml"]'), "key 'compare.scenarios.1' (line 3)"),
        (('labels = ["as is", "bloc hostile"]', 'labels = ["as is"]'), "1 labels for 2"),
    ],
)
def test_a_bad_compare_file_names_the_key_and_line(study, edit, message, capsys):
    study.write_text(STUDY.replace(*edit))
    assert main(["compare", str(study), "--no-save"]) == 2
    err = capsys.readouterr().err
    assert message in err and str(study) in err and "Traceback" not in err
