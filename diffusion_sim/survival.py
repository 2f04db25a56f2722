"""Times to a level over replicates, with censoring: Kaplan–Meier medians (lifelines).

A replicate that never reaches a level within its window is censored at the
window's end, not dropped: a mean over the replicates that got there (2 of 20,
say) says nothing about the other 18. The median time is the first time the
Kaplan–Meier estimate of "not reached yet" falls to one half or below (lifelines); its
95% interval is lifelines' (exponential Greenwood bands, read at one half); a
level that fewer than half of the replicates reach has no median ("not reached").
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from dataclasses import dataclass

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


def kaplan_meier(durations: np.ndarray, observed: np.ndarray):
    """A fitted ``lifelines.KaplanMeierFitter`` (``observed`` False: censored at ``durations``)."""
    from lifelines import KaplanMeierFitter

    with _quiet():
        return KaplanMeierFitter().fit(
            np.asarray(durations, dtype=np.float64), np.asarray(observed, dtype=bool)
        )


@contextmanager
def _quiet():
    """Hide lifelines' deprecation warnings about the pandas it calls (not about our data)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        yield


def time_to_level(times: np.ndarray, horizon: float) -> TimeTo:
    """Median time over replicates, each NaN (never reached) censored at ``horizon``."""
    from lifelines.utils import median_survival_times

    times = np.asarray(times, dtype=np.float64)
    reached = ~np.isnan(times)
    if len(times) == 0:
        return TimeTo(np.nan, np.nan, np.nan, np.nan, 0)
    never = float((~reached).mean())
    if not reached.any():
        return TimeTo(np.inf, np.inf, np.inf, never, len(times))
    fit = kaplan_meier(np.where(reached, times, horizon), reached)
    with _quiet():
        bounds = median_survival_times(fit.confidence_interval_).to_numpy(dtype=np.float64)[0]
    return TimeTo(float(fit.median_survival_time_), bounds[0], bounds[1], never, len(times))


def format_p(p: float) -> str:
    """A p-value as printed: ``< 0.001`` below a thousandth, never ``0``."""
    if p != p:
        return "-"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def logrank_p(
    times_a: np.ndarray, horizon_a: float, times_b: np.ndarray, horizon_b: float
) -> float:
    """Log-rank test (lifelines) of two sets of times, NaN censored at their horizons."""
    from lifelines.statistics import logrank_test

    a, b = np.asarray(times_a, dtype=np.float64), np.asarray(times_b, dtype=np.float64)
    if len(a) == 0 or len(b) == 0 or (np.isnan(a).all() and np.isnan(b).all()):
        return float("nan")
    with _quiet():
        test = logrank_test(
            np.where(np.isnan(a), horizon_a, a),
            np.where(np.isnan(b), horizon_b, b),
            event_observed_A=~np.isnan(a),
            event_observed_B=~np.isnan(b),
        )
    return float(test.p_value)


def wilcoxon_p(paired: np.ndarray) -> float:
    """Paired Wilcoxon signed-rank test (scipy) of differences; NaN if all are zero or too few."""
    from scipy.stats import wilcoxon

    paired = np.asarray(paired, dtype=np.float64)
    paired = paired[np.isfinite(paired)]
    if len(paired) < 2 or not np.any(paired != 0):
        return float("nan")
    return float(wilcoxon(paired).pvalue)
