"""What every engine offers: one interface, so callers never branch on the engine.

Both :class:`~diffusion_sim.engines.vectorized.VectorizedEngine` and the Mesa model
(:class:`diffusion_sim.engines.agents.model.DiffusionModel`) are built from a setup and
the run's generator, step with ``step()``, count finished steps in ``steps``,
record into ``recorder`` and answer :meth:`Engine.city_adopted` and
:meth:`Engine.government_state`. ``diffusion_sim.simulation.ENGINES`` names them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from diffusion_sim.model.governments import GovernmentState
from diffusion_sim.model.setup import Setup
from diffusion_sim.model.trajectory import Recorder, Trajectory

__all__ = ["Engine", "GovernmentState", "run_steps"]


class Engine(Protocol):
    """The interface both engines implement (see the module docstring)."""

    setup: Setup
    recorder: Recorder
    steps: int

    def __init__(self, setup: Setup, rng: np.random.Generator) -> None: ...

    def step(self) -> None:
        """Advance one step: events, draws, decisions, changes."""

    def run(self, steps: int, progress: Callable[[int], None] | None = None) -> Trajectory:
        """Run ``steps`` steps and return the change events."""

    def city_adopted(self) -> np.ndarray:
        """Per city: has the policy now."""

    def government_state(self) -> GovernmentState:
        """Each government's state now."""


def run_steps(
    engine: Engine, steps: int, progress: Callable[[int], None] | None = None
) -> Trajectory:
    """Step ``engine`` ``steps`` times, telling ``progress`` each finished step; its events."""
    for _ in range(steps):
        engine.step()
        if progress is not None:
            progress(engine.steps)
    return engine.recorder.finish(steps)
