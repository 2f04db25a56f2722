"""Curve baselines a forecast must beat: a 3-parameter Bass curve and a logistic curve.

Both are fitted to the cumulative count of the training periods by nonlinear least
squares (``scipy.optimize.curve_fit``, trust-region reflective within bounds) and
projected to the end of the forecast. Their intervals come from a parametric
bootstrap on the adoptions per period: the fitted curve's increments with
quasi-Poisson noise (negative binomial, variance phi x mean, phi the dispersion of
the training residuals, at least 1) give new training series; each is refitted
and projected with new noise in the future increments. So an interval holds both
the fit's parameter uncertainty and the process noise, as the model's posterior
predictive does.

- Bass (1969): N(t) = m (1 - e^{-(p+q)t}) / (1 + (q/p) e^{-(p+q)t}), t in steps
  from the first period.
- Logistic: N(t) = m / (1 + e^{-k (t - t0)}).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

BOOTSTRAP = 200
"""Bootstrap refits per baseline (each a curve_fit of three parameters: milliseconds)."""


def bass(t: np.ndarray, p: float, q: float, m: float) -> np.ndarray:
    """Cumulative adopters of the Bass model at times ``t`` (N(0) = 0)."""
    e = np.exp(-(p + q) * np.asarray(t, dtype=float))
    return m * (1.0 - e) / (1.0 + (q / p) * e)


def logistic(t: np.ndarray, k: float, t0: float, m: float) -> np.ndarray:
    """Cumulative adopters of a logistic curve with ceiling ``m``, rate ``k``, midpoint ``t0``."""
    return m / (1.0 + np.exp(-k * (np.asarray(t, dtype=float) - t0)))


@dataclass(frozen=True)
class Baseline:
    """A curve's formula, parameter names, and bounds and start from the training counts."""

    name: str
    curve: Callable[..., np.ndarray]
    parameters: tuple[str, str, str]

    def start_and_bounds(self, t: np.ndarray, y: np.ndarray, ceiling: float):
        last = max(float(y[-1]), 1.0)
        span = max(float(t[-1]), 1.0)
        if self.name == "bass":
            return [0.01, 0.1, 2 * last], ([1e-7, 0.0, last * 0.5], [1.0, 5.0, ceiling])
        return (
            [4.0 / span, span, 2 * last],
            ([1e-5, -10 * span, last * 0.5], [10.0, 20 * span, ceiling]),
        )


BASS = Baseline("bass", bass, ("p", "q", "m"))
LOGISTIC = Baseline("logistic", logistic, ("k", "t0", "m"))
BASELINES = (BASS, LOGISTIC)


@dataclass
class BaselineForecast:
    """A baseline fitted to the training counts and projected, with its bootstrap band."""

    name: str
    parameters: dict[str, float]
    covariance: np.ndarray
    fitted: np.ndarray
    """(T+1,): the fitted curve over the whole horizon (counts)."""
    band: np.ndarray
    """(3, T+1): 5%, 50%, 95% of the bootstrap projections (or the stated levels)."""
    dispersion: float
    note: str


def fit_curve(
    baseline: Baseline, t: np.ndarray, y: np.ndarray, ceiling: float
) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares parameters and covariance of ``baseline`` on counts ``y`` at ``t``."""
    start, bounds = baseline.start_and_bounds(t, y, ceiling)
    start = np.clip(start, np.asarray(bounds[0]) + 1e-12, np.asarray(bounds[1]) - 1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        best, cov = None, None
        # Two starts: curve_fit can stall in a flat valley of the ceiling m.
        for m0 in (start[2], min(4 * start[2], bounds[1][2] * 0.99)):
            try:
                params, pcov = curve_fit(
                    baseline.curve,
                    t,
                    y,
                    p0=[start[0], start[1], m0],
                    bounds=bounds,
                    method="trf",
                    maxfev=20_000,
                )
            except RuntimeError:
                continue
            sse = float(np.sum((baseline.curve(t, *params) - y) ** 2))
            if best is None or sse < best[0]:
                best, cov = (sse, params), pcov
    if best is None:
        raise RuntimeError(f"the {baseline.name} curve could not be fitted to the training data")
    return best[1], cov


def _noise(mean: np.ndarray, dispersion: float, rng: np.random.Generator) -> np.ndarray:
    """Counts per period with mean ``mean`` and variance dispersion x mean."""
    mean = np.clip(mean, 0.0, None)
    if dispersion <= 1.0 + 1e-9:
        return rng.poisson(mean).astype(float)
    n = np.maximum(mean / (dispersion - 1.0), 1e-12)
    return rng.negative_binomial(n, 1.0 / dispersion).astype(float)


def forecast_baseline(
    baseline: Baseline,
    train: np.ndarray,
    horizon: int,
    *,
    ceiling: float,
    rng: np.random.Generator,
    levels: tuple[float, float, float] = (0.05, 0.5, 0.95),
    bootstrap: int = BOOTSTRAP,
) -> BaselineForecast:
    """Fit ``baseline`` to the cumulative counts ``train`` (steps 0..n-1), project to ``horizon``.

    Parameters
    ----------
    train : array
        Cumulative adopters at the end of each training step.
    horizon : int
        Last step of the forecast (``len(train) - 1`` or more).
    ceiling : float
        The largest ceiling m allowed (the number of cities that could adopt).
    """
    t = np.arange(len(train), dtype=float)
    y = np.asarray(train, dtype=float)
    t_all = np.arange(horizon + 1, dtype=float)
    params, cov = fit_curve(baseline, t, y, ceiling)
    fitted = baseline.curve(t_all, *params)
    mean_inc = np.diff(baseline.curve(np.arange(-1, len(train)), *params))
    obs_inc = np.diff(y, prepend=0.0)
    dof = max(len(y) - 3, 1)
    pearson = np.sum((obs_inc - mean_inc) ** 2 / np.maximum(mean_inc, 0.5)) / dof
    dispersion = max(1.0, float(pearson))
    draws = []
    for _ in range(bootstrap):
        series = np.cumsum(_noise(mean_inc, dispersion, rng))
        try:
            again, _ = fit_curve(baseline, t, series, ceiling)
        except RuntimeError:
            continue
        path = baseline.curve(t_all, *again)
        inc = np.diff(path)[len(train) - 1 :]
        noisy = y[-1] + np.cumsum(_noise(inc, dispersion, rng))
        draws.append(np.concatenate([path[: len(train)], noisy]))
    band = np.quantile(np.array(draws), levels, axis=0)
    note = (
        "least squares on the cumulative counts (scipy curve_fit); "
        f"interval: parametric bootstrap, {len(draws)} refits of quasi-Poisson adoptions "
        f"per period (dispersion {dispersion:.1f}), projected with new noise"
    )
    return BaselineForecast(
        name=baseline.name,
        parameters=dict(zip(baseline.parameters, map(float, params), strict=True)),
        covariance=cov,
        fitted=fitted,
        band=band,
        dispersion=dispersion,
        note=note,
    )
