"""Hierarchical upscaling: mandates that reach every municipality, and preemption.

A government that adopts with a mandate obliges all municipalities under it
(harmonization, Kern 2019); they comply over a horizon of H steps. A hostile
government can preempt (forbid) the policy: nation-states keep the last word
(Swiney 2020), though cities may decouple by invoking international law.
"""

from __future__ import annotations

import numpy as np

from diffusion_sim.mechanisms.rules import either, rule
from diffusion_sim.mechanisms.vertical import NEUTRAL, SUPPORTIVE


@rule
def compliance_rule(elapsed: int, horizon: int) -> float:
    """h = 1 / (H - k) at the k-th step of a mandate (k = 0..H-1), 0 before it starts.

    Compliance times are then uniform over the horizon, and the last step's
    hazard is 1, so every municipality complies within H steps.
    """
    if elapsed < 0:
        return 0.0
    return 1.0 / (horizon - elapsed) if elapsed < horizon else 1.0


def compliance_hazard(elapsed: np.ndarray, horizon: int) -> np.ndarray:
    """:func:`compliance_rule` on one city or on arrays."""
    return either(compliance_rule, elapsed, horizon)


@rule
def harmonization_rule(stance: int, rate: float) -> float:
    """A government's own hazard of harmonizing: rate if supportive, rate/2 if neutral, else 0."""
    return rate * (1.0 if stance == SUPPORTIVE else 0.5 if stance == NEUTRAL else 0.0)


def harmonization_hazard(stance: np.ndarray, rate: float) -> np.ndarray:
    """:func:`harmonization_rule` on one government or on arrays."""
    return either(harmonization_rule, stance, rate)


@rule
def preemption_rule(preempted: bool, defiant: bool, enforcement: float) -> float:
    """Hazard that an adopter drops the policy under a preempting government (0 for defiers)."""
    return enforcement if preempted and not defiant else 0.0


def preemption_hazard(preempted: np.ndarray, defiant: np.ndarray, enforcement: float) -> np.ndarray:
    """:func:`preemption_rule` on one city or on arrays."""
    return either(preemption_rule, preempted, defiant, enforcement)


def defiance(uniforms: np.ndarray, leaning: np.ndarray, scale: float) -> np.ndarray:
    """Which cities defy preemption: probability scale x leaning, from one uniform per city."""
    return uniforms < scale * leaning
