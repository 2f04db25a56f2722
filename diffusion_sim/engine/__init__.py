"""The vectorized engine: state, kept context and stepping over named bundles.

- :mod:`~diffusion_sim.engine.bundles`: the named tuples the compiled loops read;
- :mod:`~diffusion_sim.engine.state`: cities' and governments' state, and what a change moves;
- :mod:`~diffusion_sim.engine.context`: the governments' effects on each city, kept;
- :mod:`~diffusion_sim.engine.stepping`: :class:`VectorizedEngine`, a step;
- :mod:`~diffusion_sim.engine.reference`: :func:`full_hazard`, the numpy reference;
- :mod:`~diffusion_sim.engine.interface`: what both engines offer.
"""

from diffusion_sim.engine.context import FULL_REFRESH_SHARE
from diffusion_sim.engine.interface import Engine, GovernmentState
from diffusion_sim.engine.reference import full_hazard
from diffusion_sim.engine.stepping import VectorizedEngine

__all__ = ["FULL_REFRESH_SHARE", "Engine", "GovernmentState", "VectorizedEngine", "full_hazard"]
