"""Play at the speed the slider says: steps kept to the clock, pictures drawn as fast as they can.

A step of the engine takes about a millisecond on 34,000 cities, but drawing the map
and the curves and sending them to the browser takes a few tenths of a second. Drawing
every step (the earlier play loop) made "4 steps per second" play at 2.7. The
:class:`Pacer` keeps the steps on the clock (step k is due at k / speed seconds after
Play) and takes all the steps that are due before each picture, so when a picture takes
longer than a step's interval it shows every second or third step, and says so
(:meth:`Pacer.note`) with the rates it measured, not the ones it aims for.

Plain Python with an injectable clock, so it is testable without a browser.
"""

from __future__ import annotations

import math
import os
import time
from collections import deque
from collections.abc import Callable

EVERY_STEP_ENV = "DIFFUSION_SIM_PLAY_EVERY_STEP"
"""Set to 1 to draw every step however slow (the earlier behaviour; benchmarks/dashboard.py)."""
WINDOW_SECONDS = 3.0
"""The rates shown are measured over the pictures of the last few seconds."""


def every_step_requested() -> bool:
    """Whether the server was started to draw every step (the earlier play loop)."""
    return os.environ.get(EVERY_STEP_ENV, "") not in ("", "0")


class Pacer:
    """How many steps to take before each picture to play at ``speed`` steps per second.

    Parameters
    ----------
    speed : float
        Steps per second wanted (the slider's value).
    skip : bool
        Take every step that is due before a picture (True), or one step per
        picture however late (False: the earlier play loop, slower than it says).
    clock : callable
        Seconds, monotonic; ``time.perf_counter`` unless a test passes its own.
    """

    def __init__(
        self, speed: float, skip: bool = True, clock: Callable[[], float] = time.perf_counter
    ) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be above 0 steps per second, not {speed}")
        self.speed, self.skip, self.clock = float(speed), skip, clock
        self.started = clock()
        self.taken = 0
        self.frames: deque[tuple[float, int]] = deque()
        """(time, steps taken before it) of each picture in the last WINDOW_SECONDS."""

    def due(self) -> int:
        """Steps to take now (0: wait :meth:`wait` seconds first).

        At most one second's worth of steps at once: after a longer stall (a busy
        machine) the clock restarts rather than racing to catch up, and the rate
        shown says that the run fell behind.
        """
        owed = math.floor((self.clock() - self.started) * self.speed + 1e-9) + 1 - self.taken
        if owed <= 0:
            return 0
        if not self.skip:
            return 1
        limit = max(1, math.ceil(self.speed))
        if owed > limit:
            self.started = self.clock() - self.taken / self.speed
            owed = 1
        return owed

    def wait(self) -> float:
        """Seconds until the next step is due (0 if it is due already)."""
        return max(0.0, self.started + self.taken / self.speed - self.clock())

    def took(self, steps: int) -> None:
        """Record that ``steps`` steps were taken and a picture of them is being drawn."""
        self.taken += steps
        now = self.clock()
        self.frames.append((now, steps))
        while self.frames and now - self.frames[0][0] > WINDOW_SECONDS:
            self.frames.popleft()

    def rates(self) -> tuple[float, float] | None:
        """Steps and pictures per second over the recent pictures (None: too few yet)."""
        if len(self.frames) < 3:
            return None
        span = self.frames[-1][0] - self.frames[0][0]
        if span <= 0:
            return None
        steps = sum(n for _, n in list(self.frames)[1:])
        return steps / span, (len(self.frames) - 1) / span

    def note(self) -> str:
        """What the screen says while playing: the measured rates, and any steps not drawn."""
        rates = self.rates()
        if rates is None:
            return f"playing at {self.speed:g} steps per second"
        steps, pictures = rates
        text = f"playing: {steps:.1f} steps per second measured"
        per_picture = steps / pictures if pictures > 0 else 1.0
        if per_picture >= 1.15:
            text += (
                f"; drawing takes longer than a step, so each picture jumps about "
                f"{per_picture:.1f} steps ({pictures:.1f} pictures per second)"
            )
        elif steps < 0.9 * self.speed:
            text += f" (slower than {self.speed:g}: this machine is busy)"
        return text
