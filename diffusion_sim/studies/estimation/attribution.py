"""Per adoption: how likely each channel, and each tie layer, carried it, given the fit.

The model picks the channel of an adoption with the uniform that decided it,
each channel in proportion to its hazard (docs/ODD.md §7.7), so given the
adoption and the fitted hazards at its cell

    P(channel k) = h_k / sum_k' h_k'.

Within the horizontal channel a layer's part is its share of the contagion
pressure at the cell, sum_j A_j -log(1 - p_ij) x (beta_l R^l_ij prestige_j / p_ij)
over the total (exact when p_ij is small, the tie's log-escape shared in
proportion to its layers' persuasion otherwise), so

    P(layer l) = P(horizontal) x L_l / L.

Shares of all adoptions by channel and layer are these probabilities averaged;
their 95% intervals come from parameter draws from the fit's asymptotic normal
distribution (truncated to the parameters' bounds), so they show how well the
data pin the attribution down, not the randomness of the channel draw itself.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from diffusion_sim.mechanisms import horizontal
from diffusion_sim.mechanisms.embedded import ADOPTION_CHANNELS
from diffusion_sim.studies.estimation.fit import Fit
from diffusion_sim.studies.estimation.likelihood import Likelihood

DRAWS = 200


def probabilities(likelihood: Likelihood, theta: np.ndarray) -> pd.DataFrame:
    """One row per adoption cell: P(channel) for the four channels and P(layer) per layer."""
    values = likelihood.parametrisation.values(theta)
    exposure, which = likelihood.exposure, likelihood.adoptions
    p = values.beta @ exposure.weighted
    units = horizontal.log_escape(p) * horizontal.LOG_ESCAPE_UNITS
    total = exposure.at_adoptions(units)
    channels = np.vstack(likelihood.channels(values, which, pressure=total))
    denominator = channels.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = channels / denominator
        columns = {f"p_{name}": shares[k] for k, name in enumerate(ADOPTION_CHANNELS)}
        safe_p = np.where(p > 0, p, 1.0)
        for k, name in enumerate(exposure.layers):
            part = exposure.at_adoptions(units * values.beta[k] * exposure.weighted[k] / safe_p)
            columns[f"p_layer_{name}"] = shares[1] * np.where(total > 0, part / total, 0.0)
    frame = pd.DataFrame(columns)
    frame.insert(0, "city", likelihood.cells.city[which.cells])
    frame.insert(1, "step", likelihood.cells.step[which.cells])
    frame["possible"] = denominator > 0
    return frame


def shares(
    likelihood: Likelihood, fit: Fit, draws: int = DRAWS, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per adoption probabilities at the estimate; shares of all adoptions, 95% intervals."""
    at_fit = probabilities(likelihood, fit.values)
    columns = [c for c in at_fit.columns if c.startswith("p_")]
    possible = at_fit["possible"].to_numpy()
    point = at_fit.loc[possible, columns].mean()
    samples = _draws(likelihood, fit, draws, seed, columns, possible)
    rows = []
    for name in columns:
        kind = "layer" if name.startswith("p_layer_") else "channel"
        label = name[len("p_layer_") :] if kind == "layer" else name[len("p_") :]
        low = high = np.nan
        if samples is not None:
            low, high = np.nanpercentile(samples[name], [2.5, 97.5])
        rows.append(
            {
                "kind": kind,
                "name": label,
                "share": float(point[name]),
                "lower95": float(low),
                "upper95": float(high),
                "expected_adoptions": float(at_fit.loc[possible, name].sum()),
            }
        )
    return at_fit, pd.DataFrame(rows)


def _draws(
    likelihood: Likelihood,
    fit: Fit,
    draws: int,
    seed: int,
    columns: list[str],
    possible: np.ndarray,
) -> pd.DataFrame | None:
    """Mean probabilities at parameter draws from N(estimate, covariance), within bounds."""
    free = fit.free
    cov = fit.cov[np.ix_(free, free)]
    if draws <= 0 or not free.any() or not np.all(np.isfinite(cov)):
        return None
    rng = np.random.default_rng(seed)
    upper = np.array([p.upper for p in likelihood.parametrisation.params])[free]
    sample = rng.multivariate_normal(fit.values[free], cov, size=draws, method="eigh")
    sample = np.clip(sample, 0.0, upper)
    rows = []
    for x in sample:
        theta = fit.values.copy()
        theta[free] = x
        frame = probabilities(likelihood, theta)
        rows.append(frame.loc[possible, columns].mean())
    return pd.DataFrame(rows)
