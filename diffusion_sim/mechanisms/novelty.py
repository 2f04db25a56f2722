"""Novelty: the attention a new policy draws fades as the policy ages.

Wu & Huberman (2007, "Novelty and collective attention", PNAS 104(45),
17599-17601) measured how the attention to a new item decays with its age: a
novelty factor, falling smoothly from 1, multiplies the rate at which it spreads,
whatever carries it. Here the item is the policy: a city's voluntary hazards
(innovation, horizontal under either rule, top-down support, further mechanisms'
channels) are multiplied by

    g(t) = 1                          for t <= t0,
    g(t) = exp(-(t - t0) / tau)       for t > t0,

with t0 = ``mechanisms.novelty.launch`` (the step the policy appeared) and tau =
``mechanisms.novelty.tau`` (steps for the factor to fall by e). Wu & Huberman fit
a stretched exponential; the exponential is its one-parameter member, which the
seven years a forecast trains on can identify. Mandates' compliance is not
decayed: a law does not lose force as it ages. Off by default (g = 1, and the
hazards are then not multiplied at all, so every table stays bit for bit).

It is also why a Bass curve saturates (Bass 1969): in Bass's model the hazard
p + q N/m falls only as the pool m empties; here it falls with the policy's age
whatever the pool. With pure innovation (hazard h0 g(t)) a city has not adopted
by step t with probability prod_{s=1..t} (1 - h0 g(s)), and the expected adopters
by t -> infinity stay below the pool when h0 tau is small (tests/test_novelty.py).
"""

from __future__ import annotations

import math

import numpy as np

from diffusion_sim.mechanisms.rules import either, rule


@rule
def novelty_rule(t: float, launch: float, tau: float) -> float:
    """g(t) = exp(-(t - launch) / tau) after the launch, 1 until then."""
    if t <= launch:
        return 1.0
    return math.exp(-(t - launch) / tau)


def novelty_factor(t: np.ndarray | float, launch: float, tau: float) -> np.ndarray | float:
    """:func:`novelty_rule` on one step or on arrays of steps."""
    return either(novelty_rule, t, launch, tau)
