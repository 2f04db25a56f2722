"""Figures drawn afresh on demand (the comparison and the Learn tab's demonstration).

Unlike the map and the curves (:mod:`diffusion_sim.app.views`), which are
redrawn every step and keep their figure, these are made once per click.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from matplotlib.colors import to_rgba_array
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from diffusion_sim.app.layout import Look
from diffusion_sim.app.views import (
    CHANNEL_COLOURS,
    LADDER_MARKERS,
    NOT_ADOPTED,
    city_colours,
    marker_sizes,
)
from diffusion_sim.model.mechanisms.embedded import ADOPTION_CHANNELS
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


def demonstration_figure(panels: dict[str, dict[str, Any]], world: World, xy: np.ndarray) -> Figure:
    """One panel per type of upscaling on the same world and seed, cities marked by ladder rung.

    Each panel dict has ``adopted`` and ``channel`` arrays. Marker shape is the
    city's rung (triangle leader, circle follower, square laggard); colour the
    channel that brought the policy (grey: not adopted).
    """
    figure = Figure(figsize=(10.0, 7.6), dpi=100, layout="constrained")
    axes = figure.subplots(2, 2).ravel()
    sizes = marker_sizes(world.population, largest=200.0, smallest=25.0)
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
                linewidths=0.5,
                label=rung,
            )
        reach = " / ".join(
            f"{panel['adopted'][world.ladder == code].mean():.0%}"
            if (world.ladder == code).any()
            else "-"
            for code in range(len(LADDER_NAMES))
        )
        ax.set_title(f"{title}\nleaders / followers / laggards: {reach}", fontsize=12)
        ax.set_axis_off()
    shapes = [
        Line2D([], [], marker=LADDER_MARKERS[r], linestyle="", color="#999999", label=r)
        for r in LADDER_NAMES
    ]
    colours = [
        Line2D([], [], marker="o", linestyle="", color=CHANNEL_COLOURS[c], label=c)
        for c in ADOPTION_CHANNELS
    ]
    figure.legend(
        handles=shapes + colours, loc="outside lower center", ncol=7, fontsize=11, frameon=False
    )
    return figure
