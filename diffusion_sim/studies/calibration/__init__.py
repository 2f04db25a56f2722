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

from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from diffusion_sim.errors import InputError
from diffusion_sim.scenario import Scenario
from diffusion_sim.studies.calibration.build import build
from diffusion_sim.studies.calibration.data import (
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
from diffusion_sim.studies.calibration.keys import (
    FitKey,
    Prior,
    apply_values,
    fit_key,
    parse_priors,
)
from diffusion_sim.studies.calibration.point import Targets, design, grid_points
from diffusion_sim.studies.calibration.report import Calibration, summarise
from diffusion_sim.studies.calibration.worlds import (
    WorldFit,
    default_world_seeds,
    fit_on_world,
    mixture,
    with_worlds,
    world_scenario,
    world_seed_list,
)
from diffusion_sim.world import World

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
    world_seeds: int | None = None,
    coordinators: bool = False,
    receptivity: bool = False,
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
    world_seeds : int, optional
        Fit on this many world seeds (``world.seed`` and those after it) and mix the
        posteriors (default: 3 for a real world, 1 for a synthetic one; see
        :func:`~diffusion_sim.studies.calibration.worlds.default_world_seeds`). The best fit and
        ``fitted.toml`` are the first world seed's.
    coordinators : bool
        With the JRC file on a real world: the coordinators named by the given rows'
        signatories outside the world become regional governments, each supportive
        from its first signatory (:func:`coordinated_world`); ``fitted.toml`` holds
        the scenario without their events.
    receptivity : bool
        With the JRC file on a real world: every city's voluntary hazards are scaled by
        its country's receptivity, read from the given rows (``world/receptivity.py``),
        with the exponent whose best fit puts the adopters in the data's countries most
        closely (:mod:`~diffusion_sim.studies.calibration.receptivity`; one point fit
        per exponent tried, before the fit proper).
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
    count = default_world_seeds(scenario) if world_seeds is None else world_seeds
    seeds_of_worlds = world_seed_list(scenario, root, count)

    from diffusion_sim.simulation import build_world

    fits: list[WorldFit] = []
    observed = None
    exponents: dict[int, float] = {}
    receptivity_notes: dict[int, str] = {}
    for i, world_seed in enumerate(seeds_of_worlds):
        on_world = world_scenario(scenario, world_seed)
        world = build_world(on_world, seed=root)
        if any(k.key.startswith("networks.") for k in keys):
            world = world.with_networks(())  # memberships follow a fitted size: rebuilt per run
        if coordinators:
            on_world, world, note = coordinated_world(on_world, world, adoptions, start)
        if observed is None:  # the data's universe is the same on every world seed
            observed = observed_curve(
                adoptions, scenario, world, start=start, denominator=denominator
            )
        targets = Targets(observed.share, observed.coordinated if joint else None)
        where = f" (world seed {world_seed}, {i + 1} of {count})" if count > 1 else ""
        fit = partial(
            _fit_with_bar,
            scenario=on_world,
            world_seed=world_seed,
            keys=keys,
            priors=[prior_of[k.key] for k in keys],
            targets=targets,
            root=root,  # every fit on a world seed, whatever its world, on the same seeds
            options=dict(
                replicates=replicates, span=span, grid=grid, max_evaluations=max_evaluations
            ),
            progress=progress,
            where=where,
        )
        chosen = None
        if receptivity:
            from diffusion_sim.studies.calibration.receptivity import (
                adopters_by_country,
                choose_exponent,
            )

            choice, chosen = choose_exponent(
                world,
                adopters_by_country(adoptions, on_world, world),
                partial(fit, abc=None),
                observed.share,
                observed.denominator,
            )
            world = choice.world
            exponents[world_seed], receptivity_notes[world_seed] = choice.exponent, choice.note()
        abc = None
        if method == "abc":
            db = None
            if database is not None:
                db = Path(database)
                db = db if i == 0 else db.with_name(f"{db.stem}-world{world_seed}{db.suffix}")
            abc = {
                "population": population,
                "generations": generations,
                "workers": workers,
                "database": db,
                "progress": progress,
                "label": f"calibrate {scenario.name} (ABC-SMC){where}",
            }
        # with --method point the chosen exponent's point fit is the fit
        fits.append(chosen if chosen is not None and abc is None else fit(world, abc=abc))
    first = fits[0]
    posterior = summary = None
    if method == "abc":
        posterior = mixture([f.posterior for f in fits])
        summary = summarise(posterior)
    calibration = build(
        scenario=scenario,
        fitted=apply_values(world_scenario(scenario, first.world_seed), keys, first.best.values),
        keys=keys,
        prior_of=prior_of,
        observed=observed,
        adoptions=adoptions,
        evaluation=first.evaluation,
        best=first.best,
        posterior=posterior,
        summary=summary,
        noise=first.noise,
        joint=joint,
        replicates=replicates,
        root=root,
        method=method,
        evaluations=sum(f.evaluator.evaluations for f in fits),
        overrides=dict(overrides or {}),
    )
    if coordinators:
        calibration.manifest["coordinators"] = note
    if receptivity:
        calibration.manifest["receptivity"] = {
            "note": receptivity_notes[first.world_seed],
            "exponent_by_world_seed": {str(k): v for k, v in exponents.items()},
            "note_by_world_seed": {str(k): v for k, v in receptivity_notes.items()},
        }
    return with_worlds(calibration, fits)


def _fit_with_bar(
    world: World,
    *,
    abc,
    scenario,
    world_seed,
    keys,
    priors,
    targets,
    root,
    options,
    progress,
    where,
) -> WorldFit:
    """One world's fit (point, then ABC when asked), with the point fit's progress bar."""
    bar = _point_bar(
        progress, "point" if abc is None else "abc", len(keys), options["max_evaluations"], where
    )
    try:
        return fit_on_world(
            scenario,
            world,
            world_seed,
            keys,
            priors,
            targets,
            np.random.SeedSequence(root),
            **options,
            abc=abc,
            point_progress=bar.update if bar is not None else None,
        )
    finally:
        if bar is not None:
            bar.close()


def coordinated_world(
    scenario: Scenario, world: World, adoptions: Adoptions, start: str | None
) -> tuple[Scenario, World, str]:
    """The coordinator world built from ``adoptions`` only, and the scenario that makes them
    supportive (:func:`diffusion_sim.studies.estimation.coordination.supportive_coordinators`)."""
    from diffusion_sim.studies.calibration.data import first_period
    from diffusion_sim.studies.estimation.coordination import supportive_coordinators

    freq = PERIODS[scenario.run.step_unit]
    dates = pd.PeriodIndex(adoptions.table["date"], freq=freq)
    first = first_period(start, freq) if start else dates.min()
    return supportive_coordinators(scenario, world, adoptions, first)


def _point_bar(progress: bool, method: str, n_keys: int, budget: int, where: str = ""):
    if not progress:
        return None
    import sys

    from tqdm.auto import tqdm

    # First stage, then Nelder-Mead from its best three points and once more from the
    # best (one run for one key); a widened box adds rounds beyond this total.
    first = len(design(n_keys, grid_points(n_keys)))
    grid = first + (budget if n_keys == 1 else 4 * budget)
    label = ("point fit" if method == "point" else "point fit (start of ABC)") + where
    return tqdm(total=grid, desc=label, unit="eval", file=sys.stderr, leave=False)
