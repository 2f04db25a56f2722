"""Worlds: the synthetic generator, networks' membership rules, bring-your-own graphs."""

from __future__ import annotations

import warnings

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

import diffusion_sim as ds
from diffusion_sim.world import FOLLOWER, LAGGARD, LEADER, ladder_position
from diffusion_sim.world.networks import comember_ties


@pytest.fixture(scope="module")
def world() -> ds.World:
    scenario = ds.load_scenario("scenarios/embedded.toml").with_overrides({"world.n_cities": 3000})
    return ds.build_world(scenario)


def test_same_seed_same_world_other_seed_other_world():
    scenario = ds.Scenario().with_overrides({"world.n_cities": 500})
    a, b = ds.build_world(scenario, seed=1), ds.build_world(scenario, seed=1)
    c = ds.build_world(scenario, seed=2)
    assert np.array_equal(a.leaning, b.leaning) and np.array_equal(a.country, b.country)
    assert (a.layers["proximity"] != b.layers["proximity"]).nnz == 0
    assert not np.array_equal(a.leaning, c.leaning)


def test_synthetic_world_follows_zipf_and_has_every_country(world):
    population = np.sort(world.population)[::-1]
    ranks = np.arange(1, len(population) + 1)
    slope = np.polyfit(np.log(ranks), np.log(population), 1)[0]
    assert slope == pytest.approx(-1.0, abs=0.02)
    assert set(np.unique(world.country)) == set(range(len(world.country_names)))
    assert ((world.capacity >= 0) & (world.capacity <= 1)).all()
    assert world.in_bloc.any() and not world.in_bloc.all()


def test_ties_are_symmetric_and_without_self_loops(world):
    for layer in world.layers.values():
        assert (layer != layer.T).nnz == 0
        assert layer.diagonal().sum() == 0


def test_exclusive_network_takes_the_largest_cities(world):
    c40 = next(n for n in world.networks if n.name == "c40")
    largest = np.argsort(-world.population, kind="stable")[: c40.size]
    assert set(c40.members()) == set(largest)


def test_regional_network_takes_large_cities_of_the_bloc(world):
    euro = next(n for n in world.networks if n.name == "eurocities")
    members = euro.members()
    assert world.in_bloc[members].all()
    outside = world.population[world.in_bloc & ~np.isin(np.arange(world.n_cities), members)]
    assert world.population[members].min() >= outside.max()


def test_national_associations_have_at_most_size_members_per_country(world):
    assoc = next(n for n in world.networks if n.name == "associations")
    counts = np.bincount(world.country[assoc.members()], minlength=len(world.country_names))
    assert counts.max() <= 25
    assert (counts > 0).all()


def test_open_network_favours_ready_cities(world):
    covenant = next(n for n in world.networks if n.name == "covenant")
    readiness = np.sqrt(world.capacity * world.leaning)
    members = covenant.members()
    others = np.setdiff1d(np.arange(world.n_cities), members)
    assert readiness[members].mean() > readiness[others].mean() + 0.1
    assert len(members) == covenant.size


def test_comember_ties_are_bounded_and_within_members():
    rng = np.random.default_rng(0)
    members = np.arange(100, 1100)
    ties = comember_ties(members, 2000, 6, rng)
    degree = np.diff(ties.indptr)
    assert degree[:100].sum() == 0 and degree[1100:].sum() == 0
    assert degree[members].min() >= 3
    assert degree[members].max() <= 20
    assert (ties != ties.T).nnz == 0


def test_ladder_cut_offs():
    capacity = np.array([0.9, 0.3, 0.05])
    leaning = np.array([0.9, 0.5, 0.5])
    assert ladder_position(capacity, leaning, 0.42, 0.3).tolist() == [LEADER, FOLLOWER, LAGGARD]


def test_from_networkx_graph_with_node_attributes():
    graph = nx.Graph()
    graph.add_node("a", population=1000, country="X", leaning=0.9)
    graph.add_node("b", population=10, country="Y", leaning=0.2)
    graph.add_node("c", population=10, country="Y", leaning=0.2)
    graph.add_edge("a", "b", weight=2.0)
    graph.add_edge("b", "c")
    world = ds.World.from_graph(graph, capacity=[1.0, 0.1, 0.1])
    assert world.n_cities == 3 and world.n_ties == 2
    assert world.population.tolist() == [1000, 10, 10]
    assert world.country_names == ("X", "Y")
    assert list(world.city_names) == ["a", "b", "c"]
    assert world.layers["graph"][0, 1] == 2.0 and world.layers["graph"][1, 2] == 1.0
    result = ds.simulate(ds.Scenario(), seed=1, world=world, steps=5)
    assert len(result.cities) == 3


def test_from_sparse_matrix_symmetrizes_and_rejects_bad_attributes():
    directed = sp.csr_array(np.array([[0, 1.0, 0], [0, 0, 3.0], [0, 0, 0]]))
    world = ds.World.from_graph(directed)
    assert world.layers["graph"][1, 0] == 1.0 and world.layers["graph"][2, 1] == 3.0
    with pytest.raises(ds.InputError, match="one value per city"):
        ds.World.from_graph(directed, population=[1, 2])
    with pytest.raises(ds.InputError, match="leaning"):
        ds.World.from_graph(directed, leaning=[0.5, 2.0, 0.1])
    with pytest.raises(ds.InputError, match="networkx graph or a scipy sparse"):
        ds.World.from_graph([[0, 1], [1, 0]])


def test_cities_are_numbered_in_space_and_named_by_size(world):
    # Names keep the size rank ("City 1" is the largest); indices follow region, then space.
    rank = np.array([int(name.split()[1]) for name in world.city_names])
    assert np.array_equal(np.sort(rank), np.arange(1, world.n_cities + 1))
    assert (np.diff(world.population[np.argsort(rank)]) <= 0).all()
    assert (np.diff(world.region) >= 0).all()
    ties = world.layers["proximity"].tocoo()
    assert np.median(np.abs(ties.row - ties.col)) < world.n_cities / 50


def test_world_repr_is_one_short_line():
    world = ds.World.from_graph(nx.watts_strogatz_graph(1000, 6, 0.1, seed=1), capacity=0.9)
    text = repr(world)
    assert len(text) < 200 and "\n" not in text
    assert text.startswith("World(1,000 cities, 3,000 ties")


def test_from_graph_warns_when_every_city_lands_on_one_rung():
    with pytest.warns(UserWarning, match="capacity= and leaning="):
        world = ds.World.from_graph(nx.path_graph(5))
    assert set(world.ladder.tolist()) == {LEADER}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds.World.from_graph(nx.path_graph(3), capacity=[0.9, 0.5, 0.1], leaning=0.5)


def test_a_rung_without_cities_has_no_share_not_zero():
    import networkx as nx
    import numpy as np
    import pytest

    scenario = ds.Scenario().with_overrides({"run.steps": 5})
    with pytest.warns(UserWarning, match="same rung"):
        world = ds.World.from_graph(nx.path_graph(30))
    result = ds.simulate(scenario, seed=1, world=world)
    summary = result.summary()
    assert summary["share_leaders"] >= 0  # every city is a leader
    assert np.isnan(summary["share_followers"]) and np.isnan(summary["share_laggards"])
    assert np.isnan(result.outcomes()["share_laggards"])
