"""Kern's upscaling mechanisms, one module each.

Every mechanism is a function over arrays that returns a hazard (a probability
per step). The same functions accept plain floats, so the Mesa agents apply the
very formulas the vectorized engine applies. ``embedded`` composes them.
"""

from diffusion_sim.mechanisms.embedded import (
    ADOPTION_CHANNELS,
    CHANNELS,
    EXIT_CHANNELS,
    GOVERNMENT_CHANNELS,
)

__all__ = ["ADOPTION_CHANNELS", "CHANNELS", "EXIT_CHANNELS", "GOVERNMENT_CHANNELS"]
