"""diffusion_sim: how a local policy spreads from pioneering cities up to nations and blocs.

Kern's four types of upscaling (horizontal, vertical, hierarchical, embedded)
on a world of cities, with a vectorized engine and a Mesa model that agree
event for event.

The public names load on first use (PEP 562), so ``import diffusion_sim`` and
the CLI's start stay light and a Ctrl-C while numpy or pandas load is one line.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_WHERE = {
    "Ensemble": "diffusion_sim.simulation",
    "InputError": "diffusion_sim.errors",
    "Result": "diffusion_sim.record.results",
    "Scenario": "diffusion_sim.scenario",
    "World": "diffusion_sim.world",
    "build_world": "diffusion_sim.simulation",
    "calibrate": "diffusion_sim.studies.calibration",
    "compare": "diffusion_sim.studies.comparison",
    "compare_modes": "diffusion_sim.studies.comparison",
    "estimate": "diffusion_sim.studies.estimation",
    "export": "diffusion_sim.studies.graph_export",
    "forecast": "diffusion_sim.studies.calibration.forecast",
    "load_scenario": "diffusion_sim.scenario",
    "parse_scenario": "diffusion_sim.scenario",
    "simulate": "diffusion_sim.simulation",
    "simulate_ensemble": "diffusion_sim.simulation",
}

__all__ = [
    "Ensemble",
    "InputError",
    "Result",
    "Scenario",
    "World",
    "__version__",
    "build_world",
    "calibrate",
    "compare",
    "compare_modes",
    "estimate",
    "export",
    "forecast",
    "load_scenario",
    "parse_scenario",
    "simulate",
    "simulate_ensemble",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'diffusion_sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))


if TYPE_CHECKING:  # for type checkers and IDEs: the same names, eagerly
    from diffusion_sim.errors import InputError
    from diffusion_sim.record.results import Result
    from diffusion_sim.scenario import Scenario, load_scenario, parse_scenario
    from diffusion_sim.simulation import Ensemble, build_world, simulate, simulate_ensemble
    from diffusion_sim.studies.calibration import calibrate
    from diffusion_sim.studies.calibration.forecast import forecast
    from diffusion_sim.studies.comparison import compare, compare_modes
    from diffusion_sim.studies.graph_export import export
    from diffusion_sim.world import World
