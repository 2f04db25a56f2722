"""Tie layers and their sum: the one-pass sum gives exactly the numbers of L1 + L2 + ..."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from diffusion_sim.model.ties import summed


def random_layer(n: int, density: float, seed: int) -> sp.csr_array:
    layer = sp.random_array((n, n), density=density, random_state=seed, format="csr")
    layer.data = np.round(layer.data * 7) / (seed + 1.3)  # weights that do not add exactly
    return sp.csr_array(layer)


@pytest.mark.parametrize("seed", range(4))
def test_the_one_pass_sum_equals_adding_the_layers_in_order(seed):
    n = 300
    layers = [random_layer(n, 0.01 * (k + 1), seed * 10 + k) for k in range(5)]
    unsorted = sp.coo_array(layers[2])  # a layer with duplicate and unsorted entries
    doubled = sp.coo_array(
        (
            np.r_[unsorted.data, unsorted.data][::-1],
            (np.r_[unsorted.row, unsorted.row][::-1], np.r_[unsorted.col, unsorted.col][::-1]),
        ),
        shape=(n, n),
    )
    layers[2] = sp.csr_array(doubled)
    expected = sp.csr_array((n, n), dtype=np.float64)
    for layer in layers:
        expected = expected + layer
    expected = sp.csr_array(expected)
    expected.eliminate_zeros()
    got = summed(layers, n)
    for part in ("indptr", "indices", "data"):
        np.testing.assert_array_equal(getattr(got, part), getattr(expected, part))


def test_no_layers_sum_to_no_ties():
    assert summed([], 4).nnz == 0 and summed([], 4).shape == (4, 4)
