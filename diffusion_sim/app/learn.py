"""The learn tab: Kern's four types of upscaling, explained and shown on a classroom world.

The demonstration runs the classroom scenario four times with the same world
and the same seed, switching only the mechanisms: horizontal alone, vertical
alone, hierarchical alone, then all three (embedded). Whatever differs between
the four panels is the difference a mechanism makes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from diffusion_sim.scenario import Scenario, load_scenario, parse_scenario
from diffusion_sim.world import LADDER_NAMES, World

KERN_TYPES: dict[str, dict[str, Any]] = {
    "horizontal": {
        "switches": {"horizontal": True, "vertical": False, "hierarchical": False},
        "title": "Horizontal upscaling",
        "text": "Voluntary action and direct relations between leading cities. A city adopts "
        "when enough of its peers (network partners, twins, neighbours) have, weighted by "
        "their prestige. No government takes part. Kern (2019) finds it mostly reaches "
        "leaders: cities with the means and the will to act.",
        "look_for": "Adoption stays among leaders (triangles) and their close partners.",
    },
    "vertical": {
        "switches": {"horizontal": False, "vertical": True, "hierarchical": False},
        "title": "Vertical upscaling",
        "text": "Two-way relations between cities and higher levels of government. Cities "
        "and their networks push governments to adopt (bottom-up); a supportive government "
        "that has adopted funds and encourages its cities (top-down); a hostile one deters "
        "them. Kern, Eckersley & Haupt (2023): national funding drove the 2010s, and "
        "followers depended on it more than forerunners.",
        "look_for": "Followers (circles) adopt once a government above them supports the policy.",
    },
    "hierarchical": {
        "switches": {"horizontal": False, "vertical": False, "hierarchical": True},
        "title": "Hierarchical upscaling",
        "text": "Harmonization at regional or national level: a government that adopts with "
        "a mandate obliges every municipality under it, which complies within a set time. A "
        "hostile government can instead preempt (forbid) the policy. Kern (2019): it even "
        "reaches the laggards.",
        "look_for": "Whole countries or regions switch, laggards (squares) included.",
    },
    "embedded": {
        "switches": {"horizontal": True, "vertical": True, "hierarchical": True},
        "title": "Embedded upscaling",
        "text": "All three at once, with feedbacks across levels: leaders spread the policy "
        "to each other, their adoption pushes governments, governments fund followers and "
        "mandate laggards. Kern (2019) links it to polycentric governance.",
        "look_for": "The widest reach on every rung of the ladder, and the fastest.",
    },
}
"""Each type's switches, and what to say and look for (docs/teaching.md uses the same words)."""

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
    """The four runs of the demonstration and the reach of each on Kern's ladder."""

    scenario: Scenario
    world: World
    seed: int
    panels: dict[str, dict[str, np.ndarray]]
    reach: pd.DataFrame
    """One row per type: share adopted among leaders, followers, laggards and all cities."""


def run_demonstration(scenario: Scenario, seed: int | None = None) -> Demonstration:
    """Run the four types on one world with one seed (see the module docstring)."""
    from diffusion_sim.app.session import LiveRun, cached_world, with_switches

    seed = int(scenario.run.seed if seed is None else seed)
    world = cached_world(scenario, seed)
    panels, rows = {}, []
    for name, info in KERN_TYPES.items():
        run = LiveRun(with_switches(scenario, info["switches"]), seed, world=world)
        run.step(run.steps)
        snapshot = run.snapshot()
        panels[KERN_TYPES[name]["title"]] = {
            "adopted": snapshot.adopted,
            "channel": snapshot.channel,
        }
        row: dict[str, Any] = {"type": name}
        for code, rung in enumerate(LADDER_NAMES):
            mask = world.ladder == code
            row[f"{rung}s"] = float(snapshot.adopted[mask].mean()) if mask.any() else float("nan")
        row["all cities"] = float(snapshot.adopted.mean())
        rows.append(row)
    return Demonstration(scenario, world, seed, panels, pd.DataFrame(rows))
