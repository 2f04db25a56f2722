"""Which network carried it: likelihood-ratio tests and AIC between sets of tie layers.

The full fit frees every layer parameter named; each comparison fixes one of
them at 0 (the layer carried nothing) and refits the rest; a last one fixes
every layer parameter (and the strength) at 0: no horizontal channel at all.
A parameter fixed at its lower bound makes the likelihood-ratio statistic a
mixture under the null (Self & Liang 1987): for one parameter half a chi-square
with 1 degree of freedom and half a point mass at 0, so p = P(chi2_1 > LR) / 2;
for m parameters the chi-bar-square with binomial weights C(m, i) / 2^m (exact
when their estimates are uncorrelated, an approximation otherwise).
"""

from __future__ import annotations

from collections.abc import Callable
from math import comb

import numpy as np
import pandas as pd

from diffusion_sim.studies.estimation.fit import Fit, maximise
from diffusion_sim.studies.estimation.parameters import LAYER, Parameter

STRENGTH = "mechanisms.horizontal.strength"


def boundary_p_value(lr: float, m: int) -> float:
    """P-value of a likelihood-ratio statistic for m parameters tested at their lower bound.

    Examples
    --------
    >>> round(boundary_p_value(2.705543454095404, 1), 3)
    0.05
    """
    from scipy.stats import chi2

    lr = max(float(lr), 0.0)
    return float(sum(comb(m, i) / 2**m * chi2.sf(lr, i) for i in range(1, m + 1)))


def layer_table(
    loglik: Callable[[np.ndarray], float], params: list[Parameter], full: Fit
) -> pd.DataFrame | None:
    """The full fit beside each layer dropped and no layer at all (None without layers)."""
    layer_index = [k for k, p in enumerate(params) if p.key.startswith(LAYER)]
    if not layer_index:
        return None
    rows = [_row("all layers estimated", "", full, full, 0)]
    for k in layer_index:
        refit = maximise(loglik, params, fixed={k: 0.0}, start=full.values, information=False)
        rows.append(_row(f"without {params[k].key[len(LAYER) :]}", params[k].key, refit, full, 1))
    dropped = [k for k, p in enumerate(params) if p.key.startswith(LAYER) or p.key == STRENGTH]
    if len(dropped) > 1 and len(dropped) < len(params):
        fixed = {k: 0.0 for k in dropped}
        refit = maximise(loglik, params, fixed=fixed, start=full.values, information=False)
        names = ", ".join(params[k].key for k in dropped)
        rows.append(_row("no horizontal channel", names, refit, full, len(dropped)))
    table = pd.DataFrame(rows)
    table["delta_aic"] = table["aic"] - table["aic"].min()
    return table


def _row(label: str, dropped: str, fit: Fit, full: Fit, m: int) -> dict:
    lr = max(2.0 * (full.loglik - fit.loglik), 0.0) if m else np.nan  # refits: no gain
    return {
        "model": label,
        "fixed_at_zero": dropped,
        "parameters": fit.n_free,
        "loglik": fit.loglik,
        "aic": fit.aic,
        "lr": lr,
        "p_value": boundary_p_value(lr, m) if m else np.nan,
        "converged": fit.converged,
    }


def format_layer_table(table: pd.DataFrame) -> str:
    """The table as aligned text for the terminal."""
    lines = [f"{'model':<32} {'k':>2} {'log L':>12} {'AIC':>12} {'ΔAIC':>8} {'LR':>9} {'p':>8}"]
    for row in table.itertuples(index=False):
        lr = "" if np.isnan(row.lr) else f"{row.lr:9.2f}"
        p = "" if np.isnan(row.p_value) else f"{row.p_value:8.3g}"
        lines.append(
            f"{row.model:<32} {row.parameters:>2} {row.loglik:12.2f} {row.aic:12.2f} "
            f"{row.delta_aic:8.2f} {lr:>9} {p:>8}"
        )
    return "\n".join(lines)
