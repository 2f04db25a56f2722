"""Maximum likelihood: scipy's bounded L-BFGS-B, standard errors from the observed information.

Parameters are searched on their natural scale divided by their start value
(so each is of order 1), within [0, upper]: 0 is a meaningful value here (a tie
layer that carried nothing; a likelihood-ratio test of it is a test at the
bound), which a log scale could not reach. The observed information is minus
statsmodels' numerical Hessian of log L (``approx_hess3``) at the maximum; at a
bound it is taken one step inside, where the likelihood is defined on both
sides of every evaluation. Intervals are Wald intervals from the same standard
errors: on the log scale for the rates (innovation, strength, top-down), whose
likelihood is skewed near 0 (over 30 round trips the innovation rate's natural
interval covered 87%, the log one 90%), on the natural scale for a layer's beta
and deterrence, whose question is "is it 0?" (so their intervals can cover 0,
as the layer table's tests do). The fit warns when the information is singular
(a parameter not identified by the data) or a parameter sits on a bound (its
Wald interval is then only indicative; the layer table's likelihood-ratio test
is the test to read).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from diffusion_sim.studies.estimation.parameters import Parameter

Z95 = 1.959963984540054
CONDITION_LIMIT = 1e12
"""Above this condition number the observed information counts as singular."""
BOUND_TOLERANCE = 1e-6
"""A value within this fraction of its start of a bound sits on it."""


@dataclass(frozen=True)
class Fit:
    """Estimates, standard errors and what to worry about."""

    keys: list[str]
    values: np.ndarray
    se: np.ndarray
    cov: np.ndarray
    loglik: float
    free: np.ndarray
    """Which parameters were estimated (the others were fixed, e.g. a dropped layer)."""
    log_scale: np.ndarray
    """Which intervals are taken on the log scale (rates away from their bounds)."""
    on_bound: np.ndarray
    converged: bool
    message: str
    evaluations: int
    seconds: float
    warnings: tuple[str, ...] = field(default=())
    information_seconds: float = 0.0
    """Of ``seconds``, the observed information's (the numerical Hessian)."""

    @property
    def n_free(self) -> int:
        return int(self.free.sum())

    @property
    def aic(self) -> float:
        return 2.0 * self.n_free - 2.0 * self.loglik

    def interval(self, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
        """Wald intervals: value -/+ z se, or value x exp(-/+ z se / value) on the log scale.

        The log scale (for rates inside their bounds) follows the skew of their
        likelihood near 0; the same standard error, by the delta method.
        """
        lower, upper = self.values - z * self.se, self.values + z * self.se
        log = self.log_scale & (self.values > 0)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            spread = np.exp(z * self.se / self.values)
            lower = np.where(log, self.values / spread, lower)
            upper = np.where(log, self.values * spread, upper)
        return lower, upper


def maximise(
    loglik: Callable[[np.ndarray], float],
    params: list[Parameter],
    *,
    fixed: Mapping[int, float] | None = None,
    start: np.ndarray | None = None,
    information: bool = True,
) -> Fit:
    """Maximise ``loglik`` over the parameters not in ``fixed`` (index -> value).

    Parameters
    ----------
    loglik : callable
        log L of the full parameter vector (in the order of ``params``).
    params : list of Parameter
        Bounds [0, upper] and the starting values (the scenario's, or a fallback).
    fixed : mapping, optional
        Parameters held at a value (a layer dropped for a likelihood-ratio test).
    information : bool
        Compute the observed information and standard errors (the layer table's
        refits need only the maximum).
    """
    from scipy.optimize import minimize

    began = time.perf_counter()
    fixed = dict(fixed or {})
    n = len(params)
    free = np.array([k not in fixed for k in range(n)])
    scale = np.array([p.start for p in params])
    upper = np.array([p.upper for p in params])
    x0 = (np.array(start, dtype=float) if start is not None else scale.copy()) / scale
    full = np.array([fixed.get(k, 0.0) for k in range(n)])
    count = [0]

    def theta_of(x: np.ndarray) -> np.ndarray:
        theta = full.copy()
        theta[free] = x * scale[free]
        return theta

    def negative(x: np.ndarray) -> float:
        count[0] += 1
        return -loglik(theta_of(x))

    def objective(x: np.ndarray) -> float:
        value = negative(x)
        return value if math.isfinite(value) else 1e300

    notes: list[str] = []
    bounds = [(0.0, u / s) for u, s in zip(upper[free], scale[free], strict=True)]
    if free.any():
        x_start = np.clip(x0[free], 0.0, upper[free] / scale[free])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            result = minimize(
                objective,
                x_start,
                method="L-BFGS-B",
                bounds=bounds,
                options={"maxiter": 1000, "ftol": 1e-14, "gtol": 1e-8, "maxls": 50},
            )
        x_hat, converged, message = result.x, bool(result.success), str(result.message)
        if not converged:
            notes.append(f"the optimiser stopped without converging: {message}")
    else:
        x_hat, converged, message = np.empty(0), True, "nothing to estimate"
    theta = theta_of(x_hat)
    value = loglik(theta)
    lower_hit = x_hat <= BOUND_TOLERANCE
    upper_hit = x_hat >= upper[free] / scale[free] * (1 - BOUND_TOLERANCE)
    on_bound = np.zeros(n, dtype=bool)
    on_bound[free] = lower_hit | upper_hit
    for k in np.flatnonzero(on_bound):
        where = "0" if theta[k] <= params[k].upper / 2 else f"its upper bound {params[k].upper:g}"
        notes.append(
            f"{params[k].key} sits on {where}: its Wald interval is only indicative there "
            "(for a layer, the likelihood-ratio test of the layer table is the test to read)"
        )
    se = np.full(n, np.nan)
    cov = np.full((n, n), np.nan)
    information_began = time.perf_counter()
    if information and free.any():
        cov_free, warning = _covariance(negative, x_hat, lower_hit, upper_hit, bounds)
        if warning:
            notes.append(warning)
        s = scale[free]
        cov[np.ix_(free, free)] = cov_free * np.outer(s, s)
        with np.errstate(invalid="ignore"):
            se = np.sqrt(np.where(np.diag(cov) >= 0, np.diag(cov), np.nan))
    se[~free] = 0.0
    return Fit(
        keys=[p.key for p in params],
        values=theta,
        se=se,
        cov=cov,
        loglik=value,
        free=free,
        log_scale=np.array([p.log_interval for p in params]) & ~on_bound,
        on_bound=on_bound,
        converged=converged,
        message=message,
        evaluations=count[0],
        seconds=time.perf_counter() - began,
        warnings=tuple(notes),
        information_seconds=time.perf_counter() - information_began,
    )


def _covariance(
    objective: Callable[[np.ndarray], float],
    x_hat: np.ndarray,
    lower_hit: np.ndarray,
    upper_hit: np.ndarray,
    bounds: list[tuple[float, float]],
) -> tuple[np.ndarray, str]:
    """Inverse observed information in the search scale, and a warning if it is singular."""
    from statsmodels.tools.numdiff import approx_hess3

    step = np.finfo(float).eps ** 0.25 * np.maximum(np.abs(x_hat), 0.1)
    at = x_hat.copy()
    at[lower_hit] = 2 * step[lower_hit]  # one step inside a bound: both sides defined
    highs = np.array([b[1] for b in bounds])
    at[upper_hit] = highs[upper_hit] - 2 * step[upper_hit]
    information = approx_hess3(at, objective, epsilon=step)  # Hessian of -log L
    information = (information + information.T) / 2
    if not np.all(np.isfinite(information)):
        return np.full_like(information, np.nan), (
            "the observed information could not be computed (the likelihood is not finite "
            "near the estimate): no standard errors"
        )
    eigen = np.linalg.eigvalsh(information)
    if eigen.min() <= 0 or eigen.max() / eigen.min() > CONDITION_LIMIT:
        return np.linalg.pinv(information), (
            "the observed information is singular or nearly so (eigenvalues "
            f"{eigen.min():.3g} to {eigen.max():.3g}): some parameter, or combination of "
            "parameters, is not identified by these data; standard errors are unreliable"
        )
    return np.linalg.inv(information), ""
