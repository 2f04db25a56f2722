"""Country receptivity (world/receptivity.py): a country's factor on every voluntary hazard.

- the hazards and the receptivity against their definitions (hand computations);
- in the engine, a city's innovation hazard is its receptivity times the hazard
  without it, and a country of receptivity 0 adopts through no voluntary channel;
- both engines agree event for event on a world with it;
- the misplaced share against its definition.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import diffusion_sim as ds
from diffusion_sim.mechanisms.innovation import innovation_hazard
from diffusion_sim.model.setup import build_setup
from diffusion_sim.simulation import build_world, make_engine
from diffusion_sim.studies.calibration.receptivity import misplaced_share
from diffusion_sim.world.receptivity import (
    PRIOR_CITIES,
    country_hazards,
    receptivity_of,
    with_receptivity,
)
from tests.conftest import only
from tests.test_engines import assert_same_run


def test_country_hazards_are_their_definition():
    cities = pd.Series({"A": 100, "B": 300, "C": 50})
    adopters = pd.Series({"A": 60, "B": 30, "Z": 9})  # C has none; Z is not in the world
    hazard = country_hazards(adopters, cities)
    mean = 90 / 450  # the countries of the world only
    for name, a in [("A", 60), ("B", 30), ("C", 0)]:
        share = (a + PRIOR_CITIES * mean) / (cities[name] + PRIOR_CITIES)
        assert hazard[name] == pytest.approx(-math.log(1 - share), rel=1e-14)
    assert list(hazard.index) == ["A", "B", "C"]
    # the data naming more adopters than the world has cities stays finite
    full = country_hazards(pd.Series({"A": 130}), pd.Series({"A": 100, "B": 10}))
    assert np.isfinite(full).all() and full["A"] > full["B"]


@pytest.fixture
def world(embedded):
    return build_world(embedded)


def test_receptivity_is_the_countrys_relative_hazard_to_the_exponent(world):
    names = list(world.country_names)
    adopters = pd.Series({names[0]: 40, names[1]: 5})
    cities = pd.Series(np.asarray(names, dtype=object)[world.country]).value_counts()
    hazard = country_hazards(adopters, cities)
    for exponent in (1.0, 0.5, 0.25):
        r = receptivity_of(world, adopters, exponent)
        expected = (hazard / hazard.max()) ** exponent
        np.testing.assert_allclose(r, expected.reindex(np.asarray(names)[world.country]))
        assert r.max() == pytest.approx(1.0) and r.min() > 0
    assert with_receptivity(world, adopters, 0.0) is world  # exponent 0: no country effect
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        receptivity_of(world, adopters, 1.5)


@pytest.fixture
def innovation_only(embedded):
    return only(embedded, "innovation").with_overrides(
        {"mechanisms.innovation.rate": 0.2, "run.steps": 20}
    )


def test_the_engine_hazard_is_the_receptivity_times_the_hazard_without_it(innovation_only):
    world = build_world(innovation_only)
    factor = np.random.default_rng(1).uniform(0.1, 1.0, world.n_cities)
    receptive = replace(world, receptivity=factor)
    rng = np.random.default_rng(3)
    setup = build_setup(innovation_only, receptive, rng)
    engine = make_engine("vectorized", setup, rng)
    engine.step(1)
    hazard, adopted = engine.full_hazard(1), engine.city_adopted()
    plain = build_setup(innovation_only, world, np.random.default_rng(3))
    rate = innovation_only.mechanisms.innovation.rate
    base = innovation_hazard(world.capacity, world.leaning, rate) * plain.susceptibility
    np.testing.assert_allclose(hazard[~adopted], (base * factor)[~adopted], rtol=1e-9)


def test_a_country_of_receptivity_zero_adopts_through_no_voluntary_channel(embedded):
    scenario = only(embedded, "innovation", "horizontal", "vertical").with_overrides(
        {"mechanisms.innovation.rate": 0.05, "run.steps": 40}
    )
    world = build_world(scenario)
    closed = world.country == 0
    receptive = replace(world, receptivity=np.where(closed, 0.0, 1.0))
    run = ds.simulate(scenario, seed=2, world=receptive)
    step = run.cities["first_adoption_step"].to_numpy()
    assert (step[closed] > 0).sum() == 0  # only its pioneers (step 0), if any
    assert (step[~closed] > 0).sum() > 20  # the rest of the world adopts
    open_run = ds.simulate(scenario, seed=2, world=world)
    assert (open_run.cities["first_adoption_step"].to_numpy()[closed] > 0).sum() > 0


@pytest.mark.parametrize("rule", ["threshold", "contagion"])
def test_engines_agree_event_for_event_with_receptivity(embedded, rule):
    scenario = only(
        embedded, "innovation", "horizontal", "vertical", "hierarchical", abandonment=True
    ).with_overrides(
        {"mechanisms.horizontal.rule": rule, "mechanisms.hierarchical.government_rate": 0.02}
    )
    world = build_world(scenario)
    receptive = replace(world, receptivity=np.where(world.country % 2 == 0, 1.0, 0.3))
    vectorized = ds.simulate(scenario, seed=5, world=receptive)
    agents = ds.simulate(scenario, seed=5, world=receptive, engine="agents")
    assert len(vectorized.events) > 0
    assert_same_run(vectorized, agents)
    assert not vectorized.events.equals(ds.simulate(scenario, seed=5, world=world).events)


def test_misplaced_share_is_half_the_sum_of_share_differences():
    model = pd.Series({"A": 30.0, "B": 70.0})
    data = pd.Series({"A": 60, "C": 40})  # B absent from the data, C from the model
    # shares: model A .3 B .7 C 0; data A .6 B 0 C .4 -> (.3 + .7 + .4) / 2
    assert misplaced_share(model, data) == pytest.approx(0.7)
    assert misplaced_share(data.astype(float), data) == 0.0
    assert misplaced_share(model * 5, model) == pytest.approx(0.0)  # shares, not counts
