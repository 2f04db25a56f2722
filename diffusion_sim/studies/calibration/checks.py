"""Does the posterior support the best fit? A warning when it does not.

The point fit is the single best value on the fit's fixed seeds; the posterior
is where values fit within the process's noise. When they disagree, a user
reading ``fitted.toml`` (written from the best fit) or the posterior medians
should be told: either the best fit is a narrow optimum of the fixed seeds that
the posterior does not concentrate on, or the posterior's mass lies where the
curve fits worse than one run's noise allows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

from diffusion_sim.studies.calibration.report import Interval


def best_fit_disagreement(
    keys: Sequence[str],
    best: Mapping[str, float],
    intervals: Mapping[str, Interval],
    observed: np.ndarray,
    best_mean: np.ndarray,
    predictive_median: np.ndarray,
    noise_sd: float,
    denominator: int,
) -> list[str]:
    """Warnings when the best fit and the posterior disagree by more than the noise.

    Two checks: a best-fit value outside its key's 90% credible interval; and the
    posterior predictive median missing the observed curve by more than the best
    fit does plus one run's noise (``noise_sd``: the RMS over steps of a single
    replicate's spread around the mean, measured at the best fit).
    """
    out = []
    outside = [
        f"{k} {best[k]:.4g} (90% interval {intervals[k].low:.4g}-{intervals[k].high:.4g})"
        for k in keys
        if not intervals[k].low <= best[k] <= intervals[k].high
    ]
    if outside:
        out.append(
            "the best fit lies outside the posterior's 90% interval for "
            + "; ".join(outside)
            + ": fitted.toml is written from the best fit, which the posterior does not "
            "support; read the posterior medians and intervals as the fit's answer"
        )
    rmse_best = math.sqrt(float(np.mean((best_mean - observed) ** 2)))
    rmse_median = math.sqrt(float(np.mean((predictive_median - observed) ** 2)))
    if rmse_median - rmse_best > noise_sd:
        out.append(
            f"the posterior predictive median misses the data by RMSE {rmse_median:.4f} "
            f"(about {rmse_median * denominator:.0f} cities) against {rmse_best:.4f} "
            f"({rmse_best * denominator:.0f}) for the best fit, more than one run's noise "
            f"({noise_sd:.4f}, {noise_sd * denominator:.0f} cities): the best fit is a narrow "
            "optimum of the fit's fixed seeds that the posterior does not concentrate on; "
            "fitted.toml is written from the best fit"
        )
    return out
