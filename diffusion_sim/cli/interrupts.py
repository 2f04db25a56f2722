"""Ctrl-C on the command line: one line and exit 130, at any moment, never a traceback.

Two behaviours of CPython stand in the way while the program starts, each seen
in ``tests/test_interrupts.py``'s interrupts of a starting run:

- A KeyboardInterrupt raised inside a callback (importlib's module-lock weakref
  callback, while modules load) is printed as "Exception ignored ... Traceback"
  and dropped, so the Ctrl-C is lost and the run goes on.
- An interrupt that escaped code run from a string (pydantic building its models)
  is remembered even once caught, and ``python -m`` then ends the process by
  SIGINT instead of with its exit code (5 of 60 interrupts in the first
  0.15-0.22 s of ``diffusion-sim run``; 0 of 60 with :func:`forget_interrupt`).
- An object whose construction the Ctrl-C cut short (llvmlite's
  ``PipelineTuningOptions`` while numba loads) fails in its finalizer when the
  interpreter shuts down, printed as "Exception ignored ... Traceback" after the
  program's own line (once in a full test run on a busy machine).
  :func:`forget_interrupt` therefore also silences finalizers' errors from then on:
  the program has said what was kept, and half-built objects are not the user's.
"""

from __future__ import annotations

import _thread
import sys
import threading
from typing import Any


def deliver_ignored_interrupts() -> None:
    """Make a Ctrl-C that Python would print and drop (an "unraisable") a real one.

    The hook asks for the interrupt again in the main thread, where the program's
    own handler prints its one line; any other unraisable goes to the hook before.
    It asks from another thread, a moment later: asked from within the hook, the
    interrupt would be raised inside the hook and dropped again.
    """
    previous = sys.unraisablehook

    def hook(unraisable: Any) -> None:
        if isinstance(unraisable.exc_value, KeyboardInterrupt):
            threading.Timer(0.01, _thread.interrupt_main).start()
            return
        previous(unraisable)

    sys.unraisablehook = hook


def forget_interrupt() -> None:
    """Keep the exit code 130 of a handled Ctrl-C: clear CPython's "escaped" mark.

    Running any code from a string (``exec("pass")``) resets it, and from here on an
    error in a finalizer (an object the interrupt left half-built) is not printed
    (module docstring).
    """
    exec("pass")
    sys.unraisablehook = lambda unraisable: None
