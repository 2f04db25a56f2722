"""Horizontal ties: the weighted layers between cities and the influence matrix built from them.

A run's ties depend on the world, the scenario's horizontal weights and which
networks are active at what size; :class:`diffusion_sim.model.setup.Setup` caches
both per configuration of networks. The layers stay apart for provenance and
estimation (which layer carried a tie); influence sums them, scales by the
sources' prestige and rounds to integer units (mechanisms/horizontal.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from diffusion_sim.mechanisms import compiling, horizontal
from diffusion_sim.mechanisms.compiling import compiled
from diffusion_sim.world import World
from diffusion_sim.world.networks import comember_ties


@dataclass(frozen=True)
class Influence:
    """Horizontal tie weights for one configuration of active networks."""

    by_source: sp.csr_array
    """Row j: the cities an adopter j influences, with integer-valued weights."""
    total: np.ndarray
    """Per city: the sum of its incoming weights (the threshold rule's denominator)."""
    by_target: sp.csr_array
    """Row i: the cities that influence i, with the weights as int32 integers.

    Recomputing every city's pressure (a network founded or opened mid-run) reads
    rows in order, gathering from the adoption mask, and sums integers
    (kernels.gather_pressure); provenance reads a city's row for each horizontal
    adoption. It is the summed ties' own orientation, so it costs no transpose.
    """


def compact(matrix: sp.csr_array) -> sp.csr_array:
    """The same matrix in half the bytes: int32 indices, float32 weights where exact.

    Integer weights below 2^24 (all of them, with the weight units of
    mechanisms/horizontal.py) are exact in float32, and every sum of them is
    formed in float64, so no number changes; a step streams half the bytes.
    """
    data = matrix.data.astype(np.float32)
    if not np.array_equal(data, matrix.data):
        data = matrix.data
    return _narrow(matrix, data)


def _narrow(matrix: sp.csr_array, data: np.ndarray) -> sp.csr_array:
    """``data`` on the entries of ``matrix``, with int32 index arrays where they fit
    (shared, not copied, when they are int32 already)."""
    index = _index_dtype(matrix.nnz, matrix.shape[0])
    indices, indptr = (a.astype(index, copy=False) for a in (matrix.indices, matrix.indptr))
    return sp.csr_array((data, indices, indptr), shape=matrix.shape)


def _index_dtype(nnz: int, n: int) -> type:
    """int32 when every index and offset fits, else int64."""
    return np.int32 if nnz < 2**31 and n < 2**31 else np.int64


def layer_names(world: World) -> list[str]:
    """Every tie layer a run on ``world`` can have: the world's, then each network's."""
    return [*world.layers, *(_network_layer_name(world, net) for net in world.networks)]


def _network_layer_name(world: World, net) -> str:
    """A network's layer is named after it, unless a world layer has that name already."""
    return net.name if net.name not in world.layers else f"{net.name} (network)"


def network_ties(world: World, k: int, size: int) -> sp.csr_array:
    """Network k's co-membership ties at ``size`` members (0/1, unweighted).

    Drawn from a generator seeded by the world, the network and its size, so the
    same size always gives the same ties (runs, both engines, exports).
    """
    net = world.networks[k]
    members = net.members(size)
    rng = np.random.default_rng([world.seed, k, size])
    group = world.country[members] if net.rule == "national" else None
    return comember_ties(members, world.n_cities, net.max_ties_per_member, rng, group)


def tie_layers(world: World, settings, network_sizes: dict[int, int]) -> dict[str, sp.csr_array]:
    """Each layer weighted as ``settings`` (``mechanisms.horizontal``) weighs it.

    The world's layers (proximity, twinning, ...) and one per active network
    (:func:`network_ties`). A world layer with weight 1 is returned as is (read it,
    do not write it).
    """
    weights = {"proximity": settings.proximity_weight, "twinning": settings.twinning_weight}
    layers = {
        name: layer if weights.get(name, 1.0) == 1.0 else weights[name] * layer
        for name, layer in world.layers.items()
    }
    for k, size in network_sizes.items():
        net = world.networks[k]
        weight = settings.network_weight * net.tie_weight
        layers[_network_layer_name(world, net)] = weight * network_ties(world, k, size)
    return layers


def summed(layers: list[sp.csr_array], n: int) -> sp.csr_array:
    """The sum of the layers, entry by entry in layer order: the numbers ``L1 + L2 + ...``
    gives, in one pass over the entries instead of one per layer (2.3 s of csr + csr
    at a million cities and twenty layers; docs/performance.md)."""
    layers = [_canonical(layer) for layer in layers]
    if not layers:
        return sp.csr_array((n, n), dtype=np.float64)
    total_nnz = sum(layer.nnz for layer in layers)
    index = _index_dtype(total_nnz, n)  # int32 at world scale: half the bytes to stream
    indptr = np.empty((len(layers), n + 1), dtype=np.int64)  # each layer's rows, offset
    start = 0
    for k, layer in enumerate(layers):
        np.add(layer.indptr, start, out=indptr[k])
        start += layer.nnz
    indices = np.concatenate([layer.indices for layer in layers], dtype=index)
    data = np.concatenate([layer.data for layer in layers])
    out_indptr = np.zeros(n + 1, dtype=index)
    out_indices = np.empty(len(indices), dtype=index)
    out_data = np.empty(len(indices))
    args = (indptr, indices, data, out_indptr, out_indices, out_data)
    nnz = compiling.bind(_merge_rows, *args)(*args)
    del indices, data
    if nnz < len(out_data) // 2:  # many columns met: give the unused tail back
        out_indices, out_data = out_indices[:nnz].copy(), out_data[:nnz].copy()
    total = sp.csr_array((out_data[:nnz], out_indices[:nnz], out_indptr), shape=(n, n))
    total.has_canonical_format = True  # merged rows are sorted, each column once
    total.eliminate_zeros()
    return total


def _canonical(layer: sp.csr_array) -> sp.csr_array:
    """A float64 CSR with sorted column indices and no duplicates in a row (summed), as
    csr + csr assumes; the layer itself when it is one already (no copy)."""
    layer = sp.csr_array(layer)
    if layer.dtype != np.float64:
        layer = layer.astype(np.float64)
    if layer.has_canonical_format:
        return layer
    layer = layer.copy()
    layer.sum_duplicates()
    return layer


@compiled
def _merge_rows(indptr, indices, data, out_indptr, out_indices, out_data):  # pragma: no cover
    """Row by row, merge the layers' sorted entries, adding where columns meet.

    Each layer is merged into the running row in turn, so an entry in several
    layers is ((a + b) + c): the order csr + csr adds them in. A row held by one
    layer only (most rows at world scale) is copied. Returns the count.
    """
    layers, n = indptr.shape[0], indptr.shape[1] - 1
    width = 0
    for i in range(n):
        w = 0
        for k in range(layers):
            w += indptr[k, i + 1] - indptr[k, i]
        width = max(width, w)
    cols, vals = np.empty(width, indices.dtype), np.empty(width)
    next_cols, next_vals = np.empty(width, indices.dtype), np.empty(width)
    pos = 0
    for i in range(n):
        held, only = 0, 0
        for k in range(layers):
            if indptr[k, i + 1] > indptr[k, i]:
                held += 1
                only = k
        if held == 1:
            for q in range(indptr[only, i], indptr[only, i + 1]):
                out_indices[pos], out_data[pos] = indices[q], data[q]
                pos += 1
            out_indptr[i + 1] = pos
            continue
        size = 0
        for k in range(layers):
            q, stop = indptr[k, i], indptr[k, i + 1]
            if q == stop:
                continue
            p = m = 0
            while p < size or q < stop:
                if q >= stop or (p < size and cols[p] < indices[q]):
                    next_cols[m], next_vals[m] = cols[p], vals[p]
                    p += 1
                elif p >= size or indices[q] < cols[p]:
                    next_cols[m], next_vals[m] = indices[q], data[q]
                    q += 1
                else:
                    next_cols[m], next_vals[m] = cols[p], vals[p] + data[q]
                    p += 1
                    q += 1
                m += 1
            cols, next_cols = next_cols, cols
            vals, next_vals = next_vals, vals
            size = m
        out_indices[pos : pos + size] = cols[:size]
        out_data[pos : pos + size] = vals[:size]
        pos += size
        out_indptr[i + 1] = pos
    return pos


def influence(layers: dict[str, sp.csr_array], population: np.ndarray, settings) -> Influence:
    """The influence matrix of the summed layers: prestige-scaled integer units.

    The weights are computed in the ties' own orientation (row i: who influences
    i), which is ``by_target`` as it is; ``by_source`` is its one transpose.
    """
    ties = summed(list(layers.values()), len(population))
    source_prestige = horizontal.prestige(population, settings.prestige_alpha)
    if settings.rule == "contagion":
        weights = horizontal.log_escape_weights(
            ties, source_prestige, settings.strength, by_source=False
        )
    else:
        weights = horizontal.influence_weights(ties, source_prestige, by_source=False)
    del ties
    # Integer weights: every sum is exact in float64, in any order. by_source is
    # transposed from the compacted matrix: half the bytes to move.
    total = np.asarray(weights.sum(axis=1), dtype=np.float64).ravel()
    by_target = _integer_weights(weights)
    by_source = sp.csr_array(compact(weights).T)
    return Influence(by_source=by_source, total=total, by_target=by_target)


def _integer_weights(weights: sp.csr_array) -> sp.csr_array:
    """The same matrix with int32 weights and indices (what the gathering kernels read)."""
    data = weights.data.astype(np.int32)
    if not np.array_equal(data, weights.data):
        raise ValueError("influence weights must be integers below 2^31")
    return _narrow(weights, data)


@compiled
def row(indptr, indices, weights, r):  # pragma: no cover - compiled
    """Row r of a CSR matrix as two views (its column indices and its weights).

    Looping over a view by position (0..len-1) lets the compiler skip the check for
    negative indices that a loop over ``range(indptr[r], indptr[r + 1])`` needs on
    every element: 10-25% faster (docs/performance.md).
    """
    start, stop = indptr[r], indptr[r + 1]
    return indices[start:stop], weights[start:stop]
