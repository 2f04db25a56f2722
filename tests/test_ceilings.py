"""Adoption ceilings: opposed cities hold out against every voluntary channel, not mandates.

With ``mechanisms.opposition_leaning`` = c, a city's voluntary hazards carry
s_i = clip((leaning_i - c) / 0.1, 0, 1) (mechanisms/susceptibility.py). Voluntary
channels can then reach at most the cities with s_i > 0 and the pioneers: the
analytic ceiling m of the Bass model [domain: Bass 1969].
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import diffusion_sim as ds
from diffusion_sim.mechanisms.susceptibility import susceptibility, voluntary_ceiling
from diffusion_sim.model.setup import build_setup
from tests.conftest import SCENARIOS, only, small
from tests.test_performance_paths import CheckedEngine

OPPOSITION = 0.5
"""About half the synthetic world leans at or below 0.5 (leaning ~ Beta(2.5, 2.5) + noise)."""
TOLERANCE = 0.03
"""How far below the ceiling a long contagion run may stop: isolated, low-capacity cities."""


@pytest.fixture(scope="module")
def voluntary() -> ds.Scenario:
    """Innovation and horizontal contagion only, no abandonment, run long enough to level off."""
    base = small(ds.load_scenario(SCENARIOS / "embedded.toml"), cities=400, steps=300)
    return only(base, "innovation", "horizontal").with_overrides(
        {
            "mechanisms.opposition_leaning": OPPOSITION,
            "mechanisms.horizontal.rule": "contagion",
            "mechanisms.horizontal.strength": 0.3,
            "mechanisms.innovation.rate": 0.05,
        }
    )


def ceiling_of(scenario: ds.Scenario) -> float:
    world = ds.build_world(scenario)
    setup = build_setup(scenario, world, np.random.default_rng(0))
    return voluntary_ceiling(world.leaning, OPPOSITION, setup.pioneers)


def test_susceptibility_is_off_by_default_and_a_ramp_when_on():
    leaning = np.array([0.0, 0.3, 0.5, 0.55, 0.6, 0.9])
    np.testing.assert_array_equal(susceptibility(leaning, 0.0), np.ones(6))
    np.testing.assert_allclose(susceptibility(leaning, 0.5), [0, 0, 0, 0.5, 1, 1])
    assert ds.Scenario().mechanisms.opposition_leaning == 0.0


def test_voluntary_reach_levels_off_at_the_analytic_ceiling(voluntary):
    ceiling = ceiling_of(voluntary)
    assert 0.2 < ceiling < 0.8  # many opposed cities
    for seed in (1, 2):
        result = ds.simulate(voluntary, seed=seed)
        shares = result.timeseries["share_cities"].to_numpy()
        assert shares[-1] <= ceiling + 1e-12  # no opposed city adopts voluntarily
        assert shares[-1] >= ceiling - TOLERANCE  # and contagion reaches the rest
        assert shares[-1] - shares[-51] < 0.01  # levelled off over the last 50 steps
        opposed = result.cities.loc[result.cities["leaning"] <= OPPOSITION]
        assert not (opposed["adopted"] & (opposed["first_adoption_step"] > 0)).any()


def test_the_threshold_rule_stays_under_the_ceiling_too(voluntary):
    threshold = voluntary.with_overrides({"mechanisms.horizontal.rule": "threshold"})
    share = ds.simulate(threshold, seed=1).timeseries["share_cities"].iloc[-1]
    assert share <= ceiling_of(voluntary) + 1e-12


def test_mandates_still_reach_opposed_cities(voluntary):
    mandated = voluntary.with_overrides(
        {
            "mechanisms.hierarchical.enabled": True,
            "mechanisms.hierarchical.government_rate": 1.0,  # every government adopts at once
            "run.steps": 60,
        }
    )
    result = ds.simulate(mandated, seed=1)
    assert result.timeseries["share_cities"].iloc[-1] == 1.0
    opposed = result.cities.loc[result.cities["leaning"] <= OPPOSITION]
    assert len(opposed) > 50
    assert (opposed["channel"].astype(str) == "hierarchical").mean() > 0.9


@pytest.mark.parametrize("rule", ["threshold", "contagion"])
def test_engines_agree_with_the_ceiling_on(embedded, rule):
    scenario = embedded.with_overrides(
        {
            "mechanisms.opposition_leaning": 0.45,
            "mechanisms.horizontal.rule": rule,
            "mechanisms.horizontal.strength": 0.3,
            "governments.overrides": {"Nation 2": {"stance": "hostile", "preempts": True}},
        }
    )
    vectorized = ds.simulate(scenario, seed=4)
    agents = ds.simulate(scenario, seed=4, engine="agents")
    assert len(vectorized.events) > 0
    pd.testing.assert_frame_equal(vectorized.events, agents.events)
    pd.testing.assert_frame_equal(vectorized.cities, agents.cities)
    pd.testing.assert_frame_equal(vectorized.government_events, agents.government_events)
    # The vectorized engine's kept hazards equal a full numpy evaluation every step.
    world = ds.build_world(scenario)
    rng = np.random.default_rng(np.random.SeedSequence(4))
    engine = CheckedEngine(build_setup(scenario, world, rng), rng)
    before = CheckedEngine.checks
    engine.run(scenario.run.steps)
    assert CheckedEngine.checks - before == scenario.run.steps
