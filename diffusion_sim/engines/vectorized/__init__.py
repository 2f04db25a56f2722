"""The vectorized engine: state, kept context and stepping over named bundles.

- :mod:`~diffusion_sim.engines.vectorized.bundles`: the named tuples the compiled loops read;
- :mod:`~diffusion_sim.engines.vectorized.state`: cities' and governments' state, and what a
  change moves;
- :mod:`~diffusion_sim.engines.vectorized.context`: the governments' effects on each city, kept;
- :mod:`~diffusion_sim.engines.vectorized.stepping`: :class:`VectorizedEngine`, a step;
- :mod:`~diffusion_sim.engines.vectorized.reference`: :func:`full_hazard`, the numpy reference;
- :mod:`~diffusion_sim.engines.interface`: what both engines offer.
"""

from diffusion_sim.engines.interface import Engine, GovernmentState
from diffusion_sim.engines.vectorized.context import FULL_REFRESH_SHARE
from diffusion_sim.engines.vectorized.reference import full_hazard
from diffusion_sim.engines.vectorized.stepping import VectorizedEngine

__all__ = ["FULL_REFRESH_SHARE", "Engine", "GovernmentState", "VectorizedEngine", "full_hazard"]
