"""The faster world-scale paths (issue 13) give exactly the numbers of the plain ones.

Each test builds the same thing the way the code did before (scipy's broadcast
multiply and transpose, a coo matrix and its maximum with the transpose, numpy's
masked cumulative sums, pandas' own string inference) and compares entry by entry.
"""

from __future__ import annotations

import types

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import diffusion_sim as ds
from diffusion_sim.mechanisms import horizontal
from diffusion_sim.model import provenance, ties
from diffusion_sim.world import networks


def random_ties(n: int, seed: int) -> sp.csr_array:
    """A symmetric-ish weighted layer with weights that do not add exactly."""
    layer = sp.random_array((n, n), density=0.05, random_state=seed, format="csr")
    layer.data = np.round(layer.data * 7) / 3.0
    return sp.csr_array(layer)


def assert_same(got: sp.csr_array, expected: sp.csr_array) -> None:
    expected = sp.csr_array(expected)
    expected.sort_indices()
    got = sp.csr_array(got)
    assert got.has_sorted_indices
    for part in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(got, part), getattr(expected, part))


@pytest.mark.parametrize("rule", ["threshold", "contagion"])
@pytest.mark.parametrize("seed", range(3))
def test_influence_equals_the_transposed_broadcast_product(rule, seed):
    n = 120
    layers = {"a": random_ties(n, seed), "b": random_ties(n, seed + 50)}
    population = np.random.default_rng(seed).integers(0, 5000, n)  # a city of 0: prestige 0
    population[3] = 0
    settings = types.SimpleNamespace(rule=rule, prestige_alpha=0.7, strength=0.3)
    got = ties.influence(layers, population, settings)

    summed = sp.csr_array(layers["a"] + layers["b"])
    prestige = horizontal.prestige(population, 0.7)
    by_source = sp.csr_array(summed.T.multiply(prestige[:, None]))
    by_source.eliminate_zeros()
    if rule == "contagion":
        by_source.data = np.round(horizontal.log_escape(0.3 * by_source.data) * 2.0**20)
        by_source.eliminate_zeros()
    else:
        by_source.data = np.maximum(1.0, np.round(by_source.data * 2.0**20 / by_source.data.max()))
    assert_same(got.by_source, by_source)
    assert got.by_source.data.dtype == np.float32 and got.by_source.indices.dtype == np.int32
    assert_same(got.by_target, sp.csr_array(by_source.T).astype(np.int32))
    assert got.by_target.data.dtype == np.int32
    expected_total = np.bincount(by_source.indices, weights=by_source.data, minlength=n)
    np.testing.assert_array_equal(got.total, expected_total)


def test_weights_leave_the_ties_they_are_given_alone():
    ties_matrix = random_ties(60, 1)
    before = [a.copy() for a in (ties_matrix.indptr, ties_matrix.indices, ties_matrix.data)]
    prestige = np.r_[0.0, np.ones(59)]  # city 0's ties drop out
    horizontal.influence_weights(ties_matrix, prestige, by_source=False)
    horizontal.log_escape_weights(ties_matrix, prestige, 0.5, by_source=False)
    after = (ties_matrix.indptr, ties_matrix.indices, ties_matrix.data)
    for old, new in zip(before, after, strict=True):
        np.testing.assert_array_equal(old, new)


def reference_comember_ties(members, n, max_ties, rng, group=None):
    """The co-membership layer as the code built it before (coo, then max with the transpose)."""
    if group is not None:
        blocks = [
            reference_comember_ties(members[group == g], n, max_ties, rng) for g in np.unique(group)
        ]
        return sp.csr_array(sum(blocks, sp.csr_array((n, n))))
    m = len(members)
    if m < 2:
        return sp.csr_array((n, n), dtype=np.float64)
    if m <= max_ties + 1:
        rows, cols = np.meshgrid(members, members, indexing="ij")
        keep = rows != cols
        rows, cols = rows[keep], cols[keep]
    else:
        k = max(1, max_ties // 2)
        picks = rng.integers(0, m - 1, size=(m, k))
        picks += picks >= np.arange(m)[:, None]
        rows, cols = np.repeat(members, k), members[picks.ravel()]
    matrix = sp.coo_array((np.ones(len(rows)), (rows, cols)), shape=(n, n)).tocsr()
    matrix = matrix.maximum(matrix.T)
    matrix.data[:] = 1.0
    return sp.csr_array(matrix)


@pytest.mark.parametrize("seed", range(20))
def test_comember_ties_equal_the_coo_maximum_construction(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 300))
    members = rng.permutation(n)[: int(rng.integers(0, n + 1))]
    max_ties = int(rng.integers(1, 12))
    group = rng.integers(0, 5, len(members)) if seed % 2 else None
    got = networks.comember_ties(members, n, max_ties, np.random.default_rng(seed), group)
    expected = reference_comember_ties(members, n, max_ties, np.random.default_rng(seed), group)
    assert_same(got, expected)
    assert got.has_canonical_format


def reference_choose_layers(layers, targets, sources, rest):
    """choose_layers as numpy and scipy's indexing computed it."""
    parts = np.column_stack([np.asarray(m[targets, sources]).ravel() for m in layers.values()])
    cumulative = np.cumsum(parts, axis=1)
    total = cumulative[:, -1]
    covers = rest[:, None] * total[:, None] < cumulative
    last_held = parts.shape[1] - 1 - np.argmax(parts[:, ::-1] > 0, axis=1)
    chosen = np.where(covers.any(axis=1), np.argmax(covers, axis=1), last_held)
    return np.where(total > 0, chosen, -1)


@pytest.mark.parametrize("seed", range(10))
def test_the_compiled_layer_choice_equals_the_numpy_one(seed):
    rng = np.random.default_rng(seed)
    n = 80
    layers = {str(k): random_ties(n, seed * 10 + k) for k in range(3)}
    single = layers["1"]  # every entry twice, to add up: scipy's path
    layers["1"] = sp.csr_array(
        (np.repeat(single.data, 2), np.repeat(single.indices, 2), single.indptr * 2),
        shape=(n, n),
    )
    assert not layers["1"].has_canonical_format
    targets, sources = rng.integers(0, n, 500), rng.integers(0, n, 500)
    rest = rng.random(500)
    rest[:50] = np.nextafter(1.0, 0.0)  # rounding at the top: the last layer holding the tie
    got = provenance.choose_layers(layers, targets, sources, rest)
    np.testing.assert_array_equal(got, reference_choose_layers(layers, targets, sources, rest))


def test_a_synthetic_world_has_canonical_layers_and_pandas_own_city_table():
    scenario = ds.load_scenario("embedded").with_overrides({"world.n_cities": 3000})
    world = ds.build_world(scenario)
    for layer in world.layers.values():
        assert layer.has_canonical_format
    table = world.cities_frame()
    country = np.asarray(world.country_names + ("",), dtype=object)[world.country]
    region = np.asarray(world.region_names + ("",), dtype=object)[world.region]
    inferred = pd.DataFrame({"name": world.city_names, "country": country, "region": region})
    for column in inferred:
        assert table[column].dtype == inferred[column].dtype
        pd.testing.assert_series_equal(table[column], inferred[column])
    table.loc[0, "name"] = "changed"
    table["population"] *= 0
    again = world.cities_frame()
    assert again.loc[0, "name"] == world.city_names[0] and again["population"].iloc[0] > 0


def test_national_ranking_equals_the_three_key_sort():
    scenario = ds.load_scenario("embedded").with_overrides({"world.n_cities": 2000})
    world = ds.build_world(scenario)
    n = world.n_cities
    order = np.lexsort((np.arange(n), -world.population, world.country))
    got = networks.rank_candidates(world, "national", 5, np.random.default_rng(0))
    country = world.country[order]
    starts = np.flatnonzero(np.r_[True, country[1:] != country[:-1]])
    within = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    order, within = order[within < 5], within[within < 5]
    np.testing.assert_array_equal(got, order[np.lexsort((-world.population[order], within))])
    np.testing.assert_array_equal(
        networks.largest_first(world), np.lexsort((np.arange(n), -world.population))
    )
