"""Vertical upscaling: two-way relations between cities and governments.

Bottom-up, cities and their networks push a government to adopt: its hazard
grows with the share of its population that adopted and with lobbying by
networks (Kern 2019; Foster & Swiney 2021 on networks as lobbies). Top-down, a
supportive government funds and coordinates the cities under it (national
funding programmes, the Covenant's coordinators), a hostile one deters them.
"""

from __future__ import annotations

import numpy as np

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


def at_most_one(x):
    """min(1, x) for a float or an array (a hazard is a probability)."""
    return min(1.0, x) if np.ndim(x) == 0 else np.minimum(1.0, x)


def government_hazard(
    population_share: np.ndarray,
    lobbying_share: np.ndarray,
    response: np.ndarray,
    rate: float,
    lobbying_weight: float,
) -> np.ndarray:
    """h_g = min(1, rate x response_g x (population share + lobbying_weight x lobbying share))."""
    return at_most_one(rate * response * (population_share + lobbying_weight * lobbying_share))


def support(stance: np.ndarray, adopted: np.ndarray) -> np.ndarray:
    """Top-down support: +1 if supportive, +1 more if it has the policy (unless hostile)."""
    stance = np.asarray(stance)
    return (stance == SUPPORTIVE) * 1 + ((stance != HOSTILE) & np.asarray(adopted)) * 1


def top_down_hazard(total_support: np.ndarray, readiness: np.ndarray, rate: float) -> np.ndarray:
    """h = min(1, rate x support from all governments above x readiness).

    Funding reaches cities able and willing to apply for it: followers gain most
    from it relative to what they do alone (Kern, Eckersley & Haupt 2023).
    """
    return at_most_one(rate * total_support * readiness)


def deterrence_factors(deterrence: float, max_hostile: int) -> np.ndarray:
    """(1 - deterrence)^k for k = 0..max_hostile hostile governments above a city.

    A table shared by both engines (indexed by k), so neither computes a power.
    """
    factors = np.ones(max_hostile + 1)
    for k in range(1, max_hostile + 1):
        factors[k] = factors[k - 1] * (1.0 - deterrence)
    return factors
