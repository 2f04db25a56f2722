"""Horizontal ties: the weighted layers between cities and the influence matrix built from them.

A run's ties depend on the world, the scenario's horizontal weights and which
networks are active at what size; :class:`diffusion_sim.setup.Setup` caches
both per configuration of networks. The layers stay apart for provenance and
estimation (which layer carried a tie); influence sums them, scales by the
sources' prestige and rounds to integer units (mechanisms/horizontal.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numba
import numpy as np
import scipy.sparse as sp

from diffusion_sim import compiling
from diffusion_sim.mechanisms import horizontal
from diffusion_sim.networks import comember_ties
from diffusion_sim.world import World


@dataclass(frozen=True)
class Influence:
    """Horizontal tie weights for one configuration of active networks."""

    by_source: sp.csr_array
    """Row j: the cities an adopter j influences, with integer-valued weights."""
    total: np.ndarray
    """Per city: the sum of its incoming weights (the threshold rule's denominator)."""

    @cached_property
    def by_target(self) -> sp.csr_array:
        """Row i: the cities that influence i, with the weights as int32 integers.

        Built when first needed (a network founded or opened mid-run): recomputing
        every city's pressure then reads rows in order, gathering from the adoption
        mask, and sums integers (kernels.gather_pressure).
        """
        transposed = compact(sp.csr_array(self.by_source.T.tocsr()))
        weights = transposed.data.astype(np.int32)
        if not np.array_equal(weights, transposed.data):
            raise ValueError("influence weights must be integers below 2^31")
        return sp.csr_array(
            (weights, transposed.indices, transposed.indptr), shape=self.by_source.shape
        )


def compact(matrix: sp.csr_array) -> sp.csr_array:
    """The same matrix in half the bytes: int32 indices, float32 weights where exact.

    Integer weights below 2^24 (all of them, with the weight units of
    mechanisms/horizontal.py) are exact in float32, and every sum of them is
    formed in float64, so no number changes; a step streams half the bytes.
    """
    data = matrix.data.astype(np.float32)
    if not np.array_equal(data, matrix.data):
        data = matrix.data
    index = np.int32 if matrix.nnz < 2**31 and matrix.shape[0] < 2**31 else np.int64
    return sp.csr_array(
        (data, matrix.indices.astype(index), matrix.indptr.astype(index)), shape=matrix.shape
    )


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
    starts = np.cumsum([0] + [layer.nnz for layer in layers])[:-1]
    indptr = np.vstack(
        [layer.indptr.astype(np.int64) + start for layer, start in zip(layers, starts, strict=True)]
    )
    indices = np.concatenate([layer.indices.astype(np.int64) for layer in layers])
    data = np.concatenate([layer.data for layer in layers])
    out_indptr = np.zeros(n + 1, dtype=np.int64)
    out_indices = np.empty(len(indices), dtype=np.int64)
    out_data = np.empty(len(indices))
    args = (indptr, indices, data, out_indptr, out_indices, out_data)
    nnz = compiling.bind(_merge_rows, *args)(*args)
    total = sp.csr_array((out_data[:nnz], out_indices[:nnz], out_indptr), shape=(n, n))
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


@numba.njit(cache=True, nogil=True)
def _merge_rows(indptr, indices, data, out_indptr, out_indices, out_data):  # pragma: no cover
    """Row by row, merge the layers' sorted entries, adding where columns meet.

    Each layer is merged into the running row in turn, so an entry in several
    layers is ((a + b) + c): the order csr + csr adds them in. Returns the count.
    """
    layers, n = indptr.shape[0], indptr.shape[1] - 1
    width = 0
    for i in range(n):
        w = 0
        for k in range(layers):
            w += indptr[k, i + 1] - indptr[k, i]
        width = max(width, w)
    cols, vals = np.empty(width, np.int64), np.empty(width)
    next_cols, next_vals = np.empty(width, np.int64), np.empty(width)
    pos = 0
    for i in range(n):
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
    """The influence matrix of the summed layers: prestige-scaled integer units, CSR by source."""
    ties = summed(list(layers.values()), len(population))
    source_prestige = horizontal.prestige(population, settings.prestige_alpha)
    if settings.rule == "contagion":
        by_source = horizontal.log_escape_weights(ties, source_prestige, settings.strength)
    else:
        by_source = horizontal.influence_weights(ties, source_prestige)
    by_source.sort_indices()
    total = np.bincount(by_source.indices, weights=by_source.data, minlength=len(population))
    return Influence(by_source=compact(by_source), total=total)
