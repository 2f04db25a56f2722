"""Assembling a calibration's report: curves side by side, channel shares, warnings, manifest."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from diffusion_sim.mechanisms.embedded import ADOPTION_CHANNELS
from diffusion_sim.studies.calibration.checks import best_fit_disagreement
from diffusion_sim.studies.calibration.data import Adoptions, ObservedCurve
from diffusion_sim.studies.calibration.keys import FitKey, Prior, read_value
from diffusion_sim.studies.calibration.point import PointFit
from diffusion_sim.studies.calibration.report import Calibration, predictive_band

POOR_FIT = 0.9
"""Below this R² the report says the model cannot reproduce the data with these keys."""


def _r2(model: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    sse = float(np.sum((model - target) ** 2))
    sst = float(np.sum((target - target.mean()) ** 2))
    return sse, (1.0 - sse / sst if sst > 0 else float("nan"))


def _boxes(keys: Sequence[FitKey], prior_of: Mapping[str, Prior], best: PointFit) -> dict:
    """The point fit's first and last search box per key, in the key's units."""
    out = {}
    for k, first, last in zip(keys, best.first, best.boxes, strict=True):
        prior = prior_of[k.key]
        out[k.key] = {
            name: [prior.from_z(box[0]), prior.from_z(box[1])]
            for name, box in (("first", first), ("last", last))
        }
    return out


def build(**kw: Any) -> Calibration:
    """Assemble the report: curves side by side, channel shares, manifest."""
    observed: ObservedCurve = kw["observed"]
    evaluation = kw["evaluation"]
    keys: list[FitKey] = kw["keys"]
    posterior, summary, noise = kw["posterior"], kw["summary"], kw["noise"]
    target = observed.share
    mean = evaluation.mean
    sse, r2 = _r2(mean, target)
    columns: dict[str, Any] = {
        "step": np.arange(len(target)),
        "period": observed.periods.to_timestamp(),
        "observed": target,
        "observed_count": observed.count,
        "model_mean": mean,
        "model_p5": np.quantile(evaluation.curves, 0.05, axis=0),
        "model_p95": np.quantile(evaluation.curves, 0.95, axis=0),
    }
    r2_coordinated = None
    if kw["joint"]:
        columns["observed_coordinated"] = observed.coordinated
        columns["model_vertical_mean"] = evaluation.vertical_mean
        _, r2_coordinated = _r2(evaluation.vertical_mean, observed.coordinated)
    if posterior is not None:
        for prefix, which in (("", "curves"), ("vertical_", "vertical")):
            if prefix and not kw["joint"]:
                continue
            band = predictive_band(posterior, which)
            for level, row in zip((5, 50, 95), band, strict=True):
                columns[f"{prefix}predictive_p{level}"] = row
    shares = evaluation.channel_shares
    values = {k.key: read_value(kw["fitted"], k.key) for k in keys}
    targets = ["curve"] + (["coordinated share"] if kw["joint"] else [])
    method = (
        "ABC-SMC (pyabc): priors "
        + ", ".join(f"{k} {p.describe()}" for k, p in kw["prior_of"].items())
        + "; normal kernel on adoptions in windows, covariance from replicates; "
        if posterior is not None
        else ""
    ) + (
        "point fit (grid or Sobol points in log space, then Nelder-Mead); objective: sum of "
        "squared differences of the "
        f"mean share of cities adopted{' and of the coordinated share' if kw['joint'] else ''} "
        f"over {kw['replicates']} fixed seeds"
    )
    noise_note = ""
    if noise is not None:
        parts = []
        for name, factor, chi2 in zip(noise.targets, noise.inflation, noise.chi2, strict=True):
            if factor > 1:
                parts.append(
                    f"{name}: the best fit misses the data by more than the replicate noise "
                    f"(chi² {chi2:.1f} on {len(noise.cov) // len(noise.targets)} windows), so "
                    f"its noise was widened x{factor:.1f} and intervals by x{math.sqrt(factor):.1f}"
                )
            else:
                parts.append(f"{name}: within the replicate noise (chi² {chi2:.1f})")
        noise_note = "; ".join(parts)
    warnings = [*kw["observed"].warnings, *kw["best"].warnings]
    if summary is not None and noise is not None:
        warnings += best_fit_disagreement(
            [k.key for k in keys],
            values,
            summary.intervals,
            target,
            mean,
            columns["predictive_p50"],
            noise.curve_sd,
            observed.denominator,
        )
    if not r2 >= POOR_FIT:
        warnings.append(
            f"the best fit explains little of the curve (R² {r2:.2f} < {POOR_FIT}): with "
            f"{', '.join(k.key for k in keys)} the model cannot reproduce these data; the "
            "values and intervals describe the least bad fit, not a good one (other keys, "
            "or a scenario whose other mechanisms do not already fix the curve, may fit)"
        )
    calibration = Calibration(
        keys=[k.key for k in keys],
        values=values,
        start={k.key: k.start for k in keys},
        rmse=math.sqrt(sse / len(target)),
        r2=r2,
        evaluations=kw["evaluations"],
        curve=pd.DataFrame(columns),
        channel_shares={c: float(v) for c, v in zip(ADOPTION_CHANNELS, shares, strict=True)},
        scenario=kw["fitted"],
        observed=observed,
        replicates=kw["replicates"],
        seed=kw["root"],
        method=method,
        warnings=warnings,
        posterior=posterior,
        posterior_summary=summary,
        r2_coordinated=r2_coordinated,
        targets=targets,
        priors={k: p.describe() for k, p in kw["prior_of"].items()},
        overrides=kw["overrides"],
        steps=observed.steps,
        noise_note=noise_note,
    )
    adoptions: Adoptions = kw["adoptions"]
    calibration.manifest = {
        "kind": "calibration",
        "method": kw["method"],
        "description": method,
        "scenario_file": kw["scenario"].source,
        "data": adoptions.source,
        "data_format": adoptions.format,
        "observed": observed.note,
        "denominator": observed.denominator,
        "targets": targets,
        "fit": values,
        "start": calibration.start,
        "priors": calibration.priors,
        "rmse": calibration.rmse,
        "r2": calibration.r2,
        "r2_coordinated": r2_coordinated,
        "evaluations": kw["evaluations"],
        "replicates": kw["replicates"],
        "seed": kw["root"],
        "channel_shares": calibration.channel_shares,
        "search_boxes": _boxes(keys, kw["prior_of"], kw["best"]),
        "warnings": calibration.all_warnings,
        "overrides": kw["overrides"],
        "scenario": kw["fitted"].to_dict(),
    }
    if summary is not None:
        calibration.manifest["posterior"] = {
            "intervals_90": {k: vars(v) for k, v in summary.intervals.items()},
            "channel_shares_90": {k: vars(v) for k, v in summary.channels.items()},
            "correlation": summary.correlation.to_dict(),
            "ess": summary.ess,
            "simulations": summary.evaluations,
            "generations": summary.generations,
            "population": summary.population,
            "noise_inflation": dict(zip(noise.targets, noise.inflation, strict=True)),
        }
    return calibration
