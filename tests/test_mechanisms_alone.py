"""Each mechanism alone in a whole run, against its definition."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

import diffusion_sim as ds
from tests.conftest import only


def graph_world(graph, **attrs) -> ds.World:
    return ds.World.from_graph(graph, **attrs)


def test_hierarchical_alone_reaches_every_municipality_within_the_horizon(embedded):
    horizon = 7
    scenario = only(embedded, "hierarchical").with_overrides(
        {
            "pioneers.count": 0,
            "mechanisms.hierarchical.compliance_steps": horizon,
            "mechanisms.hierarchical.government_rate": 0.0,  # only the event's mandate
            "governments.levels": ["nation"],
            "events": [{"step": 5, "kind": "government_adopts", "government": "Nation 2"}],
        }
    )
    result = ds.simulate(scenario, seed=1, steps=30)
    cities = result.cities
    under = cities["nation_government"] == "Nation 2"
    assert under.sum() > 10
    assert cities.loc[under, "adopted"].all()
    steps = cities.loc[under, "first_adoption_step"]
    assert steps.between(6, 5 + horizon).all()
    assert set(steps) != {5 + horizon}  # spread over the horizon, not all at its end
    assert not cities.loc[~under, "adopted"].any()
    assert (result.events["channel"] == "hierarchical").all()


def test_horizontal_alone_without_ties_reaches_nobody_beyond_the_pioneers(embedded):
    world = graph_world(sp.csr_array((50, 50)), capacity=np.linspace(0.1, 1, 50), leaning=0.9)
    scenario = only(embedded, "horizontal").with_overrides(
        {"pioneers.count": 4, "mechanisms.horizontal.thresholds.mean": 0.0, "networks": {}}
    )
    result = ds.simulate(scenario, seed=3, world=world, steps=30)
    assert result.cities["adopted"].sum() == 4
    assert set(result.cities.index[result.cities["adopted"]]) == {46, 47, 48, 49}


def test_threshold_cascade_is_deterministic_and_exact():
    # A path 0-1-2-3-4; city 0 pioneers. Thresholds 0.5 let each city adopt once
    # one of its two neighbours has: one step per city along the path.
    # City 3's threshold 0.51 stops the cascade there.
    path = nx.path_graph(5)
    threshold = np.array([0.0, 0.5, 0.5, 0.51, 0.5])
    world = graph_world(path, threshold=threshold, capacity=np.array([1, 0, 0, 0, 0.0]))
    scenario = ds.Scenario().with_overrides(
        {
            "pioneers.count": 1,
            "mechanisms.innovation.enabled": False,
            "mechanisms.vertical.enabled": False,
            "mechanisms.hierarchical.enabled": False,
            "mechanisms.abandonment.enabled": False,
            "mechanisms.horizontal.prestige_alpha": 0.0,
        }
    )
    for seed in (1, 2, 3):
        result = ds.simulate(scenario, seed=seed, world=world, steps=10)
        assert result.cities["first_adoption_step"].tolist() == [0, 1, 2, -1, -1]


def test_contagion_from_a_hub_matches_its_probability():
    # A star: the hub adopted, 4,000 leaves each persuaded with probability beta.
    n_leaves, beta = 4000, 0.3
    star = nx.star_graph(n_leaves)
    capacity = np.zeros(n_leaves + 1)
    capacity[0] = 1.0
    world = graph_world(star, capacity=capacity)
    scenario = ds.Scenario().with_overrides(
        {
            "pioneers.count": 1,
            "mechanisms.innovation.enabled": False,
            "mechanisms.vertical.enabled": False,
            "mechanisms.hierarchical.enabled": False,
            "mechanisms.abandonment.enabled": False,
            "mechanisms.horizontal.rule": "contagion",
            "mechanisms.horizontal.strength": beta,
            "mechanisms.horizontal.prestige_alpha": 0.0,
        }
    )
    result = ds.simulate(scenario, seed=9, world=world, steps=1)
    share = result.timeseries["new_horizontal"].iloc[1] / n_leaves
    assert share == pytest.approx(beta, abs=4 * np.sqrt(beta * (1 - beta) / n_leaves))


def test_innovation_alone_matches_its_hazard():
    n = 20_000
    rng = np.random.default_rng(0)
    capacity, leaning = rng.random(n), rng.random(n)
    world = graph_world(sp.csr_array((n, n)), capacity=capacity, leaning=leaning)
    rate = 0.2
    scenario = ds.Scenario().with_overrides(
        {
            "pioneers.count": 0,
            "mechanisms.innovation.rate": rate,
            "mechanisms.horizontal.enabled": False,
            "mechanisms.vertical.enabled": False,
            "mechanisms.hierarchical.enabled": False,
            "mechanisms.abandonment.enabled": False,
        }
    )
    result = ds.simulate(scenario, seed=1, world=world, steps=1)
    expected = (rate * capacity * leaning).sum()
    assert result.timeseries["adopters"].iloc[1] == pytest.approx(
        expected, abs=4 * np.sqrt(expected)
    )


def test_preemption_drops_every_adopter_but_the_defiers(embedded):
    scenario = only(embedded, "innovation", "hierarchical").with_overrides(
        {
            "pioneers.count": 60,
            "mechanisms.innovation.rate": 0.0,
            "mechanisms.hierarchical.defiance": 0.6,
            "governments.levels": ["nation"],
            "events": [
                {
                    "step": 2,
                    "kind": "stance",
                    "government": "Nation 1",
                    "stance": "hostile",
                    "preempts": True,
                }
            ],
        }
    )
    result = ds.simulate(scenario, seed=4, steps=10)
    cities = result.cities
    under = cities["nation_government"] == "Nation 1"
    pioneers_under = under & (cities["first_adoption_step"] == 0)
    assert pioneers_under.sum() >= 5
    defiers = pioneers_under & cities["defiant"]
    assert defiers.any() and (pioneers_under & ~cities["defiant"]).any()
    assert cities.loc[defiers, "adopted"].all()
    assert not cities.loc[pioneers_under & ~cities["defiant"], "adopted"].any()
    dropped = result.events[result.events["kind"] == "drop"]
    assert (dropped["channel"] == "preemption").all() and (dropped["step"] == 2).all()
    assert cities.loc[~under & (cities["first_adoption_step"] == 0), "adopted"].all()


def test_monitoring_lowers_abandonment():
    n = 6000
    world = graph_world(sp.csr_array((n, n)), capacity=np.ones(n), leaning=np.ones(n))
    scenario = ds.Scenario().with_overrides(
        {
            "pioneers.count": n,
            "networks": {"pledge": {"rule": "exclusive", "size": n // 2, "monitors": True}},
            "mechanisms.innovation.enabled": False,
            "mechanisms.horizontal.enabled": False,
            "mechanisms.vertical.enabled": False,
            "mechanisms.hierarchical.enabled": False,
            "mechanisms.abandonment.rate": 0.2,
            "mechanisms.abandonment.monitoring_reduction": 0.75,
        }
    )
    result = ds.simulate(scenario, seed=2, world=world, steps=1)
    members = world.population.argsort()  # all equal: exclusive takes the first n/2 by index
    dropped = ~result.cities["adopted"].to_numpy()
    member = np.zeros(n, dtype=bool)
    member[members[: n // 2]] = True
    for group, rate in ((member, 0.05), (~member, 0.2)):
        assert dropped[group].mean() == pytest.approx(rate, abs=4 * np.sqrt(rate / group.sum()))


def test_bottom_up_pressure_makes_governments_adopt_at_the_stated_rate():
    # Every city adopted: a neutral government's hazard is rate x 0.5 x (1 + 0).
    n = 400
    world = graph_world(sp.csr_array((n, n)), country=[f"C{i}" for i in range(n)])
    rate = 0.4
    scenario = ds.Scenario().with_overrides(
        {
            "pioneers.count": n,
            "governments.levels": ["nation"],
            "mechanisms.innovation.enabled": False,
            "mechanisms.horizontal.enabled": False,
            "mechanisms.hierarchical.enabled": False,
            "mechanisms.abandonment.enabled": False,
            "mechanisms.vertical.bottom_up_rate": rate,
        }
    )
    result = ds.simulate(scenario, seed=5, world=world, steps=1)
    adopted = result.governments["adopted"].mean()
    p = rate * 0.5
    assert adopted == pytest.approx(p, abs=4 * np.sqrt(p * (1 - p) / n))
    assert (result.governments.loc[result.governments["adopted"], "channel"] == "vertical").all()


def test_hostile_government_deters_voluntary_adoption():
    n = 20_000
    world = graph_world(
        sp.csr_array((n, n)),
        capacity=np.ones(n),
        leaning=np.ones(n),
        country=np.where(np.arange(n) < n // 2, "A", "B"),
    )
    scenario = ds.Scenario().with_overrides(
        {
            "pioneers.count": 0,
            "governments.levels": ["nation"],
            "governments.overrides": {"A": {"stance": "hostile"}},
            "mechanisms.innovation.rate": 0.2,
            "mechanisms.vertical.deterrence": 0.5,
            "mechanisms.vertical.top_down_rate": 0.0,
            "mechanisms.vertical.bottom_up_rate": 0.0,
            "mechanisms.horizontal.enabled": False,
            "mechanisms.hierarchical.enabled": False,
            "mechanisms.abandonment.enabled": False,
        }
    )
    adopted = ds.simulate(scenario, seed=6, world=world, steps=1).cities["adopted"].to_numpy()
    assert adopted[: n // 2].mean() == pytest.approx(0.1, abs=0.015)
    assert adopted[n // 2 :].mean() == pytest.approx(0.2, abs=0.015)


def test_summit_boost_and_network_founding(embedded):
    base = only(embedded, "horizontal").with_overrides(
        {
            "mechanisms.horizontal.rule": "contagion",
            "mechanisms.horizontal.strength": 0.05,
            "pioneers.count": 20,
        }
    )
    boosted = base.with_overrides(
        {"events": [{"step": 1, "kind": "summit", "boost": 5.0, "duration": 5}]}
    )
    plain_reach = ds.simulate(base, seed=3, steps=5).timeseries["adopters"].iloc[-1]
    boosted_reach = ds.simulate(boosted, seed=3, steps=5).timeseries["adopters"].iloc[-1]
    assert boosted_reach > plain_reach
    late = base.with_overrides({"networks.c40.founded_step": 10})
    world = ds.build_world(late)
    assert world.networks[0].founded_step == 10
    from diffusion_sim.model.setup import build_setup

    setup = build_setup(late, world, np.random.default_rng(0))
    assert 0 not in setup.initial_network_sizes()
    founded = late.with_overrides(
        {"events": [{"step": 10, "kind": "network_founded", "network": "c40"}]}
    )
    assert ds.simulate(founded, seed=1, steps=12).summary()["steps"] == 12


@pytest.mark.parametrize(("saturation", "voice"), [(0, 1.0), (800, 0.5)])
def test_small_lobbying_networks_speak_with_a_smaller_voice(saturation, voice):
    # 400 one-city countries, every city adopted and in one lobbying network of 400:
    # a neutral government's hazard is rate x 0.5 x (1 + lobbying_weight x voice).
    n = 400
    world = graph_world(sp.csr_array((n, n)), country=[f"C{i}" for i in range(n)])
    rate = 0.4
    scenario = ds.Scenario().with_overrides(
        {
            "pioneers.count": n,
            "networks": {"lobby": {"rule": "exclusive", "size": n, "lobbies": True}},
            "governments.levels": ["nation"],
            "mechanisms.innovation.enabled": False,
            "mechanisms.horizontal.enabled": False,
            "mechanisms.hierarchical.enabled": False,
            "mechanisms.abandonment.enabled": False,
            "mechanisms.vertical.bottom_up_rate": rate,
            "mechanisms.vertical.lobbying_weight": 1.0,
            "mechanisms.vertical.voice_saturation": saturation,
        }
    )
    adopted = np.mean(
        [
            ds.simulate(scenario, seed=s, world=world, steps=1).governments["adopted"].mean()
            for s in range(5)
        ]
    )
    p = rate * 0.5 * (1 + voice)
    assert adopted == pytest.approx(p, abs=4 * np.sqrt(p * (1 - p) / (5 * n)))
