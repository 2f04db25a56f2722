"""The Run tab's curves: adopters by channel and the shares adopted, redrawn every step.

Drawn for the box they are shown in (:class:`~diffusion_sim.app.layout.Look`): side
by side on a wide box, one above the other on a narrow one (a phone), with text of
the look's size (larger in presenter mode) and legends under the axes, never over
the curves.
"""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from diffusion_sim.app.layout import Look, legend_under, smallest_text_px
from diffusion_sim.app.views import background_pixels, encode_png
from diffusion_sim.mechanisms.registry import ADOPTION_CHANNELS, CHANNEL_COLOURS
from diffusion_sim.record.plotting import legend_outside, step_label

NOTEBOOK_LOOK = Look(1100, 360, 14.0)
"""The look of the curves outside the page (notebooks, exports)."""


class CurvesCanvas:
    """Adopters now stacked by the channel that brought them; share of cities beside population.

    The figure, axes, legends and lines are made once per run and box; a redraw
    sets the lines' data and replaces the stacked areas, painting only them over
    the axes drawn once (blitting; a new figure with a layout engine costs about
    half a second on this machine, a redraw a tenth of that).
    """

    SHARES = (
        ("share_cities", "cities", "-"),
        ("share_population", "population", "-"),
        ("share_leaders", "leaders", ":"),
        ("share_followers", "followers", ":"),
        ("share_laggards", "laggards", ":"),
    )

    def __init__(
        self, steps: int, unit: str = "step", n_cities: int | None = None, look: Look | None = None
    ) -> None:
        look = look or NOTEBOOK_LOOK
        self.look = look
        self.lock = threading.Lock()
        self.figure = Figure(figsize=look.figsize, dpi=look.dpi, layout="constrained")
        FigureCanvasAgg(self.figure)
        shape = (2, 1) if look.narrow else (1, 2)
        self.left, self.right = self.figure.subplots(*shape)
        text, title = look.points(), look.points(1.1)
        for ax in (self.left, self.right):
            ax.set_xlim(0, steps)
            ax.set_xlabel(step_label(unit), fontsize=text)
            ax.tick_params(labelsize=text)
            ax.locator_params(nbins=4 if look.width < 900 or look.text_px > 16 else 6)
        self.left.set_ylabel("cities", fontsize=text)
        self.left.set_title("adopters now, by channel", fontsize=title)
        handles = [
            self.left.fill_between([], [], color=CHANNEL_COLOURS[c], label=c)
            for c in ADOPTION_CHANNELS
        ]
        # Legends sit beside their axes, or (large text, narrow box) in one row of keys under
        # both, never over the curves (tests/test_charts.py).
        below = look.narrow or look.text_px > 16
        self.stack: list = []
        self.lines = {}
        for column, label, style in self.SHARES:
            (self.lines[column],) = self.right.plot(
                [], [], style, label=label, lw=2.2 if style == "-" else 1.8
            )
        self.right.set_ylim(0, 1.02)
        self.right.set_title("share adopted", fontsize=title)
        if below:
            legend_under(
                self.figure, handles + list(self.lines.values()), text, 3 if look.narrow else 5
            )
        else:
            legend_outside(self.left, "right", handles=handles, fontsize=text)
            legend_outside(self.right, "right", fontsize=text)
        # The axes and legends are drawn once into a background and a redraw only paints the
        # data (blitting); the left axis grows in jumps, redrawing the background only then.
        self.n_cities = n_cities
        self.top = 0.0
        self.background = None
        self.text_px = 0.0
        """The smallest text in the picture's pixels (known once drawn)."""

    def _rescale(self, adopters: float) -> None:
        """Grow the left axis (to 1.6 x what is needed, at most all cities) and redraw axes."""
        ceiling = (self.n_cities or np.inf) * 1.02
        self.top = float(min(max(adopters * 1.6, 5.0), ceiling))
        self.left.set_ylim(0, self.top)
        hidden = [*self.stack, *self.lines.values()]
        self.background = background_pixels(self.figure, hidden)
        self.text_px = smallest_text_px(self.figure)

    def render(self, timeseries: pd.DataFrame) -> bytes:
        t = timeseries["step"].to_numpy()
        stacks = [timeseries[f"adopters_{c}"].to_numpy() for c in ADOPTION_CHANNELS]
        with self.lock:
            for artist in self.stack:
                artist.remove()
            self.stack = self.left.stackplot(
                t, stacks, colors=[CHANNEL_COLOURS[c] for c in ADOPTION_CHANNELS]
            )
            for column, line in self.lines.items():
                line.set_data(t, timeseries[column].to_numpy())
            adopters = float(timeseries["adopters"].max()) if len(timeseries) else 0.0
            too_small, too_big = adopters * 1.05 > self.top, adopters * 6.4 < self.top
            if self.background is None or too_small or too_big:
                self._rescale(adopters)
            self.figure.canvas.restore_region(self.background)
            for artist in self.stack:
                self.left.draw_artist(artist)
            for line in self.lines.values():
                self.right.draw_artist(line)
            return encode_png(self.figure.canvas)


def curves_figure(timeseries: pd.DataFrame, steps: int, unit: str = "step") -> Figure:
    """The curves of a run as a new figure (for notebooks and exports)."""
    canvas = CurvesCanvas(steps, unit)
    canvas.render(timeseries)
    return canvas.figure
