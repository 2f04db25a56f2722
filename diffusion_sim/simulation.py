"""The public entry points: build a world, run one scenario, run an ensemble."""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from diffusion_sim.errors import InputError
from diffusion_sim.model.setup import Setup, build_setup
from diffusion_sim.model.trajectory import Trajectory
from diffusion_sim.record.results import (
    Result,
    build_result,
    ensemble_band,
    make_manifest,
    staged,
    summaries_table,
    write_manifest,
)
from diffusion_sim.scenario import Scenario
from diffusion_sim.world import World
from diffusion_sim.world.networks import build_networks

if TYPE_CHECKING:
    from diffusion_sim.engines.vectorized import Engine as EngineInterface

Engine = Literal["vectorized", "agents"]
SeedLike = int | np.random.SeedSequence | None


def build_world(scenario: Scenario, seed: int | None = None) -> World:
    """The scenario's world, built from ``world.seed`` (else ``seed``, else ``run.seed``).

    The world's random numbers come from their own seed, so replicates that
    differ in the run's seed share one world.
    """
    spec = scenario.world
    world_seed = (
        spec.seed if spec.seed is not None else (seed if seed is not None else scenario.run.seed)
    )
    if spec.generator == "synthetic":
        from diffusion_sim.world.synthetic import synthetic_world

        world = synthetic_world(spec, world_seed)
    elif spec.generator == "real":
        from diffusion_sim.world.real_world import real_world

        world = real_world(spec, world_seed, source=scenario.source)
    else:
        raise InputError(
            f"key 'world.generator': generator {spec.generator!r} is not available in "
            "this version; allowed: 'synthetic'",
            source=scenario.source,
        )
    return attach_networks(world, scenario)


def attach_networks(world: World, scenario: Scenario) -> World:
    """Add the scenario's networks to a world that has none (memberships from the world's seed).

    A world that brings networks of its own keeps them; if they are not the
    scenario's, a warning says that the scenario's are not used.
    """
    if world.networks:
        own, asked = {n.name for n in world.networks}, set(scenario.networks)
        if asked and own != asked:
            warnings.warn(
                f"the world brings its own networks ({', '.join(sorted(own))}); the "
                f"scenario's ({', '.join(sorted(asked))}) are not used",
                UserWarning,
                stacklevel=3,
            )
        return world
    if not scenario.networks:
        return world
    rng = np.random.default_rng([world.seed, 1])
    return world.with_networks(build_networks(world, scenario.networks, rng))


def _vectorized() -> type:
    from diffusion_sim.engines.vectorized import VectorizedEngine

    return VectorizedEngine


def _agents() -> type:
    try:
        from diffusion_sim.engines.agents.model import DiffusionModel
    except ImportError as exc:  # pragma: no cover - mesa is a core dependency
        raise InputError(f"the agents engine needs mesa: {exc}") from None
    return DiffusionModel


ENGINES: dict[str, Callable[[], type]] = {"vectorized": _vectorized, "agents": _agents}
"""Every engine by name, imported when first asked for. Each implements
:class:`diffusion_sim.engines.vectorized.Engine`; ``simulate``, the dashboard and the
benchmarks build engines only through :func:`make_engine`."""


def make_engine(name: str, setup: Setup, rng: np.random.Generator) -> EngineInterface:
    """The engine called ``name``, built on a setup and the run's generator."""
    if name not in ENGINES:
        allowed = ", ".join(repr(k) for k in ENGINES)
        raise InputError(f"unknown engine {name!r}; allowed: {allowed}")
    return ENGINES[name]()(setup, rng)


def _seed_sequence(seed: SeedLike, scenario: Scenario) -> np.random.SeedSequence:
    if isinstance(seed, np.random.SeedSequence):
        return seed
    return np.random.SeedSequence(scenario.run.seed if seed is None else seed)


def _seed_info(sequence: np.random.SeedSequence) -> dict:
    return {"entropy": sequence.entropy, "spawn_key": list(sequence.spawn_key)}


def simulate(
    scenario: Scenario,
    seed: SeedLike = None,
    *,
    engine: Engine = "vectorized",
    world: World | None = None,
    steps: int | None = None,
    progress: Callable[[int], None] | None = None,
    influence_cache: dict | None = None,
) -> Result:
    """Run a scenario once.

    Parameters
    ----------
    scenario : Scenario
        From :func:`load_scenario`, possibly with overrides.
    seed : int or SeedSequence, optional
        Seed of the run's generator; defaults to ``scenario.run.seed``.
    engine : {"vectorized", "agents"}
        Both give the same trajectory for the same seed.
    world : World, optional
        Bring your own world (e.g. :meth:`World.from_graph`); else built from the scenario.
    steps : int, optional
        Overrides ``scenario.run.steps``.
    influence_cache : dict, optional
        Kept by the caller across runs on one world with equal ``setup.influence_key``
        (replicates of an ensemble): the tie matrices are then built once.
    """
    started = time.perf_counter()
    sequence = _seed_sequence(seed, scenario)
    setup, trajectory = run_trajectory(
        scenario,
        sequence,
        engine=engine,
        world=world,
        steps=steps,
        progress=progress,
        influence_cache=influence_cache,
    )
    manifest = make_manifest(setup, engine, _seed_info(sequence), time.perf_counter() - started)
    return build_result(setup, trajectory, manifest)


def run_trajectory(
    scenario: Scenario,
    seed: SeedLike = None,
    *,
    engine: Engine = "vectorized",
    world: World | None = None,
    steps: int | None = None,
    progress: Callable[[int], None] | None = None,
    influence_cache: dict | None = None,
) -> tuple[Setup, Trajectory]:
    """One run's setup and change events, without its tables: what :func:`simulate` tabulates.

    For callers that keep a few numbers per run (sweeps, calibration): they read
    :mod:`diffusion_sim.record.tables` or :func:`diffusion_sim.record.outcomes.outcomes_from_events`
    on exactly the events ``simulate`` would. ``influence_cache`` is passed to
    :func:`build_setup` (tie matrices built once per world and weights).
    """
    sequence = _seed_sequence(seed, scenario)
    if world is None:
        world = build_world(
            scenario, seed=sequence.entropy if isinstance(sequence.entropy, int) else None
        )
    else:
        world = attach_networks(world, scenario)
    rng = np.random.default_rng(sequence)
    setup = build_setup(scenario, world, rng, influence_cache)
    n_steps = scenario.run.steps if steps is None else steps
    return setup, make_engine(engine, setup, rng).run(n_steps, progress)


@dataclass(eq=False)
class Ensemble:
    """Replicates of one scenario with seeds spawned from one SeedSequence."""

    results: list[Result]
    manifest: dict = field(default_factory=dict)

    @property
    def timeseries(self) -> pd.DataFrame:
        """All replicates' timeseries, stacked with a 'replicate' column."""
        return pd.concat(
            [r.timeseries.assign(replicate=i) for i, r in enumerate(self.results)],
            ignore_index=True,
        )

    @property
    def band(self) -> pd.DataFrame:
        """Mean and 5-95% band per step."""
        return ensemble_band(self.timeseries)

    def summaries(self) -> pd.DataFrame:
        """Headline outcomes, one row per replicate."""
        return summaries_table(self.results)

    def save(
        self,
        folder: str | Path,
        *,
        chart_format: str = "png",
        figsize: tuple[float, float] | None = None,
    ) -> Path:
        """Each replicate in its own subfolder, the ensemble tables beside them, manifest last."""
        from diffusion_sim.record.charts import plot_ensemble

        folder = Path(folder)
        with staged(folder) as staging:
            for i, result in enumerate(self.results):
                result.save(staging / f"replicate-{i:03d}", curves=False)
            timeseries = self.timeseries
            timeseries.to_parquet(staging / "timeseries.parquet", index=False)
            band = ensemble_band(timeseries)
            band.to_parquet(staging / "band.parquet", index=False)
            self.summaries().to_parquet(staging / "summaries.parquet", index=False)
            for name, write in plot_ensemble(timeseries, band, self.manifest, figsize).items():
                write(staging / f"{name}.{chart_format}")
            write_manifest(staging, self.manifest)
        return folder


def iter_replicates(
    scenario: Scenario,
    replicates: int | None = None,
    seed: int | None = None,
    *,
    engine: Engine = "vectorized",
    world: World | None = None,
    steps: int | None = None,
) -> Iterator[Result]:
    """Replicates one by one on one world, seeds from ``SeedSequence(seed).spawn(n)``.

    A caller interrupted half-way keeps every replicate already yielded.
    """
    root_seed = scenario.run.seed if seed is None else seed
    n = scenario.run.replicates if replicates is None else replicates
    world = world if world is not None else build_world(scenario, seed=root_seed)
    ties: dict = {}  # one scenario, one world: the tie matrices are built once
    for child in np.random.SeedSequence(root_seed).spawn(n):
        yield simulate(
            scenario, child, engine=engine, world=world, steps=steps, influence_cache=ties
        )


def ensemble_of(
    results: list[Result], root_seed: int, wall_time: float, complete: bool
) -> Ensemble:
    """An :class:`Ensemble` from finished replicates, with its manifest."""
    manifest = dict(results[0].manifest)
    manifest["seed"] = {"root": root_seed, "replicates": [r.manifest["seed"] for r in results]}
    manifest["wall_time_s"] = round(wall_time, 4)
    manifest["complete"] = complete
    return Ensemble(results=results, manifest=manifest)


def simulate_ensemble(
    scenario: Scenario,
    replicates: int | None = None,
    seed: int | None = None,
    *,
    engine: Engine = "vectorized",
    world: World | None = None,
    steps: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Ensemble:
    """Replicates on one world, seeds from ``SeedSequence(seed).spawn(replicates)``."""
    started = time.perf_counter()
    results = []
    for result in iter_replicates(
        scenario, replicates, seed, engine=engine, world=world, steps=steps
    ):
        results.append(result)
        if progress is not None:
            progress(len(results))
    root_seed = scenario.run.seed if seed is None else seed
    return ensemble_of(results, root_seed, time.perf_counter() - started, complete=True)
