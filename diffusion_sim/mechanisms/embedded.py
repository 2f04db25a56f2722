"""Embedded upscaling: all mechanisms at once, combined as competing risks.

The composition is written here once, as scalar rules the agents call, the
kernels compile and the numpy reference applies to arrays (they are plain
arithmetic, so the same source runs on floats, arrays and in compiled loops):

- the **voluntary factor** F = s x D x (1 - blocked): susceptibility (leaning),
  deterrence by hostile governments, and 0 under preemption (not defiant);
- a non-adopter's **adoption channels**: innovation, horizontal and top-down
  hazards carry F; a mandate's compliance carries only "not blocked";
- an adopter's **exit channels**: no abandonment under a mandate in force;
  preemption as its rule gives it;
- a further mechanism's channel (a plug-in, :mod:`.registry`) carries F, after
  the four built-in ones;
- **competing risks**: channels act independently, so a city escapes all of
  them with probability prod_k (1 - h_k). One uniform u per city decides both
  whether and through which channel: the city changes state when
  u < h = 1 - prod_k (1 - h_k), and the channel is the first k with
  u < h x (h_1 + ... + h_k) / (h_1 + ... + h_K).
"""

from __future__ import annotations

import numba
import numpy as np
from numba.extending import register_jitable

from diffusion_sim.mechanisms.registry import (
    ADOPTION_CHANNELS,
    CHANNELS,
    EXIT_CHANNELS,
    GOVERNMENT_CHANNELS,
)

__all__ = [
    "ADOPTION_CHANNELS",
    "CHANNELS",
    "EXIT_CHANNELS",
    "GOVERNMENT_CHANNELS",
    "adoption_channels",
    "choose_channel",
    "combined_hazard",
    "exit_channels",
    "further_channel",
    "voluntary_factor",
]

NO_FURTHER = np.empty(0)
"""No further channels (exits, governments, and runs without further mechanisms)."""


@register_jitable
def voluntary_factor(susceptibility, deterrence, blocked):
    """F = s x D x (1 - blocked): what voluntary hazards carry (0 if preempted, not defiant)."""
    return susceptibility * deterrence * (1.0 - blocked)


@register_jitable
def adoption_channels(factor, innovation, horizontal, top_down, compliance, blocked):
    """A non-adopter's (innovation, horizontal, vertical, hierarchical) hazards.

    The arguments are the mechanisms' own hazards; voluntary ones carry the
    voluntary factor, a mandate's compliance only "not blocked".
    """
    return (
        innovation * factor,
        horizontal * factor,
        top_down * factor,
        compliance * (1.0 - blocked),
    )


@register_jitable
def further_channel(factor, hazard):
    """A further mechanism's adoption hazard: voluntary, so it carries the voluntary factor."""
    return hazard * factor


@register_jitable
def exit_channels(abandonment, preemption, mandate_start, t):
    """An adopter's (abandonment, preemption) hazards: none abandons under a mandate in force."""
    return abandonment * (mandate_start >= t), preemption


@register_jitable
def combined_hazard(hazards, further=NO_FURTHER):
    """h = 1 - prod_k (1 - h_k), multiplied left to right (every engine uses this order).

    ``further`` holds further mechanisms' channels, which come after ``hazards``'.
    """
    escape = 1.0 - hazards[0]
    for h in hazards[1:]:
        escape = escape * (1.0 - h)
    for h in further:
        escape = escape * (1.0 - h)
    return 1.0 - escape


@register_jitable
def sum_of_hazards(hazards, further):
    """h_1 + ... + h_K, added left to right (the channel choice's denominator)."""
    denominator = hazards[0]
    for h in hazards[1:]:
        denominator = denominator + h
    for h in further:
        denominator = denominator + h
    return denominator


@register_jitable
def choose_channel_of_one(u, hazards, further=NO_FURTHER):
    """Index of the channel that fires for one uniform u, or -1 if none does.

    Indices past ``len(hazards)`` are ``further``'s channels.
    """
    total = combined_hazard(hazards, further)
    if not u < total:
        return -1
    denominator = sum_of_hazards(hazards, further)
    cumulative = 0.0
    for k, h in enumerate(hazards):
        cumulative = cumulative + h if k else h
        if u < cumulative / denominator * total:
            return k
    for j, h in enumerate(further):
        cumulative = cumulative + h
        if u < cumulative / denominator * total:
            return len(hazards) + j
    return len(hazards) + len(further) - 1  # unreachable: the last bound equals total


@register_jitable
def position_in_channel(u, hazards, k, further=NO_FURTHER):
    """Where u fell in channel k's interval of :func:`choose_channel_of_one`, in [0, 1).

    Given that channel k fired, u is uniform on that interval, so this is a fresh
    uniform, independent of the choice: provenance reuses it to say which tie or
    government carried the adoption without drawing again (both engines call this
    with the same numbers, so they agree).
    """
    total = combined_hazard(hazards, further)
    denominator = sum_of_hazards(hazards, further)
    cumulative = 0.0
    lower = 0.0
    for j in range(k + 1):
        h = hazards[j] if j < len(hazards) else further[j - len(hazards)]
        lower = cumulative / denominator * total if j else 0.0
        cumulative = cumulative + h if j else h
    upper = cumulative / denominator * total
    position = (u - lower) / (upper - lower) if upper > lower else 0.0
    return min(max(position, 0.0), 1.0 - 2.0**-53)


@numba.njit(cache=True, nogil=True)
def _choose_channels(u, hazards, out):  # pragma: no cover - compiled
    """choose_channel_of_one for every column of a (channels, n) array."""
    for i in range(len(u)):
        out[i] = choose_channel_of_one(u[i], hazards[:, i])


def choose_channel(u: np.ndarray | float, hazards: list) -> np.ndarray | int:
    """Index of the channel that fires for each uniform u, or -1 if none does.

    On arrays, :func:`choose_channel_of_one` compiled and applied to each element.
    """
    if np.ndim(u) == 0:
        return choose_channel_of_one(u, hazards)
    u = np.asarray(u, dtype=np.float64)
    stacked = np.empty((len(hazards), len(u)))
    for k, h in enumerate(hazards):
        stacked[k] = h
    out = np.empty(len(u), dtype=np.int8)
    _choose_channels(u, stacked, out)
    return out
