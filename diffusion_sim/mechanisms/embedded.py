"""Embedded upscaling: all mechanisms at once, combined as competing risks.

Channels act independently, so a city escapes all of them with probability
prod_k (1 - h_k). One uniform u per city decides both whether and through
which channel: the city changes state when u < h = 1 - prod_k (1 - h_k), and
the channel is the first k with u < h x (h_1 + ... + h_k) / (h_1 + ... + h_K),
each channel chosen in proportion to its share of the hazard.
"""

from __future__ import annotations

import numpy as np

ADOPTION_CHANNELS = ("innovation", "horizontal", "vertical", "hierarchical")
EXIT_CHANNELS = ("abandonment", "preemption")
GOVERNMENT_CHANNELS = ("vertical", "hierarchical", "event")
CHANNELS = ADOPTION_CHANNELS + EXIT_CHANNELS + ("event",)
"""Every channel code; an event's code is CHANNELS.index(name)."""


def combined_hazard(hazards: list) -> np.ndarray:
    """h = 1 - prod_k (1 - h_k), multiplied left to right (both engines use this order)."""
    escape = 1.0 - hazards[0]
    for h in hazards[1:]:
        escape = escape * (1.0 - h)
    return 1.0 - escape


def choose_channel(u: np.ndarray, hazards: list) -> np.ndarray:
    """Index of the channel that fires for each uniform u, or -1 if none does."""
    if np.ndim(u) == 0:
        return _choose_channel_of_one(u, hazards)
    total = combined_hazard(hazards)
    cumulative = hazards[0]
    denominator = hazards[0]
    for h in hazards[1:]:
        denominator = denominator + h
    channel = np.full(np.shape(u), -1, dtype=np.int8)
    safe = np.where(np.asarray(denominator) > 0, denominator, 1.0)
    chosen = np.zeros(np.shape(u), dtype=bool)
    for k in range(len(hazards)):
        if k:
            cumulative = cumulative + hazards[k]
        bound = cumulative / safe * total
        hit = (u < bound) & ~chosen
        channel = np.where(hit, k, channel)
        chosen |= hit
    return channel


def _choose_channel_of_one(u: float, hazards: list) -> int:
    """The same rule for one city, in plain floats (the agents engine), same operation order."""
    total = combined_hazard(hazards)
    if not u < total:
        return -1
    denominator = hazards[0]
    for h in hazards[1:]:
        denominator = denominator + h
    cumulative = 0.0
    for k, h in enumerate(hazards):
        cumulative = cumulative + h if k else h
        if u < cumulative / denominator * total:
            return k
    return len(hazards) - 1  # unreachable: the last bound equals total
