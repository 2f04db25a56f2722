"""Abandonment: soft commitments carry no sanctions, so voluntary adopters may drop them.

Networks that publish members' commitments enforce by reputation (Swiney
2020, "global law"), which lowers the risk.
"""

from __future__ import annotations

import numpy as np


def abandonment_hazard(monitored: np.ndarray, rate: float, reduction: float) -> np.ndarray:
    """h = rate x (1 - reduction) for members of a monitoring network, rate otherwise."""
    return rate * (1.0 - reduction * np.asarray(monitored))
