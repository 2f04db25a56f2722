"""Compiled loops of the vectorized engine: the per-city work on the cities that changed.

Why compiled (docs/performance.md): a step at a million cities touches a few
thousand cities' ties and hazards at scattered indices. numpy pays for every
gather, scatter and temporary array of such a set; a loop over the set pays a
few nanoseconds per element and allocates nothing. numba compiles these loops
once and caches them on disk.

Why the numbers are the same as the agents': the loops call the mechanisms'
scalar rules and :mod:`diffusion_sim.mechanisms.embedded`'s composition, which
numba compiles into them (``register_jitable``; no ``fastmath``, so the same IEEE
operations in the same order), and every sum they form is of integer-valued
floats, exact in any order. Contagion's ``exp`` is the one function left to
numpy (:func:`diffusion_sim.mechanisms.horizontal.escape_probability`).
``tests/test_performance_paths.py`` checks, every step, that the hazards kept
with these loops equal a from-scratch numpy evaluation (array forms of the
same rules) bit for bit, and ``tests/test_engines.py`` that the engine agrees
with the agents engine event for event.

Arguments come in named bundles (:mod:`diffusion_sim.engines.vectorized.bundles`): a
kernel reads ``state.pressure[c]``, never the 17th positional float array. The
engine calls each kernel through :func:`bind`, compiled once for its bundles'
types, so a call costs no type dispatch.

The cities whose hazard must be recomputed are marked in a boolean array, the
*stale mask*: marking is one store (no branch to mispredict, no duplicate to
check), and the engine collects the marked cities once per step with
``np.flatnonzero``, in index order, so the refresh reads its arrays in order.

Tie weights arrive as float32 (``ties.compact``: integers below 2^24, exact) and
are added to float64 sums, so no rounding enters there either.
"""

from __future__ import annotations

import numpy as np

from diffusion_sim.mechanisms import compose, embedded, innovation, vertical
from diffusion_sim.mechanisms.compiling import compiled
from diffusion_sim.mechanisms.compose import (
    CONTAGION_RULE,
    HORIZONTAL_OFF,
    NO_MANDATE,
    THRESHOLD_RULE,
)
from diffusion_sim.model.ties import row

__all__ = ["CONTAGION_RULE", "HORIZONTAL_OFF", "KERNELS", "THRESHOLD_RULE"]


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
def tally_governments(which, sign, cities, state, governments):  # pragma: no cover - compiled
    """Add (sign +1) or remove (-1) cities' population and lobbying voice above them.

    Both are integer-valued, so the tallies are exact sums in any order.
    """
    city_gov, population, lobbying = cities.city_gov, cities.population, state.lobbying
    population_adopted = governments.population_adopted
    lobbying_adopted = governments.lobbying_adopted
    for level in range(city_gov.shape[0]):
        for c in which:
            g = city_gov[level, c]
            population_adopted[g] += sign * population[c]
            lobbying_adopted[g] += sign * lobbying[c]


@compiled
def update_context(which, cities, state, context, governments, params):  # pragma: no cover
    """Per-city effects of the governments above: deterrence, support, mandates, preemption.

    Gathers over the levels above each city, then :func:`compose.city_context`.
    Cities whose hazard may have changed are marked stale: non-adopters, and
    adopters whose preemption or mandate changed (nothing else moves an exit hazard).
    """
    city_gov, defiant, susceptibility = cities.city_gov, cities.defiant, cities.susceptibility
    readiness, adopted, stale = cities.readiness, state.adopted, state.stale
    support, hostile = governments.support, governments.hostile
    preempting, mandate_step = governments.preempting, governments.mandate_step
    voluntary_factor, top_down = context.voluntary_factor, context.top_down
    preempted, blocked, mandate_start = context.preempted, context.blocked, context.mandate_start
    gather = params.vertical or params.hierarchical
    for c in which:
        total_support = 0.0
        n_hostile = 0
        preempting_above = False
        earliest = NO_MANDATE
        if gather:
            for level in range(city_gov.shape[0]):
                g = city_gov[level, c]
                total_support += support[g]
                n_hostile += hostile[g]
                preempting_above = preempting_above or preempting[g]
                earliest = min(earliest, mandate_step[g])
        factor, h_top_down, is_preempted, is_blocked, start = compose.city_context(
            params,
            total_support,
            n_hostile,
            preempting_above,
            earliest,
            defiant[c],
            susceptibility[c],
            readiness[c],
        )
        exit_changed = preempted[c] != is_preempted or mandate_start[c] != start
        preempted[c] = is_preempted
        blocked[c] = is_blocked
        mandate_start[c] = start
        voluntary_factor[c] = factor
        top_down[c] = h_top_down
        if exit_changed or not adopted[c]:
            stale[c] = True


@compiled
def city_hazards(
    which, t, boost, escaped, u, cities, state, context, params, channel, within
):  # pragma: no cover
    """Each city's channel hazards at step t, then its combined hazard or its channel.

    For every city c = which[k]: an adopter's (abandonment, preemption) hazards,
    a non-adopter's (innovation, horizontal, vertical, hierarchical, then any
    further mechanisms') ones, each
    the mechanism's rule composed by :mod:`diffusion_sim.mechanisms.embedded`
    (a mechanism switched off gives 0, and x (1 - 0) == x exactly). With ``u``
    empty it writes the combined hazard to ``state.hazard[c]`` (the refresh);
    otherwise ``u[k]`` is the city's uniform and it writes the channel that
    fires to ``channel[k]`` (embedded.choose_channel_of_one: an index among the
    exit channels for an adopter, the adoption channels otherwise) and, for an
    adoption, u's place in that channel to ``within[k]`` (embedded.position_in_channel,
    which picks the adoption's source: :mod:`diffusion_sim.model.provenance`). ``escaped[k]``
    is contagion's escape probability of c (numpy's exp), read only under contagion.

    One loop for both, so the hazards a city is decided on and the ones its
    channel is chosen from are the same computation. The bundles' arrays are
    unpacked before the loop (a field read per element would cost more).
    """
    choose = len(u) > 0
    adopted, hazard, pressure, total = state.adopted, state.hazard, state.pressure, state.total
    monitored, innovation_hazard = state.monitored, cities.innovation
    further_hazard = cities.further
    further = np.empty(further_hazard.shape[1])  # this city's further channels
    threshold, defiant = cities.threshold, cities.defiant
    factor, top_down, blocked = context.voluntary_factor, context.top_down, context.blocked
    preempted, mandate_start = context.preempted, context.mandate_start
    contagion = params.horizontal_rule == CONTAGION_RULE
    for k in range(len(which)):
        c = which[k]
        start = mandate_start[c]
        if adopted[c]:
            exits = compose.exit_hazards(params, t, monitored[c], preempted[c], defiant[c], start)
            if choose:
                channel[k] = embedded.choose_channel_of_one(u[k], exits)
            else:
                hazard[c] = embedded.combined_hazard(exits)
            continue
        adoptions = compose.adoption_hazards(
            params,
            t,
            factor[c],
            blocked[c],
            start,
            innovation_hazard[c],
            pressure[c],
            total[c],
            threshold[c],
            escaped[k] if contagion else 1.0,
            boost,
            top_down[c],
        )
        for j in range(len(further)):
            further[j] = embedded.further_channel(
                compose.voluntary_now(params, t, factor[c]), further_hazard[c, j]
            )
        if choose:
            chosen = embedded.choose_channel_of_one(u[k], adoptions, further)
            channel[k] = chosen
            if chosen >= 0:
                within[k] = embedded.position_in_channel(u[k], adoptions, chosen, further)
        else:
            hazard[c] = embedded.combined_hazard(adoptions, further)


@compiled
def every_city_hazard(t, boost, escaped, above, cities, state, params, out):  # pragma: no cover
    """out[c] = city c's combined hazard at step t from scratch (the numpy reference's loop).

    ``above`` is what the governments above each city amount to, gathered by the
    caller from the governments' state alone: (total support, hostile count,
    preempting, earliest mandate) arrays. Then the same :mod:`compose` functions
    as :func:`city_hazards`, but on a context computed here, not the kept one.
    """
    total_support, n_hostile, preempting, earliest = above
    further = np.empty(cities.further.shape[1])
    contagion = params.horizontal_rule == CONTAGION_RULE
    for c in range(len(out)):
        defiant = cities.defiant[c]
        factor, top_down, preempted, blocked, start = compose.city_context(
            params,
            total_support[c],
            n_hostile[c],
            preempting[c],
            earliest[c],
            defiant,
            cities.susceptibility[c],
            cities.readiness[c],
        )
        if state.adopted[c]:
            exits = compose.exit_hazards(params, t, state.monitored[c], preempted, defiant, start)
            out[c] = embedded.combined_hazard(exits)
            continue
        adoptions = compose.adoption_hazards(
            params,
            t,
            factor,
            blocked,
            start,
            cities.innovation[c],
            state.pressure[c],
            state.total[c],
            cities.threshold[c],
            escaped[c] if contagion else 1.0,
            boost,
            top_down,
        )
        for j in range(len(further)):
            further[j] = embedded.further_channel(
                compose.voluntary_now(params, t, factor), cities.further[c, j]
            )
        out[c] = embedded.combined_hazard(adoptions, further)


@compiled
def innovation_base(capacity, leaning, rate, out):  # pragma: no cover - compiled
    """out[i] = innovation.innovation_rule of city i (once per run)."""
    for i in range(len(out)):
        out[i] = innovation.innovation_rule(capacity[i], leaning[i], rate)


@compiled
def governments_now(
    stance, adopted, preempts, mandate, mandate_step, governments
):  # pragma: no cover
    """What each government gives the cities under it now; the last entry ('none') gives nothing.

    Support is vertical.support_rule; a mandate is in force while its government has the policy.
    """
    g = len(stance)
    for k in range(g):
        hostile = stance[k] == vertical.HOSTILE
        governments.support[k] = vertical.support_rule(stance[k], adopted[k])
        governments.hostile[k] = hostile
        governments.preempting[k] = hostile and preempts[k]
        governments.mandate_step[k] = mandate_step[k] if mandate[k] and adopted[k] else NO_MANDATE
    governments.support[g] = vertical.support_rule(vertical.NEUTRAL, False)
    governments.hostile[g] = 0
    governments.preempting[g] = False
    governments.mandate_step[g] = NO_MANDATE


@compiled
def choose_governments(
    u, stance, population, cities, response, governments, params, out
):  # pragma: no cover
    """out[k] = the channel through which government k adopts (0 bottom-up, 1 harmonization), or -1.

    Bottom-up: vertical.government_rule of the population and lobbying shares
    adopted under it; harmonization: hierarchical.harmonization_rule; the two
    compete as every city's channels do (embedded.choose_channel_of_one).
    """
    for k in range(len(u)):
        hazards = compose.government_hazards(
            params,
            governments.population_adopted[k],
            population[k],
            governments.lobbying_adopted[k],
            cities[k],
            response[stance[k] + 1],
            stance[k],
        )
        out[k] = embedded.choose_channel_of_one(u[k], hazards)


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


KERNELS = (
    row,
    spread_influence,
    tally_governments,
    update_context,
    city_hazards,
    innovation_base,
    governments_now,
    choose_governments,
    mandates_due,
    gather_pressure,
    every_city_hazard,
)
