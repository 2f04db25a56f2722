"""Forecast: calibrate on the data up to a date, project, and compare with curve baselines.

The held-out periods are never seen by the fit. The model's forecast is its
posterior predictive (``method="abc"``: particles drawn by weight, each run once
on a new seed to the horizon; ``method="point"``: the best fit on new seeds, so
only the process's noise), summarised per period by its median and central
interval. Beside it the same forecast by a fitted Bass curve and a logistic
curve (:mod:`.baselines`), each with a bootstrap interval, and for each: the
RMSE over the held-out periods, the error at the last one and the share of
held-out periods whose observed count lies inside the interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from diffusion_sim.errors import InputError
from diffusion_sim.scenario import Scenario
from diffusion_sim.studies.calibration.baselines import BASELINES, forecast_baseline
from diffusion_sim.studies.calibration.data import PERIODS, Adoptions, first_period, read_adoptions
from diffusion_sim.studies.calibration.forecast_report import Forecast, MethodForecast
from diffusion_sim.studies.calibration.keys import fit_key
from diffusion_sim.studies.calibration.model import Evaluator
from diffusion_sim.studies.calibration.worlds import world_scenario

DRAWS = 60
"""Posterior draws (one run each) for the model's predictive band."""


def _period(text: str, freq: str, flag: str) -> pd.Period:
    try:
        return pd.Period(text, freq=freq)
    except (ValueError, TypeError, OverflowError):
        raise InputError(f"{flag}: not a date or period; expected e.g. 2014-12") from None


def split_data(
    adoptions: Adoptions, unit: str, train_until: str, until: str | None, start: str | None
) -> tuple[Adoptions, pd.Period, pd.Period, pd.Period]:
    """The training rows (dates in periods up to ``train_until``), first, last-train, end."""
    freq = PERIODS[unit]
    periods = pd.PeriodIndex(adoptions.table["date"], freq=freq)
    first = first_period(start, freq) if start else periods.min()
    cut = _period(train_until, freq, "--train-until")
    end = _period(until, freq, "--until") if until else periods.max()
    if until and end > periods.max():
        raise InputError(
            f"--until {until}: after the data's last period ({periods.max()}); a forecast is "
            "checked against observed counts, so --until must lie within the data"
        )
    if not first <= cut < end:
        raise InputError(
            f"--train-until {train_until}: must lie on or after the first period ({first}) "
            f"and before the forecast's end ({end})"
        )
    keep = (periods <= cut) & (periods >= first)
    if not keep.any():
        raise InputError(f"--train-until {train_until}: no adoption in the data up to it")
    train = Adoptions(adoptions.table[keep], adoptions.source, adoptions.format)
    return train, first, cut, end


def forecast(
    scenario: Scenario,
    data: str | Path | Adoptions,
    fit: Sequence[str],
    *,
    train_until: str,
    until: str | None = None,
    start: str | None = None,
    method: str = "abc",
    level: float = 0.9,
    draws: int = DRAWS,
    seed: int | None = None,
    coordinators: bool = False,
    receptivity: bool = False,
    **calibrate_options: Any,
) -> Forecast:
    """Calibrate ``fit`` on the data up to ``train_until``; forecast to ``until`` (or the end).

    Parameters
    ----------
    train_until : str
        Last period the fit sees (e.g. ``"2014-12"``, in ``run.step_unit``).
    until : str, optional
        Last period forecast (default: the data's last); it must lie within the data.
    level : float
        Central interval of every method, e.g. 0.9 for 5-95%.
    draws : int
        Model runs for its predictive band.
    coordinators : bool
        The coordinator world (see :func:`~diffusion_sim.studies.calibration.calibrate`),
        built from the rows up to ``train_until`` only, for the fit and the forecast.
    receptivity : bool
        Country receptivity (see :func:`~diffusion_sim.studies.calibration.calibrate`),
        read from the rows up to ``train_until`` only, its exponent chosen on them too.
    calibrate_options
        Passed to :func:`diffusion_sim.studies.calibration.calibrate` (replicates, priors,
        population, generations, workers, world_seeds, ...).
    """
    from diffusion_sim.simulation import build_world
    from diffusion_sim.studies.calibration import calibrate, coordinated_world, observed_curve
    from diffusion_sim.studies.calibration.data import check_span
    from diffusion_sim.studies.calibration.receptivity import adopters_by_country
    from diffusion_sim.world.receptivity import with_receptivity

    if not 0.5 <= level < 1:
        raise InputError(f"--level must lie in [0.5, 1), got {level!r}")
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 10:
        raise InputError(f"--draws must be a whole number, at least 10; got {draws!r}")
    keys = [fit_key(scenario, key) for key in fit]
    adoptions = data if isinstance(data, Adoptions) else read_adoptions(data)
    unit = scenario.run.step_unit
    check_span(adoptions, unit, start, scenario.source)
    train, first, cut, end = split_data(adoptions, unit, train_until, until, start)
    root = scenario.run.seed if seed is None else seed
    calibration = calibrate(
        scenario,
        train,
        fit,
        method=method,
        seed=root,
        start=str(first),
        coordinators=coordinators,
        receptivity=receptivity,
        **calibrate_options,
    )
    world_seeds = calibration.world_seeds
    worlds = {}
    for world_seed in world_seeds:
        on_world = world_scenario(scenario, world_seed)
        world = build_world(on_world, seed=root)
        if any(k.key.startswith("networks.") for k in keys):
            world = world.with_networks(())
        if coordinators:  # from the training rows only: no coordinator of later years
            on_world, world, _ = coordinated_world(on_world, world, train, str(first))
        if receptivity:  # the exponent the fit chose, from the training rows
            exponent = calibration.manifest["receptivity"]["exponent_by_world_seed"]
            adopters = adopters_by_country(train, on_world, world)
            world = with_receptivity(world, adopters, exponent[str(world_seed)])
        worlds[world_seed] = (on_world, world)
    truth = observed_curve(
        adoptions,
        scenario,
        worlds[world_seeds[0]][1],
        start=str(first),
        denominator=calibration.observed.denominator,
    )
    horizon = int(end.ordinal - first.ordinal)
    n_train = int(cut.ordinal - first.ordinal) + 1
    denominator = truth.denominator
    observed = np.zeros(horizon + 1)
    known = min(len(truth.count), horizon + 1)
    observed[:known] = truth.count[:known]
    observed[known:] = truth.count[-1]  # no adoption after the last one in the data
    levels = ((1 - level) / 2, 0.5, (1 + level) / 2)
    sequence = np.random.SeedSequence([root, 2])
    rng = np.random.default_rng(sequence.spawn(1)[0])
    paths = _model_paths(calibration, worlds, keys, horizon, draws, sequence, rng)
    methods = [
        MethodForecast(
            "model" if calibration.posterior is not None else "model (best fit, new seeds)",
            np.quantile(paths * denominator, levels, axis=0),
            "posterior predictive: "
            + (
                f"{draws} particles drawn by weight, one run each on a new seed"
                if calibration.posterior is not None
                else f"the point fit on {draws} new seeds (no parameter uncertainty)"
            )
            + f"; world seeds {', '.join(map(str, world_seeds))}",
        )
    ]
    best = _best_fit_path(calibration, worlds, keys, horizon) * denominator
    methods.append(
        MethodForecast(
            "model best fit (mean)",
            np.vstack([best, best, best]),
            f"the best fit's mean over its {calibration.replicates} fixed seeds (no interval)",
            has_interval=False,
        )
    )
    train_counts = observed[:n_train]
    for baseline in BASELINES:
        result = forecast_baseline(
            baseline, train_counts, horizon, ceiling=float(denominator), rng=rng, levels=levels
        )
        methods.append(
            MethodForecast(
                baseline.name,
                result.band,
                result.note + "; scored on the fitted curve",
                parameters=result.parameters,
                point=result.fitted,
            )
        )
    return Forecast(
        calibration=calibration,
        periods=pd.period_range(first, periods=horizon + 1, freq=PERIODS[unit]),
        observed=observed,
        n_train=n_train,
        methods=methods,
        level=level,
        denominator=denominator,
        train_until=str(cut),
        until=str(end),
    )


def _model_paths(calibration, worlds, keys, horizon, draws, sequence, rng) -> np.ndarray:
    """(draws, horizon+1) shares: posterior particles (or the best fit) on new seeds."""
    seeds = sequence.spawn(draws)
    posterior = calibration.posterior
    values = [[calibration.values[k.key] for k in keys]] * draws
    on_seed = [calibration.world_seeds[i % len(calibration.world_seeds)] for i in range(draws)]
    if posterior is not None:
        w = posterior.weights / posterior.weights.sum()
        chosen = rng.choice(len(w), size=draws, p=w)
        values = [list(posterior.values[i]) for i in chosen]
        if posterior.world_seed is not None:
            on_seed = [int(posterior.world_seed[i]) for i in chosen]
        else:
            on_seed = [calibration.world_seeds[0]] * draws
    else:
        best = calibration.world_best
        values = [[best[s][k.key] for k in keys] if s in best else values[0] for s in on_seed]
    out = np.zeros((draws, horizon + 1))
    evaluators = {
        s: Evaluator(scenario, world, keys, [], horizon) for s, (scenario, world) in worlds.items()
    }
    for i, (v, s, seq) in enumerate(zip(values, on_seed, seeds, strict=True)):
        out[i] = evaluators[s](v, seeds=[seq]).curves[0]
    return out


def _best_fit_path(calibration, worlds, keys, horizon) -> np.ndarray:
    """The best fit's mean curve to the horizon, on the fit's own replicate seeds."""
    first = calibration.world_seeds[0]
    scenario, world = worlds[first]
    seeds = np.random.SeedSequence(calibration.seed).spawn(calibration.replicates)
    evaluator = Evaluator(scenario, world, keys, seeds, horizon)
    return evaluator([calibration.values[k.key] for k in keys]).mean


__all__ = ["Forecast", "forecast", "split_data"]
