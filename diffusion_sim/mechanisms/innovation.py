"""Innovation: pioneers adopt on their own.

Leading cities act voluntarily (Kern 2019, horizontal upscaling starts with
them); the hazard grows with capacity (resources to act) and leaning (will).
"""

from __future__ import annotations

import numpy as np

from diffusion_sim.mechanisms.rules import either, rule


@rule
def innovation_rule(capacity: float, leaning: float, rate: float) -> float:
    """h = rate x capacity x leaning (one city; before the voluntary factor)."""
    return rate * capacity * leaning


def innovation_hazard(capacity: np.ndarray, leaning: np.ndarray, rate: float) -> np.ndarray:
    """:func:`innovation_rule` on one city or on arrays."""
    return either(innovation_rule, capacity, leaning, rate)


def top_pioneers(
    capacity: np.ndarray, leaning: np.ndarray, count: int, exclude: np.ndarray | None = None
) -> np.ndarray:
    """The ``count`` cities with the highest capacity x leaning (ties by index)."""
    score = capacity * leaning
    candidates = np.arange(len(score)) if exclude is None else np.flatnonzero(~exclude)
    order = candidates[np.lexsort((candidates, -score[candidates]))]
    return order[:count]
