"""The named bundles the compiled loops read and write (numba-compatible named tuples).

Each bundle groups arrays of one lifetime, so a kernel takes four or five
arguments instead of twenty-six, and reads ``context.blocked[c]``, never the
n-th positional boolean array. Every array is allocated once per run with a
fixed dtype and written in place (a network event copies new values into
``State.total``, ``monitored`` and ``lobbying``), so a bundle's types never
change and each kernel is bound once (:func:`diffusion_sim.mechanisms.compiling.bind`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from diffusion_sim.engines.vectorized import kernels
from diffusion_sim.mechanisms import compiling
from diffusion_sim.mechanisms.compose import NO_MANDATE, Params, params_of
from diffusion_sim.model.setup import Setup


class Cities(NamedTuple):
    """What a run knows of each city and never changes (from the setup)."""

    city_gov: np.ndarray
    """(levels, N) int32: the government above each city per level; G means none."""
    defiant: np.ndarray
    susceptibility: np.ndarray
    readiness: np.ndarray
    threshold: np.ndarray
    innovation: np.ndarray
    """Innovation's own hazard of each city (0 with innovation off), before the voluntary factor."""
    population: np.ndarray
    further: np.ndarray
    """(N, F) further mechanisms' own hazards per city (0 if off), before the voluntary factor."""


class State(NamedTuple):
    """Each city's state and what follows from it, kept up to date step by step."""

    adopted: np.ndarray
    pressure: np.ndarray
    """Weight (or log-escape weight, under contagion) of the city's adopting sources."""
    total: np.ndarray
    """Sum of the city's incoming weights (the threshold rule's denominator)."""
    monitored: np.ndarray
    lobbying: np.ndarray
    hazard: np.ndarray
    """Combined hazard of the city's possible change (adopt, or drop if it adopted)."""
    stale: np.ndarray
    """Cities whose hazard must be recomputed before the next decision."""


class Context(NamedTuple):
    """Each city's effects of the governments above it; changes only with governments."""

    voluntary_factor: np.ndarray
    top_down: np.ndarray
    """vertical.top_down_rule of the support above (before the voluntary factor)."""
    preempted: np.ndarray
    blocked: np.ndarray
    mandate_start: np.ndarray


class Governments(NamedTuple):
    """Per government, plus a last entry for 'none': what the cities under it feel, and tallies."""

    support: np.ndarray
    hostile: np.ndarray
    preempting: np.ndarray
    mandate_step: np.ndarray
    population_adopted: np.ndarray
    lobbying_adopted: np.ndarray


def full(n: int, value: float | bool | int, dtype: type) -> np.ndarray:
    """An array written now (np.full, not np.zeros or np.empty, whose pages the kernels
    would map on first touch), so that no step pays for first-touch page faults."""
    return np.full(n, value, dtype=dtype)


def fill_innovation(setup: Setup, mechanisms, out: np.ndarray) -> None:
    """Innovation's own hazard of every city into ``out`` (left as is with innovation off)."""
    if mechanisms.innovation.enabled:
        world = setup.world
        capacity = np.ascontiguousarray(world.capacity, dtype=np.float64)
        leaning = np.ascontiguousarray(world.leaning, dtype=np.float64)
        kernels.innovation_base(capacity, leaning, float(mechanisms.innovation.rate), out)


def make_cities(setup: Setup) -> Cities:
    """What the kernels read of each city (the first compiled call of a run: caches checked)."""
    compiling.fresh_cache()
    world = setup.world
    base = np.zeros(setup.n_cities)
    fill_innovation(setup, setup.scenario.mechanisms, base)
    return Cities(
        city_gov=setup.city_gov,
        defiant=np.ascontiguousarray(setup.defiant, dtype=bool),
        susceptibility=np.ascontiguousarray(setup.susceptibility, dtype=np.float64),
        readiness=np.ascontiguousarray(setup.readiness, dtype=np.float64),
        threshold=np.ascontiguousarray(setup.threshold, dtype=np.float64),
        innovation=base,
        population=world.population.astype(np.float64),
        further=setup.further_hazards,
    )


def make_state(n: int) -> State:
    return State(
        adopted=full(n, False, bool),
        pressure=full(n, 0.0, np.float64),
        total=full(n, 0.0, np.float64),
        monitored=full(n, False, bool),
        lobbying=full(n, 0.0, np.float64),
        hazard=full(n, 0.0, np.float64),
        stale=full(n, False, bool),
    )


def make_context(n: int) -> Context:
    return Context(
        voluntary_factor=full(n, 1.0, np.float64),
        top_down=full(n, 0.0, np.float64),
        preempted=full(n, False, bool),
        blocked=full(n, False, bool),
        mandate_start=full(n, NO_MANDATE, np.int64),
    )


def make_governments(g: int) -> Governments:
    size = g + 1
    return Governments(
        support=np.zeros(size),
        hostile=np.zeros(size, dtype=np.int64),
        preempting=np.zeros(size, dtype=bool),
        mandate_step=np.full(size, NO_MANDATE, dtype=np.int64),
        population_adopted=np.zeros(size),
        lobbying_adopted=np.zeros(size),
    )


def make_params(setup: Setup, mechanisms=None) -> Params:
    """The scenario's switches and rates (:func:`diffusion_sim.mechanisms.compose.params_of`).

    ``mechanisms``: a scenario's changed by a set event (default: the scenario's).
    """
    m = setup.scenario.mechanisms if mechanisms is None else mechanisms
    return params_of(m, setup.deterrence)
