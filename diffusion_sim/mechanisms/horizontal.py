"""Horizontal upscaling: peer influence over city-city ties.

Influence of an adopter j on a city i is w_ij x prestige_j, with
prestige_j = (population_j / mean population)^alpha: large cities act as norm
entrepreneurs (Foster & Swiney 2021). Weights are fixed-point integers held in
floats, so sums are exact in any order and both engines compare the same
numbers at a threshold's boundary (docs/ODD.md, "Exact arithmetic").
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from diffusion_sim.mechanisms.rules import either, rule

INFLUENCE_UNITS = 2.0**20
"""Resolution of influence weights: the largest tie weighs 2^20 units."""

LOG_ESCAPE_UNITS = 2.0**20
"""Resolution of contagion's log-escape weights, in units per nat."""

MAX_PERSUASION = 1.0 - 2.0**-20
"""Persuasion probabilities are capped just below 1 so their logs stay finite."""


def prestige(population: np.ndarray, alpha: float) -> np.ndarray:
    """(population / mean population)^alpha; alpha = 0 makes every city count alike."""
    population = np.asarray(population, dtype=np.float64)
    if alpha == 0:
        return np.ones_like(population)
    return (population / population.mean()) ** alpha


def influence_weights(
    ties: sp.csr_array, source_prestige: np.ndarray, *, by_source: bool = True
) -> sp.csr_array:
    """Integer-valued influence weights q_ij = round(w_ij prestige_j / max x 2^20), at least 1.

    Returns the matrix indexed [source j, target i] (CSR by source), so that the
    cities a new adopter influences are one row; ``by_source=False`` keeps the
    ties' own orientation [target i, source j] (no transpose: the caller that
    needs both transposes once).
    """
    weights = _prestige_scaled(ties, source_prestige)
    if weights.nnz:
        scale = INFLUENCE_UNITS / weights.data.max()
        data = weights.data
        np.multiply(data, scale, out=data)
        np.round(data, out=data)
        np.maximum(1.0, data, out=data)
    return sp.csr_array(weights.T) if by_source else weights


def log_escape_weights(
    ties: sp.csr_array, source_prestige: np.ndarray, strength: float, *, by_source: bool = True
) -> sp.csr_array:
    """Integer-valued -log(1 - strength x w_ij x prestige_j) x 2^20, CSR by source.

    An adopting neighbour j persuades i with probability p_ij = strength x w_ij x
    prestige_j (capped below 1); i escapes all of them with probability
    prod_j (1 - p_ij) = exp(-sum_j log-escape_ij). ``by_source=False`` keeps the
    ties' orientation [target i, source j], as :func:`influence_weights`.
    """
    weights = _prestige_scaled(ties, source_prestige)
    units = np.round(log_escape(strength * weights.data) * LOG_ESCAPE_UNITS)
    weights = _on_structure(weights, units)
    return sp.csr_array(weights.T) if by_source else weights


def _prestige_scaled(ties: sp.csr_array, source_prestige: np.ndarray) -> sp.csr_array:
    """w_ij x prestige_j in the ties' orientation (row i, column j), without zeros.

    Each weight times its source's prestige, elementwise, the numbers of scipy's
    broadcast multiply of the transpose, without building the transpose.
    """
    ties = sp.csr_array(ties)
    if not ties.has_canonical_format:
        ties = ties.copy()
        ties.sum_duplicates()
    prestige = np.asarray(source_prestige, dtype=np.float64)
    return _on_structure(ties, ties.data * prestige[ties.indices])


def _on_structure(matrix: sp.csr_array, data: np.ndarray) -> sp.csr_array:
    """``data`` on the entries of canonical ``matrix``, explicit zeros dropped.

    The index arrays are shared when no entry drops (a million cities' worth of
    them is 40 MB), copied otherwise: ``matrix`` itself is never written.
    """
    if data.all():
        out = sp.csr_array((data, matrix.indices, matrix.indptr), shape=matrix.shape)
        out.has_canonical_format = True
        return out
    out = sp.csr_array((data, matrix.indices.copy(), matrix.indptr.copy()), shape=matrix.shape)
    out.has_canonical_format = True
    out.eliminate_zeros()
    return out


def log_escape(persuasion: np.ndarray) -> np.ndarray:
    """-log(1 - p) in nats for persuasion probabilities p, capped below 1 (MAX_PERSUASION).

    What one adopting neighbour adds to a city's contagion pressure. The engines
    take it in fixed point (:func:`log_escape_weights`); the likelihood of
    :mod:`diffusion_sim.studies.estimation` takes it unrounded, so that it is smooth in
    the parameters. Written once here for both.
    """
    return -np.log1p(-np.minimum(persuasion, MAX_PERSUASION))


@rule
def threshold_rule(pressure: float, total: float, threshold: float, boost: float) -> float:
    """1 if the weighted share of adopting neighbours x boost reaches the threshold, else 0.

    share = pressure / total is a correctly rounded division of exact integers,
    so 7 adopters of 100 against a threshold of 0.07 adopt, on every engine.
    A city with no ties never adopts this way.
    """
    return 1.0 if total > 0 and pressure / total * boost >= threshold else 0.0


def threshold_hazard(
    pressure: np.ndarray, total: np.ndarray, threshold: np.ndarray, boost: float = 1.0
) -> np.ndarray:
    """:func:`threshold_rule` on one city or on arrays."""
    with np.errstate(divide="ignore", invalid="ignore"):  # 0/0 where total is 0: never read
        return either(threshold_rule, pressure, total, threshold, boost)


def escape_probability(log_escape: np.ndarray) -> np.ndarray:
    """exp(-log_escape / 2^20): the chance that no adopting neighbour persuades a city.

    The one place where the engines must not use numba: numpy's ``exp`` may
    differ from libm's (which compiled code calls) in the last bit, so both
    engines take this factor from numpy (the vectorized engine for the cities it
    refreshes, the agents on their own number) and pass it to
    :func:`persuasion_rule`.
    """
    return np.exp(-np.asarray(log_escape, dtype=np.float64) / LOG_ESCAPE_UNITS)


@rule
def persuasion_rule(escaped: float, boost: float) -> float:
    """h = min(1, boost x (1 - escaped)): contagion, independent persuasion by each adopter."""
    return min(1.0, boost * (1.0 - escaped))


def contagion_hazard(log_escape: np.ndarray, boost: float = 1.0) -> np.ndarray:
    """Contagion's hazard from the log-escape pressure, on one city or on arrays."""
    escaped = escape_probability(log_escape)
    if np.ndim(log_escape) == 0:
        return persuasion_rule(float(escaped), boost)
    return persuasion_rule.array(escaped, boost)


def draw_thresholds(
    uniforms: np.ndarray,
    readiness: np.ndarray,
    distribution: str,
    mean: float,
    spread: float,
    readiness_effect: float,
) -> np.ndarray:
    """Per-city thresholds from one uniform per city (drawn whatever the rule).

    theta_i = clip(mean + noise_i - readiness_effect x (readiness_i - 0.5), 0, 1):
    cities able and willing to act need fewer adopting peers, so leaders follow
    leaders and laggards hold out (Kern 2019). The uniforms are drawn even when
    unused so that switching rules keeps the other random numbers (common
    random numbers across scenarios).
    """
    from scipy.special import ndtri

    if distribution == "normal":
        noise = spread * ndtri(np.clip(uniforms, 1e-12, 1 - 1e-12))
    elif distribution == "uniform":
        noise = spread * (2.0 * uniforms - 1.0)
    else:
        noise = np.zeros_like(uniforms)
    return np.clip(mean + noise - readiness_effect * (readiness - 0.5), 0.0, 1.0)
