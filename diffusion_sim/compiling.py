"""Binding a compiled loop to its argument types once, safe from a Ctrl-C mid-compile.

The kernels (:mod:`diffusion_sim.kernels`, :mod:`diffusion_sim.provenance`) are
compiled the first time a run binds them; this is the one place that compiles.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numba


def bind(kernel: Any, *args: Any) -> Callable[..., Any]:
    """``kernel`` compiled for the types of ``args``, callable without numba's type dispatch.

    numba works out the types of a call's arguments on every call (several
    microseconds for named tuples); the engine's bundles keep their types for a
    whole run (their arrays are written in place), so it binds each kernel
    once. Pass arguments of exactly these types afterwards: the entry point
    does not check them.
    """
    signature = tuple(numba.typeof(a) for a in args)
    with _interrupts_held():
        kernel.compile(signature)
    return kernel.overloads[signature].entry_point


@contextmanager
def _interrupts_held() -> Iterator[None]:
    """Hold a Ctrl-C until numba has finished compiling, then raise it.

    numba runs Python inside llvmlite's C callbacks while it compiles; a
    KeyboardInterrupt there is printed as "Exception ignored", dropped, and
    leaves a half-built library that fails later with a traceback. Only the main
    thread can set a handler, and a handler somebody else installed is left alone.
    """
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return
    held: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if held:
        raise KeyboardInterrupt
