"""One fit per world seed, and their posteriors combined as a mixture.

A real world's invented parts (capacities, leanings, twinning, memberships) are
drawn from ``world.seed``; a fit on one world seed is conditional on one draw of
them. Fitting on K world seeds and mixing the K posteriors with equal weight
(each seed's particle weights normalised to 1/K) gives intervals that include
that uncertainty: the mixture's quantiles are those of the parameters averaged
over the worlds the data could have come from.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from diffusion_sim.errors import InputError
from diffusion_sim.scenario import Scenario
from diffusion_sim.studies.calibration.abc import NoiseModel, Posterior
from diffusion_sim.studies.calibration.keys import FitKey, Prior, search_centres
from diffusion_sim.studies.calibration.model import Evaluation, Evaluator
from diffusion_sim.studies.calibration.point import PointFit, Targets, point_fit
from diffusion_sim.studies.calibration.report import Calibration
from diffusion_sim.world import World

REAL_WORLD_SEEDS = 3
"""Default world seeds for a real world (its invented parts are uncertain); 1 for synthetic."""


def default_world_seeds(scenario: Scenario) -> int:
    """K > 1 for a real world; 1 for a synthetic one, which the user specifies whole.

    A synthetic world is itself a choice of the user's (its seed is part of the
    scenario, and model-generated data come from that very world); a real world's
    cities are fixed but its capacities, leanings, twinning and memberships are
    drawn, and the data do not say which draw is the true one.
    """
    return REAL_WORLD_SEEDS if scenario.world.generator == "real" else 1


def world_seed_list(scenario: Scenario, root: int, count: int) -> list[int]:
    """``world.seed`` (else the run's root seed) and the ``count - 1`` seeds after it."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise InputError(f"--world-seeds must be a whole number, at least 1; got {count!r}")
    first = scenario.world.seed if scenario.world.seed is not None else root
    return [first + i for i in range(count)]


def world_scenario(scenario: Scenario, world_seed: int) -> Scenario:
    """The scenario on one world seed (the fitted keys never include ``world.``)."""
    return scenario.with_overrides({"world.seed": world_seed})


@dataclass
class WorldFit:
    """What one world seed gave: its evaluator, point fit, noise and posterior."""

    world_seed: int
    evaluator: Evaluator
    best: PointFit
    evaluation: Evaluation
    noise: NoiseModel | None = None
    posterior: Posterior | None = None


def fit_on_world(
    scenario: Scenario,
    world: World,
    world_seed: int,
    keys: Sequence[FitKey],
    priors: Sequence[Prior],
    targets: Targets,
    seeds: np.random.SeedSequence,
    *,
    replicates: int,
    span: float,
    grid: int | None,
    max_evaluations: int,
    abc: dict | None,
    point_progress: Callable[[], None] | None = None,
) -> WorldFit:
    """The point fit (and, with ``abc`` settings, the ABC-SMC posterior) on one world."""
    from diffusion_sim.studies.calibration.abc import (
        PILOT,
        noise_model,
        run_abc,
        statistics,
        windows,
    )

    steps = len(targets.share) - 1
    evaluator = Evaluator(scenario, world, keys, seeds.spawn(replicates), steps)
    best = point_fit(
        evaluator,
        priors,
        targets,
        span=span,
        grid=grid,
        max_evaluations=max_evaluations,
        centres=search_centres(scenario, world, keys, targets.share),
        progress=point_progress,
    )
    evaluation = evaluator(best.values)
    fit = WorldFit(world_seed, evaluator, best, evaluation)
    if abc is None:
        return fit
    joint = targets.coordinated is not None
    ends = windows(steps + 1)
    observed = statistics(targets.share, targets.coordinated, ends)
    n_stats = len(ends) * (2 if joint else 1)
    fit.noise = noise_model(
        evaluator,
        best.values,
        evaluation,
        observed,
        ends,
        joint,
        seeds.spawn(max(PILOT, 5 * n_stats)),
    )
    posterior = run_abc(
        evaluator, priors, observed, fit.noise, ends, joint, seed=seeds.spawn(1)[0], **abc
    )
    posterior.world_seed = np.full(len(posterior.weights), world_seed)
    fit.posterior = posterior
    return fit


def mixture(posteriors: Sequence[Posterior]) -> Posterior:
    """The equal-weight mixture of per-world posteriors (each seed's weights sum to 1/K)."""
    if len(posteriors) == 1:
        return posteriors[0]
    first = posteriors[0]
    weights = np.concatenate([p.weights / p.weights.sum() / len(posteriors) for p in posteriors])
    return Posterior(
        keys=first.keys,
        priors=first.priors,
        values=np.concatenate([p.values for p in posteriors]),
        weights=weights,
        channels=np.concatenate([p.channels for p in posteriors]),
        curves=np.concatenate([p.curves for p in posteriors]),
        vertical=np.concatenate([p.vertical for p in posteriors]),
        evaluations=sum(p.evaluations for p in posteriors),
        generations=max(p.generations for p in posteriors),
        temperatures=first.temperatures,
        database=None,
        databases=[p.database for p in posteriors if p.database is not None],
        world_seed=np.concatenate([p.world_seed for p in posteriors]),
    )


def with_worlds(calibration: Calibration, fits: Sequence[WorldFit]) -> Calibration:
    """Record which world seeds the fit covers, each seed's best fit and its warnings."""
    calibration.world_seeds = [f.world_seed for f in fits]
    calibration.world_best = {
        f.world_seed: dict(zip(calibration.keys, map(float, f.best.values), strict=True))
        for f in fits
    }
    for f in fits[1:]:
        calibration.warnings += [f"world seed {f.world_seed}: {w}" for w in f.best.warnings]
    calibration.manifest["world_seeds"] = calibration.world_seeds
    calibration.manifest["best_fit_by_world_seed"] = {
        str(k): v for k, v in calibration.world_best.items()
    }
    calibration.manifest["warnings"] = calibration.all_warnings
    return calibration
