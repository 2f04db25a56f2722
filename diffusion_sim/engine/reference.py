"""The numpy reference: every city's combined hazard evaluated from scratch.

It reads only the engine's state (adoption, pressure, tie totals, memberships,
governments) and the setup, never the context the kernels keep, and applies
the array forms of the same scalar rules (:mod:`diffusion_sim.mechanisms.rules`)
and the same composition (:mod:`diffusion_sim.mechanisms.embedded`).
tests/test_performance_paths.py checks, every step, that the engine's kept
hazards equal it bit for bit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from diffusion_sim.mechanisms import abandonment, hierarchical, horizontal, innovation, vertical
from diffusion_sim.mechanisms.embedded import (
    adoption_channels,
    combined_hazard,
    exit_channels,
    further_channel,
    voluntary_factor,
)
from diffusion_sim.setup import NO_MANDATE

if TYPE_CHECKING:
    from diffusion_sim.engine.stepping import VectorizedEngine


def government_context(engine: VectorizedEngine) -> tuple[np.ndarray, ...]:
    """Per city: support and hostile governments above it, preempted, earliest mandate."""
    govs = engine.run_state.gov_states
    city_gov = engine.setup.city_gov
    stance = np.append(govs.stance, vertical.NEUTRAL)
    adopted = np.append(govs.adopted, False)
    support = vertical.support(stance, adopted).astype(np.float64)
    hostile = stance == vertical.HOSTILE
    preempting = hostile & np.append(govs.preempts, False)
    in_force = np.append(govs.in_force(), False)
    mandate_step = np.where(in_force, np.append(govs.mandate_step, NO_MANDATE), NO_MANDATE)
    n = engine.setup.n_cities
    total_support = support[city_gov].sum(axis=0) if len(city_gov) else np.zeros(n)
    n_hostile = hostile[city_gov].sum(axis=0) if len(city_gov) else np.zeros(n, dtype=np.int64)
    preempted = preempting[city_gov].any(axis=0) if len(city_gov) else np.zeros(n, dtype=bool)
    start = mandate_step[city_gov].min(axis=0) if len(city_gov) else np.full(n, NO_MANDATE)
    return total_support, n_hostile, preempted, start.astype(np.int64)


def full_hazard(engine: VectorizedEngine, t: int) -> np.ndarray:
    """Every city's combined hazard at step t, from scratch (see the module docstring)."""
    setup, mech, run = engine.setup, engine.mech, engine.run_state
    state, world = run.state, setup.world
    total_support, n_hostile, preempted, start = government_context(engine)
    if not mech.hierarchical.enabled:
        preempted = np.zeros_like(preempted)
        start = np.full_like(start, NO_MANDATE)
    blocked = preempted & ~setup.defiant
    deterred = setup.deterrence[n_hostile] if mech.vertical.enabled else np.ones(setup.n_cities)
    factor = voluntary_factor(setup.susceptibility, deterred, blocked)
    zeros = np.zeros(setup.n_cities)
    boost = run.boost_at(t)

    m = mech.innovation
    h_innovation = (
        innovation.innovation_hazard(world.capacity, world.leaning, m.rate) if m.enabled else zeros
    )
    h = mech.horizontal
    if not h.enabled:
        h_horizontal = zeros
    elif h.rule == "threshold":
        h_horizontal = horizontal.threshold_hazard(
            state.pressure, state.total, setup.threshold, boost
        )
    else:
        h_horizontal = horizontal.contagion_hazard(state.pressure, boost)
    v = mech.vertical
    h_top_down = (
        vertical.top_down_hazard(total_support, setup.readiness, v.top_down_rate)
        if v.enabled
        else zeros
    )
    r = mech.hierarchical
    h_compliance = (
        hierarchical.compliance_hazard(t - start - 1, r.compliance_steps) if r.enabled else zeros
    )
    further = [further_channel(factor, h) for h in setup.further_hazards.T]
    joining = combined_hazard(
        adoption_channels(factor, h_innovation, h_horizontal, h_top_down, h_compliance, blocked),
        further,
    )

    a = mech.abandonment
    h_abandon = (
        abandonment.abandonment_hazard(state.monitored, a.rate, a.monitoring_reduction)
        if a.enabled
        else zeros
    )
    h_preempt = (
        hierarchical.preemption_hazard(preempted, setup.defiant, r.preemption_enforcement)
        if r.enabled
        else zeros
    )
    leaving = combined_hazard(exit_channels(h_abandon, h_preempt, start, t))
    return np.where(state.adopted, leaving, joining)
