"""The dashboard's own browser widgets, each a small Vue template beside this file."""

from __future__ import annotations

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
def PageFixes(lang: str = "en"):
    """Sets the page's language and lets it zoom (Solara's template does neither)."""


@solara.component_vue("speed_slider.vue")
def SpeedSlider(
    value: int,
    min: int = 1,
    max: int = 20,
    event_changed: Callable[[int], None] | None = None,
):
    """A native range input labelled with its value ("Speed: 4 steps per second")."""
