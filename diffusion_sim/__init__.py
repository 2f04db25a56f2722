"""diffusion_sim: how a local policy spreads from pioneering cities up to nations and blocs.

Kern's four types of upscaling (horizontal, vertical, hierarchical, embedded)
on a world of cities, with a vectorized engine and a Mesa model that agree
event for event.
"""

from diffusion_sim.calibration import calibrate
from diffusion_sim.comparison import compare, compare_modes
from diffusion_sim.errors import InputError
from diffusion_sim.graph_export import export
from diffusion_sim.results import Result
from diffusion_sim.scenario import Scenario, load_scenario, parse_scenario
from diffusion_sim.simulation import Ensemble, build_world, simulate, simulate_ensemble
from diffusion_sim.world import World

__version__ = "0.1.0"

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
    "export",
    "load_scenario",
    "parse_scenario",
    "simulate",
    "simulate_ensemble",
]
