"""Figures drawn afresh on demand (the comparison and the Learn tab's demonstration).

Unlike the map and the curves (:mod:`diffusion_sim.app.views`), which are
redrawn every step and keep their figure, these are made once per click.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba_array
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from diffusion_sim.app.layout import Look, legend_under
from diffusion_sim.app.views import (
    CHANNEL_COLOURS,
    LADDER_MARKERS,
    NOT_ADOPTED,
    city_colours,
    marker_sizes,
)
from diffusion_sim.mechanisms.embedded import ADOPTION_CHANNELS
from diffusion_sim.record.plotting import step_label
from diffusion_sim.world import LADDER_NAMES, World


def compare_figure(
    bands: dict[str, pd.DataFrame],
    column: str = "share_cities",
    unit: str = "step",
    look: Look | None = None,
) -> Figure:
    """Mean and 5-95% band of each setting, side by side on one axis per measure.

    With a ``look`` (the page's), drawn for that width and text size (presenter mode).
    """
    look = look or Look(1100, 400, 11.0 * 110 / 100)
    figure = Figure(figsize=look.figsize, dpi=look.dpi, layout="constrained")
    text = look.points()
    axes = figure.subplots(*((2, 1) if look.narrow else (1, 2)))
    for ax, measure, title in zip(
        axes, (column, "share_population"), ("share of cities", "share of population"), strict=True
    ):
        for (label, band), colour in zip(
            bands.items(), ("#0072b2", "#d55e00", "#009e73"), strict=False
        ):
            ax.plot(band["step"], band[f"{measure}_mean"], color=colour, label=label)
            ax.fill_between(
                band["step"], band[f"{measure}_p5"], band[f"{measure}_p95"], color=colour, alpha=0.2
            )
        ax.set_ylim(0, 1.02)
        ax.set_xlabel(step_label(unit), fontsize=text)
        ax.set_ylabel("share adopted", fontsize=text)
        ax.tick_params(labelsize=text)
        ax.locator_params(nbins=4 if look.text_px > 16 else 6)
        gap = "\n" if look.text_px > 16 else " "  # large text: the title on two lines
        ax.set_title(f"{title}{gap}(mean, 5-95%)", fontsize=look.points(1.1))
    figure.legend(
        handles=axes[-1].get_legend_handles_labels()[0],
        loc="outside lower center",
        ncol=2,
        fontsize=text,
        frameon=False,
    )
    return figure


DEMO_NOTEBOOK_LOOK = Look(1000, 760, 12.0)
"""The look of the demonstration outside the page (notebooks)."""


def demonstration_figure(
    panels: dict[str, dict[str, Any]], world: World, xy: np.ndarray, look: Look | None = None
) -> Figure:
    """One panel per type of upscaling on the same world and seed, cities marked by ladder rung.

    Each panel dict has ``adopted`` and ``channel`` arrays. Marker shape is the
    city's rung (triangle leader, circle follower, square laggard); colour the
    channel that brought the policy (grey: not adopted). Drawn for ``look`` (the
    box it is shown in): two panels a row, one on a narrow box (a phone); text,
    titles wrapped to the panel's width, and markers sized from the look's text.
    """
    look = look or DEMO_NOTEBOOK_LOOK
    figure = Figure(figsize=look.figsize, dpi=look.dpi, layout="constrained")
    FigureCanvasAgg(figure)
    columns = 1 if look.width < 560 else 2
    axes = figure.subplots(4 // columns, columns).ravel()
    text, title_size = look.points(), look.points(1.1)
    # The smallest city's marker is about the text's height, the largest 1.7 times it.
    sizes = marker_sizes(
        world.population, largest=look.points(1.7) ** 2, smallest=look.points() ** 2
    )
    panel_px = look.width / columns
    for ax, (title, panel) in zip(axes, panels.items(), strict=False):
        colours = city_colours("channel", panel["adopted"], panel["channel"], world.ladder)
        colours[~panel["adopted"]] = to_rgba_array([NOT_ADOPTED])[0]
        for code, rung in enumerate(LADDER_NAMES):
            mask = world.ladder == code
            ax.scatter(
                xy[mask, 0],
                xy[mask, 1],
                s=sizes[mask],
                c=colours[mask],
                marker=LADDER_MARKERS[rung],
                edgecolors="#444444",
                linewidths=0.6,
                label=rung,
            )
        reach = [
            f"{rung}s {panel['adopted'][world.ladder == code].mean():.0%}"
            if (world.ladder == code).any()
            else f"{rung}s -"
            for code, rung in enumerate(LADDER_NAMES)
        ]
        lines = wrapped([title, *reach], panel_px, look.text_px * 1.1)
        ax.set_title("\n".join(lines), fontsize=title_size)
        ax.set_axis_off()
        ax.margins(0.08)
    shapes = [
        Line2D([], [], marker=LADDER_MARKERS[r], linestyle="", color="#999999", label=r)
        for r in LADDER_NAMES
    ]
    colours = [
        Line2D([], [], marker="o", linestyle="", color=CHANNEL_COLOURS[c], label=c)
        for c in ADOPTION_CHANNELS
    ]
    for handle in shapes + colours:
        handle.set_markersize(text)
    legend_under(figure, shapes + colours, text, 7)
    return figure


def wrapped(parts: list[str], width_px: float, text_px: float) -> list[str]:
    """The first part on its own line, the others joined by commas in lines that fit ``width_px``.

    A character is taken as 0.6 of the text's size wide (generous for DejaVu Sans).

    Examples
    --------
    >>> wrapped(["Horizontal", "leaders 50%", "followers 30%", "laggards 10%"], 400, 20)
    ['Horizontal', 'leaders 50%, followers 30%,', 'laggards 10%']
    """
    fits = max(int(0.9 * width_px / (0.6 * text_px)), 8)
    lines, line = [parts[0]], ""
    for part in parts[1:]:
        candidate = f"{line} {part}," if line else f"{part},"
        if line and len(candidate) > fits:
            lines.append(line)
            candidate = f"{part},"
        line = candidate
    return [*lines, line.rstrip(",")] if line else lines
