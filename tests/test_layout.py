"""Pictures drawn for their box (app/layout.py, app/curves.py), without a browser."""

from __future__ import annotations

import pytest

pytest.importorskip("solara")

import diffusion_sim as ds
from diffusion_sim.app import layout
from diffusion_sim.app.curves import CurvesCanvas
from diffusion_sim.app.layout import SHARPNESS, TEXT_PX, Look
from diffusion_sim.app.session import LiveRun

SMALL = {"world.n_cities": 150, "run.steps": 12}


@pytest.fixture(scope="module")
def timeseries():
    run = LiveRun(ds.Scenario().with_overrides(SMALL), seed=2)
    run.step(12)
    return run.snapshot().timeseries


@pytest.mark.parametrize("big", [False, True])
def test_the_curves_text_is_drawn_at_the_looks_size(timeseries, big):
    look = Look(742, 300, TEXT_PX[big])
    canvas = CurvesCanvas(12, "month", 150, look)
    png = canvas.render(timeseries)
    assert canvas.figure.canvas.get_width_height() == (742 * SHARPNESS, 300 * SHARPNESS)
    assert canvas.text_px == pytest.approx(TEXT_PX[big] * SHARPNESS)
    renderer = canvas.figure.canvas.get_renderer()
    ticks = [t for t in canvas.left.get_yticklabels() if t.get_text()]
    heights = [t.get_window_extent(renderer).height for t in ticks]
    # A digit's drawn box is about the font size tall: the attribute matches the picture.
    assert min(heights) >= 0.7 * canvas.text_px
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_narrow_box_stacks_the_charts_and_a_wide_one_puts_them_side_by_side(timeseries):
    tall = CurvesCanvas(12, "month", 150, Look(374, 468, 13.0))
    wide = CurvesCanvas(12, "month", 150, Look(1568, 420, 13.0))
    for canvas in (tall, wide):
        canvas.render(timeseries)
    below = tall.right.get_position().y1 <= tall.left.get_position().y0
    beside = wide.right.get_position().x0 >= wide.left.get_position().x1
    assert below and beside


def test_box_reports_from_the_browser_are_checked():
    layout.boxes.set({})
    layout.report_box({"name": "map", "width": 500, "height": 300})
    assert layout.look_of("map", big=False) == Look(500, 300, TEXT_PX[False])
    for bad in ({"name": "map"}, {"name": "x", "width": 1, "height": 1}, {"width": "a"}):
        layout.report_box(bad)
    layout.report_box({"name": "map", "width": -5, "height": 300})
    assert layout.boxes.value == {"map": (500, 300)}
    assert layout.look_of("curves", big=True).text_px == TEXT_PX[True]
