"""The play loop's pacing (app/play.py) on a clock the test moves: no real time is measured."""

from __future__ import annotations

import pytest

from diffusion_sim.app.play import Pacer


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def play(pacer: Pacer, clock: Clock, seconds: float, picture_seconds: float) -> int:
    """Run the loop of page.py for ``seconds``; each picture takes ``picture_seconds``."""
    end = clock.now + seconds
    while clock.now < end:
        count = pacer.due()
        if count == 0:
            clock.now += pacer.wait()
            continue
        pacer.took(count)
        clock.now += picture_seconds
    return pacer.taken


@pytest.mark.parametrize("picture_seconds", [0.05, 0.2, 0.3, 0.45, 0.9])
def test_steps_keep_to_the_clock_whatever_a_picture_costs(picture_seconds):
    clock = Clock()
    pacer = Pacer(4, clock=clock)
    taken = play(pacer, clock, 10.0, picture_seconds)
    assert 40 <= taken <= 41  # 4 steps per second for 10 s (the first step is due at once)
    steps, pictures = pacer.rates()
    assert steps == pytest.approx(4.0, rel=0.1)
    assert pictures == pytest.approx(min(4.0, 1 / picture_seconds), rel=0.15)


def test_drawing_every_step_falls_behind_as_the_earlier_loop_did():
    clock = Clock()
    pacer = Pacer(4, skip=False, clock=clock)
    assert play(pacer, clock, 10.0, 0.37) == 28  # one step per 0.37 s picture: 2.7 per second
    assert pacer.rates()[0] == pytest.approx(1 / 0.37, rel=0.01)
    assert "slower than 4" in pacer.note()


def test_fast_pictures_wait_for_the_next_step():
    clock = Clock()
    pacer = Pacer(2, clock=clock)
    assert pacer.due() == 1
    pacer.took(1)
    assert pacer.due() == 0
    assert pacer.wait() == pytest.approx(0.5)
    clock.now += 0.5
    assert pacer.due() == 1


def test_after_a_long_stall_the_clock_restarts_instead_of_racing():
    clock = Clock()
    pacer = Pacer(4, clock=clock)
    pacer.took(pacer.due())
    clock.now += 30.0  # the machine stalled
    assert pacer.due() == 1
    pacer.took(1)
    assert pacer.due() == 0


def test_the_note_says_what_was_measured():
    clock = Clock()
    pacer = Pacer(4, clock=clock)
    assert pacer.note() == "playing at 4 steps per second"
    play(pacer, clock, 5.0, 0.5)
    note = pacer.note()
    assert note.startswith("playing: 4.0 steps per second measured")
    assert "each picture jumps about 2.0 steps (2.0 pictures per second)" in note
    fast = Pacer(4, clock=clock)
    play(fast, clock, 5.0, 0.01)
    assert fast.note() == "playing: 4.0 steps per second measured"


def test_a_speed_of_zero_is_refused():
    with pytest.raises(ValueError, match="speed must be above 0"):
        Pacer(0)
