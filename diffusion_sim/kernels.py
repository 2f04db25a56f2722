"""Compiled loops of the vectorized engine: the per-city work on the cities that changed.

Why compiled (docs/performance.md): a step at a million cities touches a few
thousand cities' ties and hazards at scattered indices. numpy pays for every
gather, scatter and temporary array of such a set; a loop over the set pays a
few nanoseconds per element and allocates nothing. numba compiles these loops
once and caches them on disk.

Why the numbers are the same as numpy's: the loops evaluate the formulas of
``diffusion_sim/mechanisms/`` with the same IEEE operations in the same order
(+, -, *, / are correctly rounded, and numba neither reorders nor fuses them
without ``fastmath``), and every sum they form is of integer-valued floats, exact
in any order. Contagion's ``exp`` is the one function left to numpy, whose ``exp``
may differ from libm's in the last bit. ``tests/test_performance_paths.py``
checks, every step, that the hazards kept with these loops equal a from-scratch
numpy evaluation bit for bit, and ``tests/test_engines.py`` that the engine
still agrees with the agents engine event for event.

The cities whose hazard must be recomputed are marked in a boolean array, the
*stale mask*: marking is one store (no branch to mispredict, no duplicate to
check), and the engine collects the marked cities once per step with
``np.flatnonzero``, in index order, so the refresh reads its arrays in order.

Tie weights arrive as float32 (``setup.compact``: integers below 2^24, exact) and
are added to float64 sums, so no rounding enters there either.
"""

from __future__ import annotations

import numba
import numpy as np

from diffusion_sim.mechanisms import susceptibility as _susceptibility
from diffusion_sim.setup import NO_MANDATE

compiled = numba.njit(cache=True, nogil=True)

voluntary = compiled(_susceptibility.voluntary_factor)
"""mechanisms.susceptibility.voluntary_factor, compiled from the same source."""

HORIZONTAL_OFF, THRESHOLD_RULE, CONTAGION_RULE = 0, 1, 2
"""How :func:`refresh_hazards` gets the horizontal hazard."""


@compiled
def row(indptr, indices, weights, r):  # pragma: no cover - compiled
    """Row r of a CSR matrix as two views (its column indices and its weights).

    Looping over a view by position (0..len-1) lets the compiler skip the check for
    negative indices that a loop over ``range(indptr[r], indptr[r + 1])`` needs on
    every element: 10-25% faster (docs/performance.md).
    """
    start, stop = indptr[r], indptr[r + 1]
    return indices[start:stop], weights[start:stop]


@compiled
def spread_influence(
    indptr, indices, weights, sources, sign, pressure, track, adopted, stale
):  # pragma: no cover
    """pressure[i] += sign x w_ji for every tie j -> i of the sources j (rows of a CSR matrix).

    With ``track``, every non-adopter whose pressure moved is marked stale (an
    adopter's hazard does not depend on it; one that drops is marked then).
    Weights are integer-valued, so the sums are exact in any order.
    """
    for j in sources:
        targets, w = row(indptr, indices, weights, j)
        if track:
            for k in range(len(targets)):
                i = targets[k]
                pressure[i] += sign * w[k]
                stale[i] |= not adopted[i]  # a store, not a branch
        else:
            for k in range(len(targets)):
                pressure[targets[k]] += sign * w[k]


@compiled
def tally_governments(
    cities, sign, city_gov, population, lobbying, gov_population, gov_lobbying
):  # pragma: no cover - compiled
    """Add (sign +1) or remove (-1) cities' population and lobbying voice above them.

    Both are integer-valued, so the tallies are exact sums in any order.
    """
    for level in range(city_gov.shape[0]):
        for c in cities:
            g = city_gov[level, c]
            gov_population[g] += sign * population[c]
            gov_lobbying[g] += sign * lobbying[c]


@compiled
def update_context(
    cities,
    city_gov,
    support,
    hostile,
    preempting,
    mandate_step,
    defiant,
    susceptibility,
    deterrence,
    use_vertical,
    use_hierarchical,
    innovation_base,
    readiness,
    top_down_rate,
    adopted,
    voluntary_factor,
    innovation_hazard,
    top_down_hazard,
    preempted,
    blocked,
    mandate_start,
    stale,
):  # pragma: no cover - compiled
    """Per-city effects of the governments above: deterrence, support, mandates, preemption.

    The voluntary factor is susceptibility x deterrence, 0 if blocked
    (mechanisms.susceptibility.voluntary_factor).

    Cities whose hazard may have changed are marked stale: non-adopters, and
    adopters whose preemption or mandate changed (nothing else moves an exit hazard).
    """
    gather = use_vertical or use_hierarchical
    for c in cities:
        total_support = 0.0
        n_hostile = 0
        is_preempted = False
        start = NO_MANDATE
        if gather:
            for level in range(city_gov.shape[0]):
                g = city_gov[level, c]
                total_support += support[g]
                n_hostile += hostile[g]
                is_preempted = is_preempted or preempting[g]
                start = min(start, mandate_step[g])
        if not use_hierarchical:
            is_preempted = False
            start = NO_MANDATE
        is_blocked = is_preempted and not defiant[c]
        deterred = deterrence[n_hostile] if use_vertical else 1.0
        factor = voluntary(susceptibility[c], deterred, is_blocked)
        exit_changed = preempted[c] != is_preempted or mandate_start[c] != start
        preempted[c] = is_preempted
        blocked[c] = is_blocked
        mandate_start[c] = start
        voluntary_factor[c] = factor
        innovation_hazard[c] = innovation_base[c] * factor
        if use_vertical:  # vertical.top_down_hazard x factor
            top_down_hazard[c] = min(1.0, top_down_rate * total_support * readiness[c]) * factor
        if exit_changed or not adopted[c]:
            stale[c] = True


@compiled
def refresh_hazards(
    cities,
    t,
    boost,
    horizontal_rule,
    contagion,
    use_innovation,
    use_vertical,
    use_hierarchical,
    use_abandonment,
    compliance_steps,
    preemption_enforcement,
    abandonment_rate,
    monitoring_reduction,
    adopted,
    voluntary_factor,
    innovation_hazard,
    top_down_hazard,
    pressure,
    total,
    threshold,
    mandate_start,
    blocked,
    preempted,
    defiant,
    monitored,
    hazard,
):  # pragma: no cover - compiled
    """hazard[c] = combined hazard of city c's possible change at step t.

    The numpy reference is engine.full_hazard; each line names the mechanism it
    evaluates. A channel switched off contributes 0, and x (1 - 0) == x exactly,
    so leaving it in changes no bit. ``contagion[k]`` is contagion's hazard for
    ``cities[k]`` (numpy's exp), read only under the contagion rule.
    """
    for k in range(len(cities)):
        c = cities[k]
        start = mandate_start[c]
        if adopted[c]:
            h_abandon = 0.0
            if use_abandonment:  # abandonment.abandonment_hazard, not under a mandate in force
                h_abandon = abandonment_rate * (1.0 - monitoring_reduction * monitored[c])
                h_abandon = h_abandon * (1.0 if start >= t else 0.0)
            h_preempt = 0.0
            if use_hierarchical:  # hierarchical.preemption_hazard
                h_preempt = preemption_enforcement * (preempted[c] and not defiant[c])
            escape = (1.0 - h_abandon) * (1.0 - h_preempt)
        else:
            factor = voluntary_factor[c]
            h_innovation = innovation_hazard[c] if use_innovation else 0.0
            h_horizontal = 0.0
            if horizontal_rule == THRESHOLD_RULE:  # horizontal.threshold_hazard x factor
                reached = total[c] > 0 and pressure[c] / total[c] * boost >= threshold[c]
                h_horizontal = (1.0 if reached else 0.0) * factor
            elif horizontal_rule == CONTAGION_RULE:
                h_horizontal = contagion[k] * factor
            h_top_down = top_down_hazard[c] if use_vertical else 0.0
            h_mandate = 0.0
            if use_hierarchical and start < t:  # hierarchical.compliance_hazard
                elapsed = t - start - 1
                h_mandate = (
                    1.0 / (compliance_steps - elapsed) if elapsed < compliance_steps else 1.0
                )
                h_mandate = h_mandate * (0.0 if blocked[c] else 1.0)
            escape = (1.0 - h_innovation) * (1.0 - h_horizontal)
            escape = escape * (1.0 - h_top_down) * (1.0 - h_mandate)
        hazard[c] = 1.0 - escape  # embedded.combined_hazard


@compiled
def mandates_due(mandated, t, mandate_start, adopted, blocked, due, keep):  # pragma: no cover
    """Split the cities under a mandate: whose hazard moves at step t, which to keep watching.

    A city's compliance hazard moves the step its mandate starts and every step
    after while it has neither complied nor is blocked. Returns (due count, keep count).
    """
    n_due = n_keep = 0
    for c in mandated:
        start = mandate_start[c]
        if start == NO_MANDATE:
            continue
        active = start < t
        waiting = not adopted[c] and not blocked[c]
        if start == t - 1 or (active and waiting):
            due[n_due] = c
            n_due += 1
        if not active or waiting:
            keep[n_keep] = c
            n_keep += 1
    return n_due, n_keep


@compiled
def gather_pressure(indptr, indices, weights, adopted, pressure):  # pragma: no cover - compiled
    """pressure[i] = sum of w_ji over the adopters j among i's sources (rows of a CSR by target).

    The one pass over every tie (a network founded or opened): rows are read in
    order and the gather hits only the N-byte ``adopted`` mask (uint8, 1 MB at a
    million cities), where scipy's ``by_source.T @ x`` scatters into the 8 MB
    output. The weights are integers (int32) summed in int64 with a mask instead
    of a multiply or a branch: exact, and 27-30% faster than float32 weights summed
    in float64 (docs/performance.md).
    """
    for i in range(len(indptr) - 1):
        sources, w = row(indptr, indices, weights, i)
        total = 0
        for k in range(len(sources)):
            total += w[k] & -np.int32(adopted[sources[k]])  # w if adopted, else 0
        pressure[i] = total
