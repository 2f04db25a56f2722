"""Hierarchical upscaling: mandates that reach every municipality, and preemption.

A government that adopts with a mandate obliges all municipalities under it
(harmonization, Kern 2019); they comply over a horizon of H steps. A hostile
government can preempt (forbid) the policy: nation-states keep the last word
(Swiney 2020), though cities may decouple by invoking international law.
"""

from __future__ import annotations

import numpy as np

from diffusion_sim.mechanisms.vertical import NEUTRAL, SUPPORTIVE


def compliance_hazard(elapsed: np.ndarray, horizon: int) -> np.ndarray:
    """h = 1 / (H - k) at the k-th step of a mandate (k = 0..H-1), 0 before it starts.

    Compliance times are then uniform over the horizon, and the last step's
    hazard is 1, so every municipality complies within H steps.
    """
    if np.ndim(elapsed) == 0:
        if elapsed < 0:
            return 0.0
        return 1.0 / (horizon - elapsed) if elapsed < horizon else 1.0
    elapsed = np.asarray(elapsed)
    active = (elapsed >= 0) & (elapsed < horizon)
    left = np.where(active, horizon - elapsed, 1)
    return np.where(active, 1.0 / left, np.where(elapsed >= horizon, 1.0, 0.0))


def harmonization_hazard(stance: np.ndarray, rate: float) -> np.ndarray:
    """A government's own hazard of harmonizing: rate if supportive, rate/2 if neutral, else 0."""
    stance = np.asarray(stance)
    return rate * ((stance == SUPPORTIVE) * 1.0 + (stance == NEUTRAL) * 0.5)


def preemption_hazard(preempted: np.ndarray, defiant: np.ndarray, enforcement: float) -> np.ndarray:
    """Hazard that an adopter drops the policy under a preempting government (0 for defiers)."""
    if np.ndim(preempted) == 0:
        return enforcement if preempted and not defiant else 0.0
    return enforcement * (np.asarray(preempted) & ~np.asarray(defiant))


def defiance(uniforms: np.ndarray, leaning: np.ndarray, scale: float) -> np.ndarray:
    """Which cities defy preemption: probability scale x leaning, from one uniform per city."""
    return uniforms < scale * leaning
