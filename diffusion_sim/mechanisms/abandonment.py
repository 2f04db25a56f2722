"""Abandonment: soft commitments carry no sanctions, so voluntary adopters may drop them.

Networks that publish members' commitments enforce by reputation (Swiney
2020, "global law"), which lowers the risk. Under a mandate in force nobody
abandons (the composition rule is in :mod:`diffusion_sim.mechanisms.embedded`).
"""

from __future__ import annotations

import numpy as np

from diffusion_sim.mechanisms.rules import either, rule


@rule
def abandonment_rule(monitored: bool, rate: float, reduction: float) -> float:
    """h = rate x (1 - reduction) for a member of a monitoring network, rate otherwise."""
    return rate * (1.0 - reduction * monitored)


def abandonment_hazard(monitored: np.ndarray, rate: float, reduction: float) -> np.ndarray:
    """:func:`abandonment_rule` on one city or on arrays."""
    return either(abandonment_rule, monitored, rate, reduction)
