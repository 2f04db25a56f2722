"""Times to a level over replicates, with censoring: Kaplan–Meier medians (statsmodels).

A replicate that never reaches a level within its window is censored at the
window's end, not dropped: a mean over the replicates that got there (2 of 20,
say) says nothing about the other 18. The median time is the first time the
Kaplan–Meier estimate of "not reached yet" falls to one half or below (statsmodels); its
95% interval is statsmodels' (Brookmeyer–Crowley, on the cloglog scale); a
level that fewer than half of the replicates reach has no median ("not reached").
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class TimeTo:
    """A time to a level over replicates."""

    median: float
    """Kaplan–Meier median (inf: fewer than half got there)."""
    low: float
    high: float
    """95% interval of the median (inf: unbounded above)."""
    never: float
    """Share of the replicates that never got there within the window."""
    n: int
    """Replicates."""


def kaplan_meier(durations: np.ndarray, observed: np.ndarray) -> Any:
    """A Kaplan–Meier fit (statsmodels' ``SurvfuncRight``; ``observed`` False: censored)."""
    from statsmodels.duration.survfunc import SurvfuncRight

    return SurvfuncRight(
        np.asarray(durations, dtype=np.float64), np.asarray(observed, dtype=bool).astype(int)
    )


def survival_at(fit: Any, t: float) -> float:
    """S(t) of a Kaplan–Meier fit: the product-limit estimate after every event time <= t."""
    times, probabilities = np.asarray(fit.surv_times), np.asarray(fit.surv_prob)
    done = np.flatnonzero(times <= t)
    return float(probabilities[done[-1]]) if len(done) else 1.0


def time_to_level(times: np.ndarray, horizon: float) -> TimeTo:
    """Median time over replicates, each NaN (never reached) censored at ``horizon``."""
    times = np.asarray(times, dtype=np.float64)
    reached = ~np.isnan(times)
    if len(times) == 0:
        return TimeTo(np.nan, np.nan, np.nan, np.nan, 0)
    never = float((~reached).mean())
    if not reached.any():
        return TimeTo(np.inf, np.inf, np.inf, never, len(times))
    fit = kaplan_meier(np.where(reached, times, horizon), reached)
    below = np.flatnonzero(np.asarray(fit.surv_prob) <= 0.5 + 1e-12)  # S <= 1/2, not < 1/2
    median = float(np.asarray(fit.surv_times)[below[0]]) if len(below) else np.inf
    with warnings.catch_warnings():  # a band that never reaches one half warns and gives NaN
        warnings.simplefilter("ignore")
        low, high = (float(v) for v in fit.quantile_ci(0.5, alpha=0.05))
    median = np.inf if median != median else median
    high = np.inf if high != high else high
    low = median if low != low else low
    return TimeTo(median, low, high, never, len(times))


def format_p(p: float) -> str:
    """A p-value as printed: ``< 0.001`` below a thousandth, never ``0``."""
    if p != p:
        return "-"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def logrank_p(
    times_a: np.ndarray, horizon_a: float, times_b: np.ndarray, horizon_b: float
) -> float:
    """Log-rank test (statsmodels' ``survdiff``) of two sets of times, NaN censored at horizons."""
    from statsmodels.duration.survfunc import survdiff

    a, b = np.asarray(times_a, dtype=np.float64), np.asarray(times_b, dtype=np.float64)
    if len(a) == 0 or len(b) == 0 or (np.isnan(a).all() and np.isnan(b).all()):
        return float("nan")
    censored_a, censored_b = (
        np.where(np.isnan(a), horizon_a, a),
        np.where(np.isnan(b), horizon_b, b),
    )
    time = np.concatenate([censored_a, censored_b])
    status = np.concatenate([~np.isnan(a), ~np.isnan(b)]).astype(int)
    group = np.repeat([0, 1], [len(a), len(b)])
    try:
        _, p = survdiff(time, status, group)
    except np.linalg.LinAlgError:  # no variance: every time the same in both groups
        same = np.array_equal(np.sort(censored_a), np.sort(censored_b))
        return 1.0 if same else float("nan")
    return float(p)


def wilcoxon_p(paired: np.ndarray) -> float:
    """Paired Wilcoxon signed-rank test (scipy) of differences; NaN if all are zero or too few."""
    from scipy.stats import wilcoxon

    paired = np.asarray(paired, dtype=np.float64)
    paired = paired[np.isfinite(paired)]
    if len(paired) < 2 or not np.any(paired != 0):
        return float("nan")
    return float(wilcoxon(paired).pvalue)
