"""The learn tab: Kern's four types of upscaling, explained and shown on a classroom world.

The demonstration runs the classroom scenario in each of Kern's modes
(diffusion_sim.studies.modes.MODES: the same switches ``compare --modes`` and the
tests use) over an ensemble of replicates on one world with common seeds, and
reports the share adopted on each rung of the ladder as ensemble means with 95%
intervals. A single seed of a threshold cascade can land either way, so the
maps show one run as an illustration, while every sentence that states a result
is written from the ensemble table (diffusion_sim.studies.modes.ladder_sentences).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from diffusion_sim.scenario import Scenario, load_scenario, parse_scenario
from diffusion_sim.studies.modes import MODES, SWITCHED, ladder_runs, ladder_sentences, ladder_table
from diffusion_sim.world import World

REPLICATES = 20
"""Replicates of the demonstration's ensemble."""

KERN_TYPES: dict[str, dict[str, Any]] = {
    m.name: {
        "switches": {k: k in m.on for k in SWITCHED},
        "title": m.title,
        "text": m.kern,
        "look_for": m.look_for,
    }
    for m in MODES
}
"""Each type's switches and words, from diffusion_sim.studies.modes.MODES (one definition)."""

CLASSROOM_FILE = "classroom"
"""The scenario file the demonstration prefers (scenarios/classroom.toml), when present."""


def built_in_classroom() -> Scenario:
    """A classroom world made in code: 60 synthetic cities in 3 countries, small networks.

    Used when scenarios/classroom.toml is not there. Governments harmonize on
    their own now and then (``government_rate``), so hierarchical upscaling
    shows even with vertical pressure switched off.
    """
    data = {
        "name": "classroom",
        "policy": {"name": "Local climate action plan"},
        "world": {
            "generator": "synthetic",
            "seed": 45,
            "n_cities": 60,
            "n_countries": 3,
            "regions_per_country": 2,
            "largest_population": 4_000_000,
            "bloc_share": 0.67,
            "proximity_neighbours": 3,
            "twinning_per_city": 0.5,
        },
        "networks": {
            "leaders_club": {
                "rule": "exclusive",
                "size": 6,
                "monitors": True,
                "lobbies": True,
                "tie_weight": 2.0,
                "max_ties_per_member": 5,
            },
            "covenant": {"rule": "open", "size": 15, "monitors": True, "max_ties_per_member": 4},
            "associations": {
                "rule": "national",
                "size": 5,
                "lobbies": True,
                "tie_weight": 0.5,
                "max_ties_per_member": 3,
            },
        },
        "pioneers": {"count": 3},
        "mechanisms": {"hierarchical": {"government_rate": 0.02}},
        "run": {"steps": 60, "seed": 7, "step_unit": "month"},
    }
    return parse_scenario(data, name="classroom")


def classroom_scenario(catalog: dict[str, Path] | None = None) -> Scenario:
    """scenarios/classroom.toml when the catalog has it, else :func:`built_in_classroom`."""
    if catalog and CLASSROOM_FILE in catalog:
        return load_scenario(catalog[CLASSROOM_FILE])
    return built_in_classroom()


@dataclass(frozen=True)
class Demonstration:
    """The demonstration: one illustrative run per type, and the ensemble's reach."""

    scenario: Scenario
    world: World
    seed: int
    panels: dict[str, dict[str, np.ndarray]]
    """Per type: one run (the seed) for the maps, an illustration, not the result."""
    reach: pd.DataFrame
    """One row per type: ensemble mean share adopted among leaders, followers, laggards, all."""
    ensemble: pd.DataFrame
    """Per type: means with 95% intervals (diffusion_sim.studies.modes.ladder_table)."""
    claims: pd.DataFrame
    """Kern's claims with their paired differences, intervals and verdicts."""
    replicates: int
    world_name: str = "classroom"
    """The menu's name of the world (the Learn tab shows a demonstration only for its world)."""

    @property
    def not_shown(self) -> list[str]:
        """The lesson's claims the ensemble does not show on this world."""
        return [row.claim for row in self.claims.itertuples(index=False) if not row.holds]

    @property
    def verdict(self) -> str:
        """Whether this world shows the lesson, in one sentence written from the claims."""
        n, missing = len(self.claims), self.not_shown
        if not missing:
            return (
                f"On {self.world_name}, the ensemble shows all {n} of the lesson's claims "
                "(each with its numbers below)."
            )
        return (
            f"On {self.world_name}, {len(missing)} of the lesson's {n} claims are NOT shown: "
            f"{'; '.join(missing)}. Their numbers are below. The lesson (docs/teaching.md) is "
            f"written for {LESSON_WORLD}."
        )

    @property
    def sentences(self) -> list[str]:
        """What the ensemble shows of each of Kern's claims, written from the numbers."""
        return ladder_sentences(self.claims)

    @property
    def caption(self) -> str:
        s = self.scenario
        return (
            f"Same world ({self.world.n_cities} cities), {self.replicates} replicates with "
            f"common seeds (root {self.seed}), {s.run.steps} {s.run.step_unit}s; share adopted "
            "at the end, ensemble mean [95% interval]. The maps show one run (seed "
            f"{self.seed}) as an illustration."
        )

    def reach_table(self) -> pd.DataFrame:
        """The reach as text cells, e.g. '73% [65-80%]', for display."""
        rows = []
        for name, row in self.ensemble.iterrows():
            cells = {"type": name}
            for column, label in zip(LADDER, self.reach.columns[1:], strict=True):
                low, high = row[f"{column}_low"], row[f"{column}_high"]
                cells[label] = f"{row[column]:.0%} [{low:.0%}-{high:.0%}]"
            rows.append(cells)
        return pd.DataFrame(rows)


LESSON_WORLD = "classroom (built in)"
"""The world docs/teaching.md is written for (:func:`built_in_classroom`): Learn's default."""

LADDER = ("share_leaders", "share_followers", "share_laggards", "share_cities")
REACH_COLUMNS = ("leaders", "followers", "laggards", "all cities")


def demonstration_runs(replicates: int = REPLICATES) -> int:
    """How many runs a demonstration takes: one per type for the maps, then the ensemble."""
    return len(MODES) * (1 + replicates)


def progress_text(done: int, replicates: int = REPLICATES) -> str:
    """What the Learn tab says while the demonstration runs, e.g. 'run 12 of 84 ...'.

    Examples
    --------
    >>> progress_text(12).split(" (")[0]
    'running the demonstration: 12 of 84 runs done'
    """
    return (
        f"running the demonstration: {done} of {demonstration_runs(replicates)} runs done "
        f"({len(MODES)} types: one run each for the maps, then {replicates} replicates each)"
    )


def run_demonstration(
    scenario: Scenario,
    seed: int | None = None,
    replicates: int = REPLICATES,
    *,
    world_name: str = LESSON_WORLD,
    on_progress: Callable[[int], None] | None = None,
) -> Demonstration:
    """Run the four types on one world: one run each for the maps, and the ensemble.

    ``on_progress(done)`` is called after each of the :func:`demonstration_runs` runs.
    """
    from diffusion_sim.app.session import LiveRun, cached_world

    done = 0

    def one_more(*_: Any) -> None:
        nonlocal done
        done += 1
        if on_progress is not None:
            on_progress(done)

    seed = int(scenario.run.seed if seed is None else seed)
    world = cached_world(scenario, seed)
    panels = {}
    for m in MODES:
        run = LiveRun(m.apply(scenario), seed, world=world)
        run.step(run.steps)
        snapshot = run.snapshot()
        panels[m.title] = {"adopted": snapshot.adopted, "channel": snapshot.channel}
        one_more()
    runs = ladder_runs(scenario, replicates, seed=seed, world=world, on_run=one_more)
    ensemble, claims = ladder_table(runs)
    reach = pd.DataFrame({"type": list(ensemble.index)})
    for column, label in zip(LADDER, REACH_COLUMNS, strict=True):
        reach[label] = ensemble[column].to_numpy()
    return Demonstration(
        scenario, world, seed, panels, reach, ensemble, claims, replicates, world_name
    )
