"""Provenance: every adoption names what carried it, by the rules of model/provenance.py."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import diffusion_sim as ds
from diffusion_sim.mechanisms.embedded import choose_channel_of_one, position_in_channel
from diffusion_sim.model.provenance import (
    choose_layers,
    mandating_government,
    pick_in_proportion,
    strongest_supporter,
)
from diffusion_sim.model.setup import NO_MANDATE
from tests.conftest import only, small

GRID = (np.arange(20_000) + 0.5) / 20_000
"""Evenly spread uniforms: shares counted on them are exact to 1/20,000."""


def test_a_source_is_picked_in_proportion_to_the_adopted_weights_and_rest_is_uniform():
    weights = np.array([4.0, 1.0, 3.0, 2.0])
    eligible = np.array([True, False, True, True])
    picks = [pick_in_proportion(v, weights, eligible) for v in GRID]
    chosen = np.array([k for k, _ in picks])
    shares = np.bincount(chosen, minlength=4) / len(GRID)
    np.testing.assert_allclose(shares, [4 / 9, 0, 3 / 9, 2 / 9], atol=1 / len(GRID))
    for k in (0, 2, 3):  # within each part, the rest is again evenly spread on [0, 1)
        rest = np.sort([r for c, r in picks if c == k])
        assert rest.min() >= 0 and rest.max() < 1
        np.testing.assert_allclose(rest, np.linspace(0, 1, len(rest)), atol=2 / len(rest))
    assert pick_in_proportion(0.5, weights, np.zeros(4, dtype=bool)) == (-1, 0.0)
    assert pick_in_proportion(1 - 2**-53, weights, eligible)[0] == 3  # the top edge


def test_the_place_in_a_channel_is_uniform_whatever_the_channel():
    hazards = (0.1, 0.3, 0.0, 0.2)
    places: dict[int, list[float]] = {}
    for u in GRID:
        k = choose_channel_of_one(u, hazards)
        if k >= 0:
            places.setdefault(k, []).append(position_in_channel(u, hazards, k))
    assert set(places) == {0, 1, 3}  # a channel with no hazard never fires
    for values in places.values():
        values = np.sort(values)
        np.testing.assert_allclose(values, np.linspace(0, 1, len(values)), atol=2 / len(values))


def test_a_tie_in_two_layers_is_credited_to_each_in_proportion_to_its_weight():
    one = sp.csr_array(([1.0], ([0], [1])), shape=(2, 2))
    layers = {"twinning": 1.0 * one, "c40": 3.0 * one, "proximity": 0.0 * one}
    chosen = choose_layers(layers, np.zeros(len(GRID), int), np.ones(len(GRID), int), GRID)
    np.testing.assert_allclose(np.bincount(chosen, minlength=3) / len(GRID), [0.25, 0.75, 0])
    untied = choose_layers(layers, np.array([1]), np.array([1]), np.array([0.5]))
    assert untied.tolist() == [-1]


def test_the_government_named_is_the_strongest_supporter_or_the_first_mandate_in_force():
    above = np.array([[0, 1, 2], [3, 3, 4], [5, 6, 6]])  # (levels, cities); 6 is 'none'
    support = np.array([1, 2, 0, 2, 1, 0, 0])
    strongest = [strongest_supporter(above[:, c], support) for c in range(3)]
    assert strongest == [3, 1, 4]  # the lowest level among equals
    no = NO_MANDATE
    issued = np.array([no, 7, no, 3, 3, no, no])
    mandating = [mandating_government(above[:, c], issued, 3) for c in range(3)]
    assert mandating == [3, 3, 4]
    assert mandating_government(above[:, 1], issued, 7) == 1
    assert mandating_government(above[:, 0], issued, 5) == -1


def test_with_one_layer_every_horizontal_adoption_names_it_and_an_earlier_adopter():
    graph = nx.watts_strogatz_graph(400, 6, 0.1, seed=4)
    world = ds.World.from_graph(graph, capacity=np.full(400, 0.6), leaning=np.full(400, 0.6))
    scenario = only(ds.Scenario(), "horizontal").with_overrides({"pioneers.count": 8})
    assert not scenario.networks
    result = ds.simulate(scenario, seed=5, world=world, steps=40)
    events = result.events
    carried = events[(events["kind"] == "adopt") & (events["channel"] == "horizontal")]
    assert len(carried) > 100
    with_source = carried[carried["source_city"] >= 0]
    assert (with_source["source_layer"] == "graph").all()
    adoption = events[events["kind"] == "adopt"].groupby("city")["step"].min()
    assert (adoption[with_source["source_city"]].to_numpy() < with_source["step"].to_numpy()).all()
    pairs = zip(with_source["city"], with_source["source_city"], strict=True)
    assert all(graph.has_edge(city, source) for city, source in pairs)
    # only a city with threshold 0 adopts with no adopted neighbour (Granovetter's instigator)
    no_source = carried[carried["source_city"] < 0]
    assert no_source["source_layer"].isna().all()
    assert (result.cities.loc[no_source["city"], "threshold"] <= 0).all()
    assert result.outcomes()["carried_graph"] == len(with_source) / len(carried)


def _last_change_before(events: pd.DataFrame, city: int, step: int) -> str | None:
    earlier = events[(events["city"] == city) & (events["step"] < step)]
    return earlier["kind"].iloc[-1] if len(earlier) else None


def test_the_source_had_the_policy_at_the_start_of_the_step_even_with_abandonment():
    scenario = small(ds.load_scenario("embedded"), cities=600, steps=60).with_overrides(
        {"mechanisms.abandonment.enabled": True, "mechanisms.abandonment.rate": 0.05}
    )
    events = ds.simulate(scenario, seed=8).events
    assert (events["kind"] == "drop").sum() > 20
    carried = events[events["source_city"] >= 0]
    assert len(carried) > 100
    for city, step in zip(carried["source_city"], carried["step"], strict=True):
        assert _last_change_before(events, city, step) == "adopt"


def test_vertical_and_hierarchical_adoptions_name_a_government_above_the_city():
    scenario = small(ds.load_scenario("embedded"), cities=800, steps=80)
    result = ds.simulate(scenario, seed=2)
    events, cities, govs = result.events, result.cities, result.governments
    names = govs["name"].to_numpy()
    levels = [c for c in cities.columns if c.endswith("_government")]
    checked = {"vertical": 0, "hierarchical": 0}
    gov_events = result.government_events
    for row in events[events["channel"].isin(["vertical", "hierarchical"])].itertuples():
        source = names[row.source_government]
        assert source in set(cities.loc[row.city, levels]), "the source governs the city"
        mine = gov_events[(gov_events["name"] == source) & (gov_events["kind"] == "adopt")]
        had_it = (mine["step"] < row.step).any()
        if row.channel == "hierarchical":
            assert had_it and govs.set_index("name").loc[source, "mandate"], "its mandate"
        else:  # support: +1 for a supportive stance, +1 for having the policy
            assert had_it or govs.set_index("name").loc[source, "stance"] == "supportive"
        checked[row.channel] += 1
    assert min(checked.values()) > 10
    others = events[~events["channel"].isin(["vertical", "hierarchical"])]
    assert (others["source_government"] == -1).all()


def test_pioneers_are_marked_as_caused_by_an_event():
    scenario = small(ds.load_scenario("embedded")).with_overrides(
        {"events": [{"step": 3, "kind": "pioneers", "count": 4}]}
    )
    events = ds.simulate(scenario, seed=1).events
    by_event = events[events["by_event"]]
    assert set(by_event["step"]) == {0, 3}
    assert (by_event["channel"] == "innovation").all()
    assert not events.loc[events["step"] > 3, "by_event"].any()


@pytest.mark.parametrize("name", ["embedded", "horizontal", "europe_embedded"])
def test_engines_agree_on_every_source(name):
    scenario = ds.load_scenario(name)
    scenario = small(scenario, cities=500, steps=30) if name != "europe_embedded" else scenario
    steps = 12 if name == "europe_embedded" else None
    fast = ds.simulate(scenario, seed=6, steps=steps)
    agents = ds.simulate(scenario, seed=6, steps=steps, engine="agents")
    pd.testing.assert_frame_equal(fast.events, agents.events)
    assert (fast.events["source_city"] >= 0).sum() > 0


def test_network_layers_follow_the_networks_in_force_at_each_step():
    """A network founded mid-run carries no adoption before it exists, and some after."""
    scenario = small(ds.load_scenario("embedded"), cities=1500, steps=40)
    founded = scenario.with_overrides(
        {
            "networks.covenant.founded_step": 10,
            "events": [{"step": 10, "kind": "network_founded", "network": "covenant"}],
        }
    )
    events = ds.simulate(founded, seed=3).events
    covenant = events[events["source_layer"] == "covenant"]
    assert len(covenant) and covenant["step"].min() >= 10
    always = ds.simulate(scenario, seed=3).events
    assert (always.loc[always["step"] < 10, "source_layer"] == "covenant").any()
