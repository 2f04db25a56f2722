"""Vertical upscaling: two-way relations between cities and governments.

Bottom-up, cities and their networks push a government to adopt: its hazard
grows with the share of its population that adopted and with lobbying by
networks (Kern 2019; Foster & Swiney 2021 on networks as lobbies). Top-down, a
supportive government funds and coordinates the cities under it (national
funding programmes, the Covenant's coordinators), a hostile one deters them.
"""

from __future__ import annotations

import numpy as np

from diffusion_sim.mechanisms.rules import either, rule

HOSTILE, NEUTRAL, SUPPORTIVE = -1, 0, 1
STANCE_NAMES = {HOSTILE: "hostile", NEUTRAL: "neutral", SUPPORTIVE: "supportive"}
STANCE_CODES = {name: code for code, name in STANCE_NAMES.items()}


VOICE_UNITS = 1024
"""A lobbying network's full voice, in integer units (so tallies stay exact sums)."""


def network_voice(size: int, saturation: int) -> int:
    """A lobbying network's voice: grows with its members up to ``saturation`` (0: always full).

    Many small networks each speak with a small voice: too many overlapping
    networks fragment the cities' voice (Foster & Swiney 2021). Integer units,
    so a government's lobbying tally is an exact sum in any order.
    """
    if saturation <= 0:
        return VOICE_UNITS
    return max(1, round(VOICE_UNITS * min(1.0, size / saturation)))


@rule
def government_rule(
    population_share: float,
    lobbying_share: float,
    response: float,
    rate: float,
    lobbying_weight: float,
) -> float:
    """h_g = min(1, rate x response_g x (population share + lobbying_weight x lobbying share))."""
    return min(1.0, rate * response * (population_share + lobbying_weight * lobbying_share))


def government_hazard(
    population_share: np.ndarray,
    lobbying_share: np.ndarray,
    response: np.ndarray,
    rate: float,
    lobbying_weight: float,
) -> np.ndarray:
    """:func:`government_rule` on one government or on arrays."""
    return either(
        government_rule, population_share, lobbying_share, response, rate, lobbying_weight
    )


@rule
def support_rule(stance: int, adopted: bool) -> int:
    """Top-down support: +1 if supportive, +1 more if it has the policy (unless hostile)."""
    return (1 if stance == SUPPORTIVE else 0) + (1 if stance != HOSTILE and adopted else 0)


def support(stance: np.ndarray, adopted: np.ndarray) -> np.ndarray:
    """:func:`support_rule` on one government or on arrays."""
    return either(support_rule, stance, adopted)


@rule
def top_down_rule(total_support: float, readiness: float, rate: float) -> float:
    """h = min(1, rate x support from all governments above x readiness).

    Funding reaches cities able and willing to apply for it: followers gain most
    from it relative to what they do alone (Kern, Eckersley & Haupt 2023).
    """
    return min(1.0, rate * total_support * readiness)


def top_down_hazard(total_support: np.ndarray, readiness: np.ndarray, rate: float) -> np.ndarray:
    """:func:`top_down_rule` on one city or on arrays."""
    return either(top_down_rule, total_support, readiness, rate)


def deterrence_factors(deterrence: float, max_hostile: int) -> np.ndarray:
    """(1 - deterrence)^k for k = 0..max_hostile hostile governments above a city.

    A table shared by both engines (indexed by k), so neither computes a power.
    """
    factors = np.ones(max_hostile + 1)
    for k in range(1, max_hostile + 1):
        factors[k] = factors[k - 1] * (1.0 - deterrence)
    return factors
