"""Provenance: which tie, government or event carried each adoption.

Both engines decide a city's fate and channel with one uniform u
(:mod:`diffusion_sim.mechanisms.embedded`). Given the channel, u's place in that
channel's interval is again uniform (:func:`embedded.position_in_channel`), and
it picks the source, so naming a source costs no draw and the engines agree:

- **horizontal**: the adopted neighbour j whose weight w_ji in the city's
  horizontal pressure covers that place, i.e. each adopted neighbour with
  probability w_ji / sum of the adopted neighbours' weights (the integer
  influence units of the threshold rule, or contagion's log-escape units);
  the rest of the same uniform then picks the tie layer that carried the tie
  j -> i, each layer with probability its weighted share of the tie
  (:func:`choose_layers`, after the run: layers do not change a decision);
- **vertical**: the government above whose top-down support is largest (the
  lowest level first among equals);
- **hierarchical**: the government whose mandate the city complies with (the
  earliest in force; the lowest level first among equals);
- **event**: a scheduled event (the pioneers at step 0 or a ``pioneers`` event);
- innovation, on its own initiative: no source.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from numba.extending import register_jitable

from diffusion_sim.mechanisms import compiling
from diffusion_sim.mechanisms.compiling import compiled
from diffusion_sim.mechanisms.registry import (
    CHANNELS,
    HIERARCHICAL,
    HORIZONTAL,
    INNOVATION,
    VERTICAL,
)
from diffusion_sim.model.events import network_changes, network_sizes_at
from diffusion_sim.model.ties import row
from diffusion_sim.model.trajectory import EVENT_SOURCE, NO_SOURCE


@register_jitable
def pick_in_proportion(v, weights, eligible):
    """(k, rest): the eligible entry chosen by v in [0, 1), each with probability its weight share.

    The eligible weights are laid end to end in order; k is the one whose part
    holds v x their sum, and ``rest`` is where in that part, again in [0, 1).
    Returns (-1, 0.0) when no entry is eligible.
    """
    total = 0.0
    for k in range(len(weights)):
        if eligible[k]:
            total += weights[k]
    target = v * total
    cumulative = 0.0
    last = -1
    for k in range(len(weights)):
        if eligible[k]:
            before = cumulative
            cumulative += weights[k]
            last = k
            if target < cumulative:
                return k, (target - before) / weights[k]
    return last, 0.0  # v x total rounded up to the total: the last eligible entry


@register_jitable
def strongest_supporter(above, support):
    """The government in ``above`` (one per level, lowest first) giving the most support.

    The first (lowest) level wins a tie: the largest term of the city's summed support.
    """
    best = above[0]
    for g in above[1:]:
        if support[g] > support[best]:
            best = g
    return best


@register_jitable
def mandating_government(above, mandate_step, mandate_start):
    """The government in ``above`` whose mandate in force started at ``mandate_start``
    (the earliest over the city, so the one it complies with); the lowest level first."""
    for g in above:
        if mandate_step[g] == mandate_start:
            return g
    return NO_SOURCE


@compiled
def adoption_sources(
    adopting,
    channel,
    within,
    by_target,
    adopted,
    city_gov,
    support,
    mandate_step,
    mandate_start,
    source,
    rest,
):  # pragma: no cover
    """What carried each adoption of a step (see the module docstring), from its state
    at the start of the step.

    ``by_target`` is (indptr, indices, weights) of the influence matrix by target (row
    i: the cities that influence i, in index order); ``within[k]`` is the city's
    place in its channel; ``city_gov`` is (levels, cities) government indices.
    """
    indptr, indices, weights = by_target
    for k in range(len(adopting)):
        c = adopting[k]
        source[k], rest[k] = NO_SOURCE, 0.0
        if channel[k] == HORIZONTAL:
            neighbours, w = row(indptr, indices, weights, c)
            eligible = np.empty(len(neighbours), dtype=np.bool_)
            for m in range(len(neighbours)):
                eligible[m] = adopted[neighbours[m]]
            m, rest[k] = pick_in_proportion(within[k], w, eligible)
            source[k] = neighbours[m] if m >= 0 else NO_SOURCE
        elif channel[k] == VERTICAL:
            source[k] = strongest_supporter(city_gov[:, c], support)
        elif channel[k] == HIERARCHICAL:
            source[k] = mandating_government(city_gov[:, c], mandate_step, mandate_start[c])


def choose_layers(
    layers: dict[str, sp.csr_array], targets: np.ndarray, sources: np.ndarray, rest: np.ndarray
) -> np.ndarray:
    """Index into ``layers`` of the layer that carried each tie source -> target.

    Each layer with probability its share of the tie's weight (its weighted
    entry [target, source] over their sum), chosen by ``rest`` in [0, 1), the
    remainder of the uniform that chose the source. -1 where no layer holds the tie.
    """
    if not len(targets) or not layers:
        return np.full(len(targets), -1, dtype=np.int64)
    targets, sources = np.asarray(targets, np.int64), np.asarray(sources, np.int64)
    parts = np.empty((len(layers), len(targets)))
    for k, layer in enumerate(layers.values()):
        if not isinstance(layer, sp.csr_array):
            layer = sp.csr_array(layer)
        if layer.has_canonical_format:  # sorted rows (scipy keeps the answer): binary search
            args = (layer.indptr, layer.indices, layer.data, targets, sources, parts[k])
            compiling.bind(_entries, *args)(*args)
        else:  # duplicates to add up: scipy's indexing does
            parts[k] = np.asarray(layer[targets, sources]).ravel()
    chosen = np.empty(len(targets), dtype=np.int64)
    args = (parts, np.asarray(rest, np.float64), chosen)
    compiling.bind(_pick_layers, *args)(*args)
    return chosen


@compiled
def _entries(indptr, indices, data, targets, sources, out):  # pragma: no cover
    """out[k] = the canonical CSR matrix's entry [targets[k], sources[k]] (0 if absent)."""
    for k in range(len(targets)):
        lo, hi = indptr[targets[k]], indptr[targets[k] + 1]
        j = sources[k]
        while lo < hi:  # the first position whose column is >= j
            mid = (lo + hi) // 2
            if indices[mid] < j:
                lo = mid + 1
            else:
                hi = mid
        out[k] = data[lo] if lo < indptr[targets[k] + 1] and indices[lo] == j else 0.0


@compiled
def _pick_layers(parts, rest, chosen):  # pragma: no cover
    """Per tie (a column of ``parts``, one row per layer): the first layer whose running sum
    of weights exceeds rest x the total; the last layer holding the tie if rounding
    leaves none; -1 if no layer holds it. The sums run in layer order (as np.cumsum)."""
    n_layers = parts.shape[0]
    for k in range(parts.shape[1]):
        total = 0.0
        last_held = n_layers - 1  # (as argmax over none: never read, total is 0)
        for m in range(n_layers):
            total += parts[m, k]
            if parts[m, k] > 0:
                last_held = m
        if not total > 0:
            chosen[k] = -1
            continue
        target = rest[k] * total
        chosen[k] = last_held
        cumulative = 0.0
        for m in range(n_layers):
            cumulative += parts[m, k]
            if target < cumulative:
                chosen[k] = m
                break


def adoption_layers(setup, trajectory) -> np.ndarray:
    """Per city event: index into ``setup.layer_names()`` of the tie layer that carried it.

    -1 for every event but a horizontal adoption with a source. Networks change
    only by scheduled events, so the layers in force at each adoption's step are
    rebuilt from the setup (cached per configuration of networks).
    """
    layer = np.full(len(trajectory.city), -1, dtype=np.int64)
    carried = np.flatnonzero(trajectory.city_source >= 0)
    carried = carried[trajectory.city_channel[carried] == HORIZONTAL]
    if not len(carried):
        return layer
    changes = network_changes(setup)
    epoch = np.searchsorted(changes, trajectory.city_step[carried], side="right")
    for k in np.unique(epoch):
        these = carried[epoch == k]
        layer[these] = layers_at(
            setup,
            int(trajectory.city_step[these[0]]),
            trajectory.city[these],
            trajectory.city_source[these],
            trajectory.city_source_rest[these],
        )
    return layer


def layers_at(
    setup, step: int, targets: np.ndarray, sources: np.ndarray, rest: np.ndarray
) -> np.ndarray:
    """Index into ``setup.layer_names()`` of the layer that carried each tie at ``step``
    (:func:`choose_layers` over the layers in force then; -1 where none holds it)."""
    layers = setup.tie_layers(network_sizes_at(setup, step))
    names = setup.layer_names()
    codes = np.array([names.index(name) for name in layers] + [-1])
    return codes[choose_layers(layers, targets, sources, rest)]


def describe(setup, city: int, step: int, channel: int, source: int, rest: float) -> str:
    """One adoption in words: "adopted in month 14 after Rotterdam (eurocities)".

    ``channel`` is an adoption channel's code, ``source`` and ``rest`` as the
    trajectory records them; the step is named in the scenario's ``run.step_unit``.
    """
    unit = setup.scenario.run.step_unit or "step"
    when = f"adopted in {unit} {step}"
    names, governments = setup.world.city_names, setup.gov_names
    if source == EVENT_SOURCE:
        return f"{when} as a pioneer (a scheduled event)"
    if source < 0 and channel == HORIZONTAL:  # only a threshold of 0 needs no adopter
        return f"{when} through horizontal influence with no adopted neighbour (threshold 0)"
    if source < 0:
        alone = " on its own initiative" if channel == INNOVATION else ""
        return f"{when} through {CHANNELS[channel]}{alone}"
    if channel == HORIZONTAL:
        k = layers_at(setup, step, np.array([city]), np.array([source]), np.array([rest]))[0]
        layer = f" ({setup.layer_names()[k]})" if k >= 0 else ""
        return f"{when} after {names[source]}{layer}"
    if channel == VERTICAL:
        return f"{when} with support from {governments[source]}"
    return f"{when} under the mandate of {governments[source]}"
