"""The vectorized engine and the Mesa model agree event for event."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import diffusion_sim as ds
from tests.conftest import SHIPPED, only, small


def assert_same_run(a: ds.Result, b: ds.Result) -> None:
    pd.testing.assert_frame_equal(a.events, b.events)
    pd.testing.assert_frame_equal(a.government_events, b.government_events)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)
    pd.testing.assert_frame_equal(a.cities, b.cities)
    pd.testing.assert_frame_equal(a.governments, b.governments)


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_engines_agree_on_every_shipped_scenario(path):
    scenario = small(ds.load_scenario(path), cities=250, steps=40)
    vectorized = ds.simulate(scenario, seed=11, engine="vectorized")
    agents = ds.simulate(scenario, seed=11, engine="agents")
    assert len(vectorized.events) > 0
    assert_same_run(vectorized, agents)


@pytest.mark.parametrize(
    "mechanisms",
    [
        ("innovation",),
        ("horizontal",),
        ("vertical",),
        ("hierarchical",),
        ("innovation", "horizontal", "vertical", "hierarchical"),
    ],
    ids=lambda m: "+".join(m),
)
@pytest.mark.parametrize("rule", ["threshold", "contagion"])
def test_engines_agree_with_each_mechanism_alone(embedded, mechanisms, rule):
    scenario = only(embedded, *mechanisms, abandonment=True).with_overrides(
        {"mechanisms.horizontal.rule": rule, "mechanisms.hierarchical.government_rate": 0.02}
    )
    vectorized = ds.simulate(scenario, seed=5)
    agents = ds.simulate(scenario, seed=5, engine="agents")
    assert_same_run(vectorized, agents)


def test_engines_agree_through_events_and_preemption(embedded):
    scenario = embedded.with_overrides(
        {
            "mechanisms.horizontal.rule": "contagion",
            "mechanisms.horizontal.strength": 0.3,
            "governments.overrides": {"Nation 2": {"stance": "hostile", "preempts": True}},
            "events": [
                {"step": 3, "kind": "summit", "boost": 3.0, "duration": 4},
                {"step": 5, "kind": "network_opens", "network": "c40", "size": 80},
                {
                    "step": 8,
                    "kind": "stance",
                    "government": "Nation 1",
                    "stance": "hostile",
                    "preempts": True,
                },
                {"step": 12, "kind": "government_adopts", "government": "Nation 3"},
                {"step": 20, "kind": "government_withdraws", "government": "Nation 3"},
                {"step": 22, "kind": "pioneers", "cities": ["City 200"], "count": 3},
            ],
        }
    )
    vectorized = ds.simulate(scenario, seed=2)
    agents = ds.simulate(scenario, seed=2, engine="agents")
    assert (vectorized.events["channel"] == "preemption").any()
    assert_same_run(vectorized, agents)


def test_mesa_datacollector_matches_timeseries(embedded):
    from diffusion_sim.engines.agents.model import DiffusionModel
    from diffusion_sim.model.setup import build_setup

    world = ds.build_world(embedded)
    rng = np.random.default_rng(np.random.SeedSequence(4))
    model = DiffusionModel(build_setup(embedded, world, rng), rng)
    for _ in range(15):
        model.step()
    collected = model.datacollector.get_model_vars_dataframe()
    result = ds.simulate(embedded, seed=4, steps=15)
    assert collected["adopters"].tolist() == result.timeseries["adopters"].tolist()
    assert model.steps == 15
