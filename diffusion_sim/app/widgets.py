"""The dashboard's own browser widgets, each a small Vue template beside this file."""

from __future__ import annotations

import html
from collections.abc import Callable

import solara


@solara.component_vue("clickable_image.vue")
def ClickableImage(
    src: str,
    alt: str = "",
    css_class: str = "",
    clickable: bool = True,
    text_px: float = 0.0,
    drawn_for: str = "",
    event_clicked: Callable[[dict], None] | None = None,
):
    """An image that reports where it was clicked (for the city inspector).

    ``text_px`` (its smallest text in the image's own pixels) is kept as the
    ``data-text-px`` attribute, and the box size it was drawn for (``WIDTHxHEIGHT``) as
    ``data-drawn-for``, so the browser tests can measure the text as shown.
    """


@solara.component_vue("box_size.vue")
def BoxSize(
    name: str,
    css_class: str = "",
    children: list | None = None,
    event_resized: Callable[[dict], None] | None = None,
):
    """A box that reports its size to the server (the picture in it is drawn for that size)."""


@solara.component_vue("page_fixes.vue")
def PageFixes(
    lang: str = "en",
    drawer_open: bool = False,
    event_close_drawer: Callable[[dict], None] | None = None,
):
    """Sets the page's language and lets it zoom (Solara's template does neither).

    While the phone's drawer is open, keeps the keyboard focus in it; Escape calls
    ``event_close_drawer`` and returns focus to the drawer's button.
    """


@solara.component_vue("speed_slider.vue")
def SpeedSlider(
    value: int,
    min: int = 1,
    max: int = 20,
    event_changed: Callable[[int], None] | None = None,
):
    """A native range input labelled with its value ("Speed: 4 steps per second")."""


def progress_words(percent: float | None, total: int, what: str) -> str:
    """What a progress bar says: ``"4 of 10 runs of A and B done (40%)"``.

    Examples
    --------
    >>> progress_words(40.0, 10, "runs")
    '4 of 10 runs done (40%)'
    >>> progress_words(None, 10, "runs")
    'starting 10 runs...'
    """
    if percent is None or total <= 0:
        return f"starting {total} {what}..." if total > 0 else f"starting the {what}..."
    done = round(percent / 100.0 * total)
    return f"{done} of {total} {what} done ({percent:.0f}%)"


@solara.component
def ProgressText(percent: float | None, total: int, what: str):
    """A named progress bar with its count in words (a long comparison or demonstration)."""
    text = progress_words(percent, total, what)
    solara.ProgressLinear(True if percent is None else percent)
    solara.HTML(
        tag="p",
        unsafe_innerHTML=html.escape(text),
        classes=["ds-progress-text"],
        attributes={"role": "status", "aria-live": "polite"},
    )
