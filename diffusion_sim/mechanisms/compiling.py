"""Compiled loops: declared, kept fresh on disk, and bound once, safe from a Ctrl-C mid-compile.

The kernels (:mod:`diffusion_sim.engines.vectorized.kernels`,
:mod:`diffusion_sim.model.provenance`) are
declared with :func:`compiled` and compiled the first time a run binds or calls
them; nothing compiles, or touches numba's cache, when a module is imported.
"""

from __future__ import annotations

import hashlib
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numba
import numba.core.event

CACHED: list[Any] = []
"""Every loop declared with :func:`compiled`, in declaration order."""

_fresh = False


def compiled(function: Callable[..., Any]) -> Any:
    """``numba.njit(cache=True, nogil=True)``, registered for :func:`fresh_cache`."""
    dispatcher = numba.njit(cache=True, nogil=True)(function)
    CACHED.append(dispatcher)
    return dispatcher


def fresh_cache() -> None:
    """Drop the compiled loops' disk cache if a mechanism's source changed (once per process).

    numba keys a cached function on its own file only; the loops inline the rules
    of ``diffusion_sim/mechanisms/``, so a changed rule must recompile them. Called
    before a run's first compiled call (:func:`bind`, the engines' bundles, the
    provenance tables, the likelihood), never on import.
    """
    global _fresh
    if _fresh or not CACHED:
        return
    _fresh = True
    folder = Path(__file__).parent  # this module sits among the rules it guards
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    try:
        stamp = Path(CACHED[0]._cache._cache_path) / "kernels.rules.sha256"
        if stamp.exists() and stamp.read_text() == digest.hexdigest():
            return
        for dispatcher in CACHED:
            dispatcher._cache.flush()
        stamp.write_text(digest.hexdigest())
    except OSError:  # pragma: no cover - a read-only cache: numba compiles in memory
        return


class _FirstCompile(numba.core.event.Listener):
    """Calls ``say`` once, when numba starts compiling a loop (a cache load is no compile)."""

    def __init__(self, say: Callable[[], None]) -> None:
        self.say, self.said = say, False
        self.lock = threading.Lock()

    def on_start(self, event: Any) -> None:
        with self.lock:
            if self.said:
                return
            self.said = True
        self.say()

    def on_end(self, event: Any) -> None:
        pass


@contextmanager
def announce_compiling(say: Callable[[], None]) -> Iterator[None]:
    """Within the block, call ``say`` once if numba compiles (its disk cache was cold).

    numba raises its "numba:compile" event only for a real compilation, never for
    a loop loaded from the cache, so a warm cache says nothing (the command line's
    "compiling the engine (first run only)").
    """
    with numba.core.event.install_listener("numba:compile", _FirstCompile(say)):
        yield


def bind(kernel: Any, *args: Any) -> Callable[..., Any]:
    """``kernel`` compiled for the types of ``args``, callable without numba's type dispatch.

    numba works out the types of a call's arguments on every call (several
    microseconds for named tuples); the engine's bundles keep their types for a
    whole run (their arrays are written in place), so it binds each kernel
    once. Pass arguments of exactly these types afterwards: the entry point
    does not check them.
    """
    fresh_cache()
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
