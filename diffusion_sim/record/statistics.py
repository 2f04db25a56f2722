"""Intervals over replicates that a reader can quote: shares stay within [0, 1].

Used by ``compare`` and by Kern's ladder (:mod:`diffusion_sim.studies.modes`); a fixed
Generator makes the same table from the same runs every time.
"""

from __future__ import annotations

import numpy as np
from scipy import special

BOOTSTRAP_SEED = 20190136
"""Seed of the bootstrap's Generator: the same table from the same runs, every time."""
RESAMPLES = 4000
"""Bootstrap resamples per interval."""


def bootstrap_interval(
    values: np.ndarray,
    rng: np.random.Generator,
    level: float = 0.95,
    resamples: int = RESAMPLES,
) -> tuple[float, float, float, int]:
    """Mean of the finite values and the expanded bootstrap percentile interval of the mean.

    Percentiles of resampled means lie between the smallest and largest value,
    so the interval of a share cannot leave [0, 1]. Plain percentiles are too
    narrow with few replicates, so the levels are widened as Hesterberg (2015,
    The American Statistician 69(4)) proposes: alpha' = 2 Phi(-sqrt(n / (n - 1))
    t(1 - alpha/2, n - 1)). NaN interval below two values.
    """
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    n = len(values)
    if n == 0:
        return float("nan"), float("nan"), float("nan"), 0
    mean = float(values.mean())
    if n < 2:
        return mean, float("nan"), float("nan"), n
    if np.all(values == values[0]):
        return mean, float(values[0]), float(values[0]), n
    means = values[rng.integers(0, n, size=(resamples, n))].mean(axis=1)
    t = special.stdtrit(n - 1, 0.5 + level / 2)
    tail = special.ndtr(-np.sqrt(n / (n - 1)) * t)  # alpha' / 2
    low, high = np.percentile(means, [100 * tail, 100 * (1 - tail)])
    return mean, float(low), float(high), n
