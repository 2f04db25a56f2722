"""How the mechanisms are wired together, written once for every engine and the likelihood.

:mod:`.embedded` says how channels combine (voluntary factor, competing
risks); this module says which mechanisms are on and what each channel reads,
so that the compiled loops (:mod:`diffusion_sim.engines.vectorized.kernels`), the Mesa agents,
the numpy reference (:func:`diffusion_sim.engines.vectorized.full_hazard`) and the
likelihood (:mod:`diffusion_sim.studies.estimation.likelihood`) call the same
functions instead of each writing its own ``if mechanism.enabled`` ladder:

- :class:`Params`: the switches and rates, built once from a scenario by
  :func:`params_of` (the only place that reads ``enabled`` flags);
- :func:`city_context`: what the governments above a city do to it, from what
  the caller gathered over them (total support, hostile ones, whether one
  preempts, the earliest mandate in force);
- :func:`adoption_hazards`, :func:`exit_hazards`: a city's channels, each the
  mechanism's own rule, 0 when the mechanism is off;
- :func:`government_hazards`: a government's (bottom-up, harmonization) channels;
- :func:`every_city_context`, :func:`cell_channels`: the same on whole arrays,
  compiled loops for the reference and the likelihood.

They are scalar functions registered with numba: the agents call them as plain
Python on their own numbers, the kernels compile them into their loops, and the
reference and the likelihood call compiled loops over whole arrays
(``tests/test_rules.py`` checks the forms agree bit for bit). A switched-off
channel is exactly 0.0, and ``x * (1 - 0.0) == x``, so switching one off never
moves another's bits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numba.extending import register_jitable

from diffusion_sim.mechanisms import (
    abandonment,
    embedded,
    hierarchical,
    horizontal,
    novelty,
    vertical,
)
from diffusion_sim.mechanisms.compiling import compiled

if TYPE_CHECKING:
    from diffusion_sim.scenario import Mechanisms

__all__ = [
    "CONTAGION_RULE",
    "HORIZONTAL_OFF",
    "NO_MANDATE",
    "THRESHOLD_RULE",
    "Params",
    "adoption_hazards",
    "adoption_switches",
    "cell_channels",
    "city_context",
    "every_city_context",
    "exit_hazards",
    "government_hazards",
    "params_of",
    "voluntary_now",
]

HORIZONTAL_OFF, THRESHOLD_RULE, CONTAGION_RULE = 0, 1, 2
"""How the horizontal hazard is computed (``Params.horizontal_rule``)."""

NO_MANDATE = np.iinfo(np.int32).max
"""Mandate step of a city under no mandate in force (later than any step)."""


class Params(NamedTuple):
    """The scenario's switches and rates, as every engine and the likelihood read them."""

    horizontal_rule: int
    innovation: bool
    vertical: bool
    hierarchical: bool
    abandonment: bool
    compliance_steps: int
    preemption_enforcement: float
    abandonment_rate: float
    monitoring_reduction: float
    top_down_rate: float
    bottom_up_rate: float
    lobbying_weight: float
    government_rate: float
    deterrence: np.ndarray
    """(1 - deterrence)^k for k hostile governments above a city."""
    novelty: bool = False
    novelty_launch: float = 0.0
    novelty_tau: float = 1.0


def params_of(mechanisms: Mechanisms, deterrence: np.ndarray) -> Params:
    """The switches and rates of a scenario's mechanisms (``deterrence``: the setup's table)."""
    h = mechanisms.horizontal
    rule = (
        HORIZONTAL_OFF
        if not h.enabled
        else THRESHOLD_RULE
        if h.rule == "threshold"
        else CONTAGION_RULE
    )
    return Params(
        horizontal_rule=int(rule),
        innovation=bool(mechanisms.innovation.enabled),
        vertical=bool(mechanisms.vertical.enabled),
        hierarchical=bool(mechanisms.hierarchical.enabled),
        abandonment=bool(mechanisms.abandonment.enabled),
        compliance_steps=int(mechanisms.hierarchical.compliance_steps),
        preemption_enforcement=float(mechanisms.hierarchical.preemption_enforcement),
        abandonment_rate=float(mechanisms.abandonment.rate),
        monitoring_reduction=float(mechanisms.abandonment.monitoring_reduction),
        top_down_rate=float(mechanisms.vertical.top_down_rate),
        bottom_up_rate=float(mechanisms.vertical.bottom_up_rate),
        lobbying_weight=float(mechanisms.vertical.lobbying_weight),
        government_rate=float(mechanisms.hierarchical.government_rate),
        deterrence=np.ascontiguousarray(deterrence, dtype=np.float64),
        novelty=bool(mechanisms.novelty.enabled),
        novelty_launch=float(mechanisms.novelty.launch),
        novelty_tau=float(mechanisms.novelty.tau),
    )


@register_jitable(inline="always")
def voluntary_now(params, t, factor):
    """The voluntary factor at step t: times :func:`.novelty.novelty_rule` when novelty is on.

    Off, ``factor`` is returned untouched (not multiplied by 1), so no bit moves.
    """
    if params.novelty:
        return factor * novelty.novelty_rule(t, params.novelty_launch, params.novelty_tau)
    return factor


def adoption_switches(params: Params) -> tuple[bool, ...]:
    """Whether each adoption channel is on, in :func:`adoption_hazards`' order."""
    return (
        params.innovation,
        params.horizontal_rule != HORIZONTAL_OFF,
        params.vertical,
        params.hierarchical,
    )


@register_jitable(inline="always")
def city_context(
    params, total_support, n_hostile, preempting_above, earliest_mandate, defiant, susceptibility,
    readiness,
):  # fmt: skip
    """What the governments above a city do to it: (factor, top-down, preempted, blocked, start).

    The arguments gathered over the governments above: their summed support, how
    many are hostile, whether one preempts, the earliest mandate in force. Without
    hierarchy nothing preempts or mandates; without vertical nothing deters or
    supports. ``factor`` is :func:`.embedded.voluntary_factor`.
    """
    preempted = preempting_above and params.hierarchical
    start = earliest_mandate if params.hierarchical else NO_MANDATE
    blocked = preempted and not defiant
    deterred = params.deterrence[n_hostile] if params.vertical else 1.0
    factor = embedded.voluntary_factor(susceptibility, deterred, blocked)
    top_down = 0.0
    if params.vertical:
        top_down = vertical.top_down_rule(total_support, readiness, params.top_down_rate)
    return factor, top_down, preempted, blocked, start


@register_jitable(inline="always")
def adoption_hazards(
    params, t, factor, blocked, start, innovation, pressure, total, threshold, escaped, boost,
    top_down,
):  # fmt: skip
    """A non-adopter's (innovation, horizontal, vertical, hierarchical) hazards at step t.

    ``innovation`` is the city's own innovation hazard (fixed for a run),
    ``escaped`` contagion's escape probability (numpy's exp, read only under
    contagion), ``top_down`` and ``factor`` from :func:`city_context` (the
    voluntary channels carry it at step t: :func:`voluntary_now`).
    """
    factor = voluntary_now(params, t, factor)
    h_innovation = innovation if params.innovation else 0.0
    h_horizontal = 0.0
    if params.horizontal_rule == THRESHOLD_RULE:
        h_horizontal = horizontal.threshold_rule(pressure, total, threshold, boost)
    elif params.horizontal_rule == CONTAGION_RULE:
        h_horizontal = horizontal.persuasion_rule(escaped, boost)
    h_top_down = top_down if params.vertical else 0.0
    h_compliance = 0.0
    if params.hierarchical:
        h_compliance = hierarchical.compliance_rule(t - start - 1, params.compliance_steps)
    return embedded.adoption_channels(
        factor, h_innovation, h_horizontal, h_top_down, h_compliance, blocked
    )


@register_jitable(inline="always")
def exit_hazards(params, t, monitored, preempted, defiant, start):
    """An adopter's (abandonment, preemption) hazards at step t."""
    h_abandon = 0.0
    if params.abandonment:
        h_abandon = abandonment.abandonment_rule(
            monitored, params.abandonment_rate, params.monitoring_reduction
        )
    h_preempt = 0.0
    if params.hierarchical:
        h_preempt = hierarchical.preemption_rule(preempted, defiant, params.preemption_enforcement)
    return embedded.exit_channels(h_abandon, h_preempt, start, t)


@register_jitable(inline="always")
def government_hazards(
    params, population_adopted, population, lobbying_adopted, n_cities, response, stance
):
    """A government's (bottom-up, harmonization) hazards.

    Bottom-up reads the shares of its population and of its cities' lobbying
    voice that have adopted (0 for a government without cities or inhabitants).
    """
    h_bottom_up = 0.0
    if params.vertical:
        population_share = population_adopted / population if population > 0 else 0.0
        voice = n_cities * vertical.VOICE_UNITS
        lobbying_share = lobbying_adopted / voice if n_cities > 0 else 0.0
        h_bottom_up = vertical.government_rule(
            population_share,
            lobbying_share,
            response,
            params.bottom_up_rate,
            params.lobbying_weight,
        )
    h_harmonize = 0.0
    if params.hierarchical:
        h_harmonize = hierarchical.harmonization_rule(stance, params.government_rate)
    return h_bottom_up, h_harmonize


# Whole arrays: the wiring above in one compiled loop, for the reference and the likelihood.
@compiled
def every_city_context(params, above, cities, context):  # pragma: no cover - compiled
    """context[c] = :func:`city_context` of every city; ``above`` the four gathered arrays."""
    total_support, n_hostile, preempting, earliest = above
    for c in range(len(context.blocked)):
        factor, top_down, preempted, blocked, start = city_context(
            params,
            total_support[c],
            n_hostile[c],
            preempting[c],
            earliest[c],
            cities.defiant[c],
            cities.susceptibility[c],
            cities.readiness[c],
        )
        context.voluntary_factor[c] = factor
        context.top_down[c] = top_down
        context.preempted[c] = preempted
        context.blocked[c] = blocked
        context.mandate_start[c] = start


@compiled
def cell_channels(params, cells, escaped, out):  # pragma: no cover - compiled
    """out[:, k] = the (innovation, horizontal, vertical, hierarchical) hazards of cell k.

    The likelihood's cells (:mod:`diffusion_sim.studies.estimation.likelihood`), composed
    by :func:`city_context` and :func:`adoption_hazards` as the
    engines compose them, under contagion (``escaped``: each cell's escape
    probability) or no horizontal channel. A cell keeps whether it is blocked,
    which is "preempted and not defiant": passed as preempted, with defiant False.
    """
    for k in range(out.shape[1]):
        factor, top_down, _, blocked, start = city_context(
            params,
            cells.support[k],
            cells.n_hostile[k],
            cells.blocked[k],
            cells.mandate_start[k],
            False,
            cells.susceptibility[k],
            cells.readiness[k],
        )
        channels = adoption_hazards(
            params,
            cells.step[k],
            factor,
            blocked,
            start,
            cells.innovation[k],
            0.0,
            0.0,
            0.0,
            escaped[k],
            cells.boost[k],
            top_down,
        )
        for j in range(4):
            out[j, k] = channels[j]
