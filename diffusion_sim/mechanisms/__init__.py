"""Kern's upscaling mechanisms, one module each.

Every formula is a scalar rule (:mod:`diffusion_sim.mechanisms.rules`) that the
agents call on their own numbers, the compiled loops compile, and the numpy
reference applies as its array form. ``embedded`` composes them; ``registry``
lists them (names, channels, colours, what modes switch).
"""

from diffusion_sim.mechanisms.registry import (
    ADOPTION_CHANNELS,
    CHANNELS,
    EXIT_CHANNELS,
    GOVERNMENT_CHANNELS,
)

__all__ = ["ADOPTION_CHANNELS", "CHANNELS", "EXIT_CHANNELS", "GOVERNMENT_CHANNELS"]
