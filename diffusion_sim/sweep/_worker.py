"""A plugin for the local cluster's workers (imported only when a sweep runs)."""

from __future__ import annotations

import signal

from distributed.diagnostics.plugin import WorkerPlugin


class IgnoreInterrupt(WorkerPlugin):
    """Leave Ctrl-C to the driver, which stops the workers cleanly.

    A terminal sends SIGINT to every process of the foreground group; without this,
    each local worker would print a KeyboardInterrupt traceback.
    """

    name = "diffusion-sim-ignore-interrupt"

    def setup(self, worker) -> None:
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        except ValueError:  # not the main thread: leave the default
            pass
