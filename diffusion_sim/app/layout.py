"""How the page fits the screen: pictures drawn at the size they are shown, and presenter mode.

The map and the curves fill boxes whose size the stylesheet (``dashboard.css``)
gives from the window (a projector's 1024 x 768, a 1920 x 1080 monitor, a phone's
390 x 844); the browser reports each box's size (``box_size.vue``) and the server
draws the picture for exactly that box, at :data:`SHARPNESS` times its pixels.
So a chart's text is shown at the size it was drawn with: :data:`TEXT_PX` CSS
pixels at the least, 20 in presenter mode (readable at 8 m on a projector).
"""

from __future__ import annotations

from dataclasses import dataclass

import solara
from matplotlib.figure import Figure
from matplotlib.text import Text

TEXT_PX = {False: 13.0, True: 20.0}
"""The smallest chart text as shown (CSS pixels): normally, and in presenter mode."""
SHARPNESS = 1.5
"""Pictures are drawn at this many pixels per CSS pixel (sharp on high-density screens)."""
DEFAULT_BOXES = {"map": (640, 380), "curves": (760, 260), "wide": (760, 520), "demo": (740, 600)}
"""Box sizes assumed until the browser has reported the real ones (about a projector's)."""
SMALLEST_BOX = 120

presenter = solara.reactive(False)
boxes: solara.Reactive[dict[str, tuple[int, int]]] = solara.reactive({})
drawer_open = solara.reactive(False)


@dataclass(frozen=True)
class Look:
    """The size a picture is shown at (CSS pixels) and the size of its smallest text."""

    width: int
    height: int
    text_px: float

    @property
    def dpi(self) -> float:
        return 100.0 * SHARPNESS

    @property
    def figsize(self) -> tuple[float, float]:
        """Inches at :attr:`dpi` that give SHARPNESS pixels per CSS pixel of the box."""
        return self.width / 100.0, self.height / 100.0

    def points(self, scale: float = 1.0) -> float:
        """A font size in points that shows as ``scale`` x text_px CSS pixels."""
        return self.text_px * scale * 72.0 / 100.0

    @property
    def narrow(self) -> bool:
        """Taller than wide enough for two charts side by side: stack them instead."""
        return self.width < 1.6 * self.height or self.width < 560


def look_of(name: str, size: tuple[int, int] | None = None, big: bool | None = None) -> Look:
    """The look of the box ``name`` as last reported (or its default), normal or presenter."""
    width, height = size or boxes.value.get(name) or DEFAULT_BOXES[name]
    big = presenter.value if big is None else big
    return Look(max(int(width), SMALLEST_BOX), max(int(height), SMALLEST_BOX), TEXT_PX[big])


def report_box(event: dict) -> None:
    """A box's size from the browser (``box_size.vue``); anything malformed is ignored."""
    try:
        name, width, height = str(event["name"]), int(event["width"]), int(event["height"])
    except (KeyError, TypeError, ValueError):
        return
    if name in DEFAULT_BOXES and 0 < width < 10_000 and 0 < height < 10_000:
        if boxes.value.get(name) != (width, height):
            boxes.set({**boxes.value, name: (width, height)})


def legend_under(figure: Figure, handles: list, fontsize: float, columns: int) -> None:
    """One legend under the axes, in as many columns (at most ``columns``) as fit the width."""
    renderer = figure.canvas.get_renderer()
    for ncol in range(columns, 0, -1):
        legend = figure.legend(
            handles=handles,
            loc="outside lower center",
            ncol=ncol,
            fontsize=fontsize,
            frameon=False,
            handlelength=1.2,
            columnspacing=0.9,
        )
        if legend.get_window_extent(renderer).width <= 0.98 * figure.bbox.width:
            return
        legend.remove()
    figure.legend(handles=handles, loc="outside lower center", fontsize=fontsize)


def smallest_text_px(figure: Figure) -> float:
    """The smallest visible text of a figure, in the picture's pixels (its font size x dpi).

    The tick labels of an axes drawn without axis (``set_axis_off``) are not shown: left out.
    """
    hidden = {
        id(text)
        for ax in figure.axes
        if not ax.axison
        for axis in (ax.xaxis, ax.yaxis)
        for text in axis.findobj(Text)
    }
    sizes = [
        text.get_fontsize()
        for text in figure.findobj(Text)
        if text.get_visible()
        and text.get_text().strip()
        and text.figure is not None
        and id(text) not in hidden
    ]
    return min(sizes) * figure.dpi / 72.0 if sizes else 0.0
