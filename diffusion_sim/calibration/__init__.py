"""Calibration: fit a few parameters so that the model's adoption curve matches an observed one.

Two methods (docs/calibration.md):

- ``abc`` (the default): a posterior by ABC-SMC (pyabc), with priors from the
  schema's bounds, a normal noise kernel measured from replicates, and the
  median and 90% credible interval of every key and of the share of adoptions by
  channel, with warnings when a key is not identified.
- ``point``: the best values only (a coarse first stage, then Nelder-Mead); fast, and
  it warns when a value ends at the edge of its search box or a bound.

Both compare the mean over R fixed replicate seeds (common random numbers) with
the observed share of the world's cities adopted; when the data say which
adoptions a province or region coordinated, the cumulative share of cities that
adopted through the vertical channel is fitted to them too.

Modules: :mod:`.data` (reading and checking the file), :mod:`.keys` (fit keys,
priors), :mod:`.model` (the simulator on fixed seeds), :mod:`.point`,
:mod:`.abc`, :mod:`.report` (summary, plot, files).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from diffusion_sim.calibration.data import (
    JRC_COLUMNS,
    METHODS,
    PERIODS,
    Adoptions,
    ObservedCurve,
    check_arguments,
    check_span,
    observed_curve,
    read_adoptions,
)
from diffusion_sim.calibration.keys import (
    FitKey,
    Prior,
    fit_key,
    parse_priors,
    read_value,
    search_centres,
)
from diffusion_sim.calibration.model import Evaluator
from diffusion_sim.calibration.point import PointFit, Targets, design, grid_points, point_fit
from diffusion_sim.calibration.report import Calibration, predictive_band, summarise
from diffusion_sim.errors import InputError
from diffusion_sim.mechanisms.embedded import ADOPTION_CHANNELS
from diffusion_sim.scenario import Scenario

__all__ = [
    "JRC_COLUMNS",
    "METHODS",
    "PERIODS",
    "Adoptions",
    "Calibration",
    "FitKey",
    "ObservedCurve",
    "Prior",
    "calibrate",
    "check_span",
    "fit_key",
    "observed_curve",
    "read_adoptions",
]

POOR_FIT = 0.9
"""Below this R² the report says the model cannot reproduce the data with these keys."""


def calibrate(
    scenario: Scenario,
    data: str | Path | Adoptions,
    fit: Sequence[str],
    *,
    method: str = "abc",
    replicates: int = 4,
    seed: int | None = None,
    grid: int | None = None,
    span: float = 30.0,
    max_evaluations: int = 40,
    start: str | None = None,
    denominator: int | None = None,
    priors: Sequence[str] = (),
    coordinated: bool | None = None,
    population: int = 100,
    generations: int = 6,
    workers: int = 1,
    database: str | Path | None = None,
    progress: bool = False,
    overrides: Mapping[str, Any] | None = None,
) -> Calibration:
    """Fit ``fit`` (dotted keys) so the mean share of cities adopted matches the data.

    Parameters
    ----------
    scenario : Scenario
        Its steps are replaced by the data's span (one step per ``run.step_unit``).
    data : path or Adoptions
        A JRC Covenant of Mayors file or a ``city,date[,coordinated]`` CSV.
    fit : sequence of str
        Numeric keys, e.g. ``mechanisms.innovation.rate``; few (1-3) keep it cheap.
    method : {"abc", "point"}
        ``abc``: a posterior (median and 90% interval per key); ``point``: best values.
    replicates : int
        Replicates per evaluation, on fixed seeds (common random numbers).
    priors : sequence of str
        ``KEY=loguniform:LOW:HIGH`` or ``KEY=uniform:LOW:HIGH``; default from the schema.
    coordinated : bool, optional
        Fit the coordinated adoptions too (default: when the data has them).
    population, generations, workers : int
        ABC-SMC particles, at most this many generations, processes.
    database : path, optional
        pyabc's SQLite file (default: in memory); the CLI puts it in the results folder.
    overrides : mapping, optional
        The ``--set`` values the scenario was run with (written to ``fitted.toml``).
    """
    check_arguments(
        fit, replicates, max_evaluations, denominator, method, population, generations, workers
    )
    keys = [fit_key(scenario, key) for key in fit]
    prior_of = parse_priors(priors, keys)
    adoptions = data if isinstance(data, Adoptions) else read_adoptions(data)
    check_span(adoptions, scenario.run.step_unit, start, scenario.source)
    if coordinated and not adoptions.has_coordinated:
        raise InputError(
            "the data has no coordinator column (JRC 'coordinator_name' or a generic "
            "'coordinated'), so the coordinated share cannot be fitted",
            source=adoptions.source,
        )
    joint = adoptions.has_coordinated if coordinated is None else coordinated
    root = scenario.run.seed if seed is None else seed

    from diffusion_sim.simulation import build_world

    world = build_world(scenario, seed=root)
    if any(k.key.startswith("networks.") for k in keys):
        world = world.with_networks(())  # memberships follow a fitted size: rebuilt per run
    observed = observed_curve(adoptions, scenario, world, start=start, denominator=denominator)
    steps = observed.steps
    sequence = np.random.SeedSequence(root)
    evaluator = Evaluator(scenario, world, keys, sequence.spawn(replicates), steps)
    targets = Targets(observed.share, observed.coordinated if joint else None)
    ordered = [prior_of[k.key] for k in keys]

    bar = _point_bar(progress, method, len(keys), max_evaluations)
    try:
        best = point_fit(
            evaluator,
            ordered,
            targets,
            span=span,
            grid=grid,
            max_evaluations=max_evaluations,
            centres=search_centres(scenario, world, keys, observed.share),
            progress=bar.update if bar is not None else None,
        )
    finally:
        if bar is not None:
            bar.close()
    fitted_eval = evaluator(best.values)
    posterior = summary = noise = None
    if method == "abc":
        from diffusion_sim.calibration.abc import noise_model, run_abc, statistics, windows

        ends = windows(steps + 1)
        observed_stats = statistics(observed.share, observed.coordinated if joint else None, ends)
        noise = noise_model(
            evaluator,
            best.values,
            fitted_eval,
            observed_stats,
            ends,
            joint,
            sequence.spawn(_pilot(len(ends) * (2 if joint else 1))),
        )
        posterior = run_abc(
            evaluator,
            ordered,
            observed_stats,
            noise,
            ends,
            joint,
            population=population,
            generations=generations,
            workers=workers,
            database=Path(database) if database is not None else None,
            seed=sequence.spawn(1)[0],
            progress=progress,
            label=f"calibrate {scenario.name} (ABC-SMC)",
        )
        summary = summarise(posterior)

    fitted = evaluator.scenario_at(best.values)
    return _build(
        scenario=scenario,
        fitted=fitted,
        keys=keys,
        prior_of=prior_of,
        observed=observed,
        adoptions=adoptions,
        evaluation=fitted_eval,
        best=best,
        posterior=posterior,
        summary=summary,
        noise=noise,
        joint=joint,
        replicates=replicates,
        root=root,
        method=method,
        evaluations=evaluator.evaluations,
        overrides=dict(overrides or {}),
    )


def _pilot(n_stats: int) -> int:
    from diffusion_sim.calibration.abc import PILOT

    return max(PILOT, 5 * n_stats)


def _point_bar(progress: bool, method: str, n_keys: int, budget: int):
    if not progress:
        return None
    import sys

    from tqdm.auto import tqdm

    # First stage, then Nelder-Mead from its best three points and once more from the
    # best (one run for one key); a widened box adds rounds beyond this total.
    first = len(design(n_keys, grid_points(n_keys)))
    grid = first + (budget if n_keys == 1 else 4 * budget)
    label = "point fit" if method == "point" else "point fit (start of ABC)"
    return tqdm(total=grid, desc=label, unit="eval", file=sys.stderr, leave=False)


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


def _build(**kw: Any) -> Calibration:
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
    warnings = [*observed.warnings, *kw["best"].warnings]
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
