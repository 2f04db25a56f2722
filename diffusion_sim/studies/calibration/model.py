"""The simulator a calibration sees: fixed replicate seeds, the world built once.

Every evaluation runs the same R replicate seeds (common random numbers), so the
mean curve is a deterministic function of the fitted values: differences between
two parameter values are the model's, not the seeds'.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from diffusion_sim.mechanisms.embedded import ADOPTION_CHANNELS, CHANNELS
from diffusion_sim.model.setup import influence_key
from diffusion_sim.record.tables import final_state, timeseries_table
from diffusion_sim.scenario import Scenario
from diffusion_sim.simulation import run_trajectory
from diffusion_sim.studies.calibration.keys import FitKey, apply_values
from diffusion_sim.world import World

TIES_KEPT = 8
"""Tie-matrix caches kept (one per set of horizontal settings evaluated lately)."""


@dataclass(frozen=True)
class Evaluation:
    """The replicates of one parameter value: curves as shares of the world's cities."""

    curves: np.ndarray
    """(R, T+1): share of cities that have the policy at the end of each step."""
    vertical: np.ndarray
    """(R, T+1): cumulative share of cities that adopted through the vertical channel."""
    channels: np.ndarray
    """(len(ADOPTION_CHANNELS),): adopters at the end by channel, summed over replicates."""

    @property
    def mean(self) -> np.ndarray:
        return self.curves.mean(axis=0)

    @property
    def vertical_mean(self) -> np.ndarray:
        return self.vertical.mean(axis=0)

    @property
    def channel_shares(self) -> np.ndarray:
        total = self.channels.sum()
        return self.channels / total if total > 0 else np.zeros_like(self.channels)


class Evaluator:
    """Runs the scenario at given values on fixed seeds; counts evaluations.

    Parameters
    ----------
    seeds : sequence of SeedSequence
        Spawned once from the root seed; each evaluation uses fresh copies of the
        same sequences (common random numbers).
    """

    def __init__(
        self,
        scenario: Scenario,
        world: World,
        keys: Sequence[FitKey],
        seeds: Sequence[np.random.SeedSequence],
        steps: int,
    ) -> None:
        self.scenario = scenario
        self.world = world
        self.keys = list(keys)
        self.seeds = list(seeds)
        self.steps = steps
        self.evaluations = 0
        self.ties: dict[str, dict] = {}

    def scenario_at(self, values: Sequence[float]) -> Scenario:
        return apply_values(self.scenario, self.keys, values)

    def __call__(
        self, values: Sequence[float], seeds: Sequence[np.random.SeedSequence] | None = None
    ) -> Evaluation:
        """Simulate at ``values`` (natural units) on the fixed seeds (or on ``seeds``)."""
        self.evaluations += 1
        scenario = self.scenario_at(values)
        n = self.world.n_cities
        curves, vertical = [], []
        channels = np.zeros(len(ADOPTION_CHANNELS))
        ties = self.ties.setdefault(influence_key(scenario), {})
        while len(self.ties) > TIES_KEPT:
            self.ties.pop(next(iter(self.ties)))
        for seq in seeds if seeds is not None else self.seeds:
            fresh = np.random.SeedSequence(seq.entropy, spawn_key=seq.spawn_key)
            # simulate()'s run without the tables a fit never reads (same events, same numbers)
            setup, trajectory = run_trajectory(
                scenario, fresh, world=self.world, steps=self.steps, influence_cache=ties
            )
            series = timeseries_table(setup, trajectory)
            curves.append(series["share_cities"].to_numpy())
            vertical.append(np.cumsum(series["new_vertical"].to_numpy()) / n)
            adopted, channel, _ = final_state(trajectory, n)
            for i, name in enumerate(ADOPTION_CHANNELS):
                channels[i] += float((channel[adopted] == CHANNELS.index(name)).sum())
        return Evaluation(np.array(curves), np.array(vertical), channels)
