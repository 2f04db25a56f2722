"""What a rule is: one scalar function, written once, run three ways.

A mechanism's formula is a small function of one city's (or one government's)
numbers. :func:`rule` registers it with numba (``register_jitable``): the agents
call it as plain Python on their own floats, the compiled loops of
:mod:`diffusion_sim.engines.vectorized.kernels` call it and numba compiles it into them (inlined,
no ``fastmath``: the same IEEE operations in the same order), and its array
form, for the numpy reference (:func:`diffusion_sim.engines.vectorized.full_hazard`) and
the per-government arrays, is ``numba.vectorize`` of the same function. So
there is no second copy of a formula to drift: ``tests/test_rules.py`` checks,
rule by rule, that the three forms give the same bits on random inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba
import numpy as np
from numba.extending import register_jitable


def rule(scalar: Callable[..., Any]) -> Callable[..., Any]:
    """Register a scalar rule for the compiled loops and attach its array form (``.array``).

    Returns the function itself, so a call from Python runs it as written.
    ``.compiled`` is the rule compiled alone (what the tests compare with).
    """
    register_jitable(scalar)
    scalar.array = ArrayForm(scalar)  # type: ignore[attr-defined]
    scalar.compiled = numba.njit(scalar)  # type: ignore[attr-defined]  # not cached: same key as .array
    return scalar


class ArrayForm:
    """``numba.vectorize`` of a scalar rule, built when first called (imports stay light)."""

    def __init__(self, scalar: Callable[..., Any]) -> None:
        self.scalar = scalar
        self._ufunc: Any = None

    def __call__(self, *args: Any) -> Any:
        if self._ufunc is None:
            self._ufunc = numba.vectorize(cache=True)(self.scalar)
        return self._ufunc(*args)


def either(scalar: Callable[..., Any], *args: Any) -> Any:
    """``scalar(*args)`` on plain numbers, its array form if any argument is an array.

    For callers that hold either (the mechanisms' public functions); the agents
    call the scalar rule directly and the kernels compile it.
    """
    for arg in args:
        if np.ndim(arg):
            return scalar.array(*args)  # type: ignore[attr-defined]
    return scalar(*args)
