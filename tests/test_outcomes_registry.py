"""The outcome registry, windows and Kaplan–Meier times, against their definitions."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

import diffusion_sim as ds
from diffusion_sim.record import outcomes as registry
from diffusion_sim.record.outcomes import Window, kind_of, outcome_names
from diffusion_sim.record.survival import format_p, kaplan_meier, survival_at, time_to_level
from diffusion_sim.simulation import run_trajectory
from tests.conftest import SCENARIOS, small


def test_kaplan_meier_matches_a_hand_computation_with_censoring():
    # Reached at 1, 2, 2, 4, 5; censored at 3 and 6. Product limit by hand:
    # at 1: 7 at risk, 1 event -> 6/7; at 2: 6 at risk, 2 -> 6/7 * 4/6 = 4/7;
    # 3 censored (no drop, one fewer at risk); at 4: 3 at risk, 1 -> 4/7 * 2/3 = 8/21;
    # at 5: 2 at risk, 1 -> 8/21 * 1/2 = 4/21; 6 censored.
    fit = kaplan_meier([1, 2, 2, 4, 5, 3, 6], [True] * 5 + [False] * 2)
    hand = {0: 1.0, 1: 6 / 7, 2: 4 / 7, 3: 4 / 7, 4: 8 / 21, 5: 4 / 21, 6: 4 / 21}
    for t, expected in hand.items():
        assert survival_at(fit, t) == pytest.approx(expected, abs=1e-12)
    assert fit.quantile(0.5) == 4  # first time S <= 1/2
    # Replicates that never got there are censored at the horizon (6), not dropped: at 4,
    # 4 at risk -> 4/7 * 3/4 = 3/7, so the median is 4 (a mean over the reached: 2.8).
    got = time_to_level(np.array([1, 2, 2, 4, 5, np.nan, np.nan]), horizon=6)
    assert got.median == 4 and got.never == pytest.approx(2 / 7) and got.n == 7
    assert got.low <= got.median <= got.high


def test_p_values_below_a_thousandth_are_not_printed_as_zero():
    assert format_p(0.0) == "< 0.001" and format_p(1e-9) == "< 0.001"
    assert format_p(0.0123) == "0.012" and format_p(float("nan")) == "-"


def test_every_outcome_has_a_kind_unit_and_label():
    for name in outcome_names():
        outcome = registry.REGISTRY[name]
        assert outcome.kind in registry.KINDS and outcome.unit and outcome.label
    assert kind_of("time_to_50pct") == "time_to" and kind_of("country_gini") == "inequality"
    assert kind_of("carried_proximity") == "share"
    with pytest.raises(ValueError, match="already declared"):
        registry.register(registry.REGISTRY["share_cities"])


@pytest.fixture(scope="module")
def run():
    scenario = small(ds.load_scenario(SCENARIOS / "us_paris_withdrawal.toml"), cities=400, steps=30)
    setup, trajectory = run_trajectory(scenario, 3)
    return scenario, setup, trajectory


def test_outcomes_at_a_step_are_those_of_the_run_stopped_there(run):
    scenario, setup, trajectory = run
    at = Window(at=12).of_events(setup, trajectory)
    stopped = ds.simulate(scenario, 3, steps=12).outcomes()
    assert list(at) == list(stopped)
    for name, value in stopped.items():
        assert at[name] == value or (math.isnan(value) and math.isnan(at[name])), name


def test_change_between_two_steps_is_the_difference_of_the_outcomes_at_them(run):
    _, setup, trajectory = run
    change = Window(between=(10, 25)).of_events(setup, trajectory)
    before = Window(at=10).of_events(setup, trajectory)
    after = Window(at=25).of_events(setup, trajectory)
    assert "time_to_50pct" not in change  # a time does not change
    assert change["share_cities"] == after["share_cities"] - before["share_cities"]
    assert change["abandonments"] == after["abandonments"] - before["abandonments"]
    with pytest.raises(ValueError, match="after the run's last step"):
        Window(at=31).check(30)
    with pytest.raises(ValueError, match="0 <= A < B"):
        registry.parse_between("120:60")


TOY = """
from diffusion_sim.record.outcomes import Outcome, register

register(Outcome("toy_share_squared", "share", "share of cities", "toy: share squared",
                 lambda seen: float(seen.share_cities[-1]) ** 2))
"""


@pytest.fixture
def toy_outcome(tmp_path, monkeypatch):
    """A toy outcome declared in one module, loaded here and by every sweep worker."""
    import sys

    (tmp_path / "toy_outcome_module.py").write_text(TOY)
    monkeypatch.syspath_prepend(str(tmp_path))
    paths = [str(tmp_path), *filter(None, [os.environ.get("PYTHONPATH")])]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))
    monkeypatch.setenv(registry.OUTCOMES_VARIABLE, "toy_outcome_module")
    registry.load_further_outcomes("toy_outcome_module")
    yield registry.REGISTRY["toy_share_squared"]
    del registry.REGISTRY["toy_share_squared"]
    sys.modules.pop("toy_outcome_module", None)


def test_a_toy_outcome_declared_once_is_in_a_run_a_compare_and_a_sweep(toy_outcome, tmp_path):
    from diffusion_sim.studies.comparison import compare
    from diffusion_sim.studies.sweep.runner import read_results, run_sweep
    from diffusion_sim.studies.sweep.spec import load_sweep

    scenario = small(ds.load_scenario(SCENARIOS / "horizontal.toml"), cities=150, steps=8)
    values = ds.simulate(scenario, 1).outcomes()
    assert values["toy_share_squared"] == values["share_cities"] ** 2
    comparison = compare([scenario], replicates=2, seed=1)
    assert "toy_share_squared" in comparison.format()
    assert (comparison.runs["toy_share_squared"] == comparison.runs["share_cities"] ** 2).all()
    sweep = tmp_path / "toy.toml"
    sweep.write_text(
        f'name = "toy"\nscenario = "{SCENARIOS / "horizontal.toml"}"\n'
        'outcomes = ["share_cities", "toy_share_squared"]\n'
        '[constants]\n"world.n_cities" = 150\n"run.steps" = 8\n'
        '[[levers]]\nkey = "mechanisms.horizontal.strength"\nvalues = [0.1, 0.3]\n'
    )
    run_sweep(load_sweep(sweep), tmp_path / "out", workers=1, progress=False)
    table = read_results(tmp_path / "out")
    assert (table["status"] == "ok").all() and len(table) == 2
    assert (table["toy_share_squared"] == table["share_cities"] ** 2).all()
