"""The reference: every city's combined hazard evaluated from scratch.

It reads only the engine's state (adoption, pressure, tie totals, memberships,
governments) and the setup, never the context or the hazards the kernels keep:
the governments above each city are gathered here with numpy, and one loop over
every city (:func:`diffusion_sim.engines.vectorized.kernels.every_city_hazard`) applies the same
wiring (:mod:`diffusion_sim.mechanisms.compose`) the engines apply.
tests/test_performance_paths.py checks, every step, that the engine's kept
hazards equal it bit for bit: what it checks is the bookkeeping (which cities
are refreshed, what the kept context holds), since the wiring is one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from diffusion_sim.engines.vectorized import kernels
from diffusion_sim.mechanisms import horizontal, vertical
from diffusion_sim.mechanisms.compose import NO_MANDATE

if TYPE_CHECKING:
    from diffusion_sim.engines.vectorized.stepping import VectorizedEngine


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
    run = engine.run_state
    state = run.state
    escaped = np.ones(engine.setup.n_cities)
    if run.params.horizontal_rule == kernels.CONTAGION_RULE:
        escaped = horizontal.escape_probability(state.pressure)
    out = np.empty(engine.setup.n_cities)
    above = government_context(engine)
    kernels.every_city_hazard(
        t, run.boost_at(t), escaped, above, run.cities, state, run.params, out
    )
    return out
