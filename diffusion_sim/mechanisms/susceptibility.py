"""Susceptibility: a city's leaning governs how far voluntary channels can move it.

Real adoption curves of city pledges and declarations level off below 100%
(the Bass model's ceiling m < 1; [domain: Bass 1969]): part of the population
never adopts voluntarily. Kern (2019) says why for cities: laggards are those
without the will (leaning) or means to act, and only hierarchical upscaling
(mandates) reaches them. So every voluntary hazard (innovation, horizontal under
both rules, top-down support) is multiplied by s_i = f(leaning_i); mandates are not
(the voluntary factor is composed in
:func:`diffusion_sim.mechanisms.embedded.voluntary_factor`).

    s_i = clip((leaning_i - c) / RAMP, 0, 1),   s_i = 1 for every city when c = 0,

with c = ``mechanisms.opposition_leaning``. Cities at or below c are opposed and
hold out; the analytic voluntary ceiling is the share of cities with leaning > c
(plus the pioneers, who adopt at step 0 whatever their leaning).
"""

from __future__ import annotations

import numpy as np

from diffusion_sim.mechanisms.embedded import voluntary_factor

__all__ = ["RAMP", "susceptibility", "voluntary_ceiling", "voluntary_factor"]

RAMP = 0.1
"""Width in leaning over which susceptibility rises from 0 (opposed) to 1."""


def susceptibility(leaning: np.ndarray, opposition: float) -> np.ndarray:
    """s_i = clip((leaning_i - opposition) / RAMP, 0, 1); all ones when opposition is 0 (off)."""
    leaning = np.asarray(leaning, dtype=np.float64)
    if opposition <= 0:
        return np.ones_like(leaning)
    return np.clip((leaning - opposition) / RAMP, 0.0, 1.0)


def voluntary_ceiling(leaning: np.ndarray, opposition: float, pioneers: np.ndarray) -> float:
    """Share of cities voluntary channels can ever reach: s_i > 0 or a pioneer."""
    reachable = susceptibility(leaning, opposition) > 0
    reachable[np.asarray(pioneers, dtype=np.int64)] = True
    return float(reachable.mean())
