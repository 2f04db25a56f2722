"""Charts of runs (matplotlib, headless), and helpers every chart of the package shares.

Every chart says what a step is on its time axis (:func:`step_label`: the
scenario's ``run.step_unit``, e.g. "months since the start") and keeps its
legends off the data (:func:`legend_outside`); :func:`legend_overlaps`
checks the latter on a drawn figure (tests/test_charts.py).
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, Literal

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from diffusion_sim.mechanisms.registry import ADOPTION_CHANNELS, CHANNEL_COLOURS

FONT_SIZE = 11
"""Tick labels and legends; titles and axis labels one or two points larger."""


def step_label(unit: str | None = "step") -> str:
    """The time axis label for a scenario's ``run.step_unit``.

    Examples
    --------
    >>> step_label("month")
    'months since the start'
    >>> step_label("year")
    'years since the start'
    >>> step_label(None)
    'steps since the start'
    """
    unit = (unit or "step").strip() or "step"
    plural = unit if unit.endswith("s") else unit + "s"
    return f"{plural} since the start"


def legend_outside(
    ax: Any,
    where: Literal["right", "below"] = "right",
    handles: list | None = None,
    **kwargs: Any,
) -> Any:
    """A legend beside (right) or under (below) the axes, never over the data.

    With a constrained layout the figure makes room for it.
    """
    options: dict[str, Any] = {"frameon": False, "fontsize": FONT_SIZE}
    if where == "right":
        options.update(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    else:
        options.update(loc="upper center", bbox_to_anchor=(0.5, -0.2), borderaxespad=0.0)
    options.update(kwargs)
    if handles is not None:
        options["handles"] = handles
    return ax.legend(**options)


def legend_overlaps(figure: Any) -> list[str]:
    """Legends that cover plotted data: ``"<axes title>: <artist label>"`` for each, in display
    coordinates of the drawn figure (lines: their points; filled areas: their outlines)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not isinstance(figure.canvas, FigureCanvasAgg):  # a Figure made without pyplot
        FigureCanvasAgg(figure)
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    legends = [leg for ax in figure.axes if (leg := ax.get_legend()) is not None]
    legends += list(figure.legends)
    found = []
    for legend in legends:
        box = legend.get_window_extent(renderer)
        for ax in figure.axes:
            for artist in [*ax.lines, *ax.collections]:
                paths = (
                    [artist.get_xydata()]
                    if hasattr(artist, "get_xydata")
                    else [p.vertices for p in artist.get_paths()]
                )
                for xy in paths:
                    xy = np.asarray(xy, dtype=float)
                    if xy.size == 0:
                        continue
                    points = _densify(ax.transData.transform(xy[np.isfinite(xy).all(axis=1)]))
                    inside = (
                        (points[:, 0] > box.x0)
                        & (points[:, 0] < box.x1)
                        & (points[:, 1] > box.y0)
                        & (points[:, 1] < box.y1)
                    )
                    if inside.any():
                        found.append(f"{ax.get_title()}: {artist.get_label()}")
                        break
    return found


def _densify(points: np.ndarray, spacing: float = 2.0) -> np.ndarray:
    """Points along a polyline in display coordinates, at most ``spacing`` pixels apart."""
    if len(points) < 2:
        return points
    parts = [points[:1]]
    for a, b in itertools.pairwise(points):
        n = max(int(np.ceil(np.hypot(*(b - a)) / spacing)), 1)
        parts.append(a + (b - a) * (np.arange(1, n + 1) / n)[:, None])
    return np.vstack(parts)


def plot_channels(
    timeseries: pd.DataFrame, path: str | Path, title: str = "", step_unit: str | None = None
) -> Path:
    """Cumulative adoptions stacked by channel and adopters now; reach on the right.

    Where cities dropped the policy (abandonment, preemption) the stack of
    adoptions rises above the adopters now; the gap is shaded and labelled.
    ``step_unit`` is the scenario's ``run.step_unit`` (default: the
    timeseries' ``attrs["step_unit"]``, else "step").
    """
    unit = step_unit or timeseries.attrs.get("step_unit") or "step"
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8), layout="constrained")
    steps = timeseries["step"].to_numpy()
    cumulative = [timeseries[f"new_{c}"].cumsum().to_numpy() for c in ADOPTION_CHANNELS]
    left.stackplot(
        steps,
        cumulative,
        labels=[f"adopted through {c}" for c in ADOPTION_CHANNELS],
        colors=[CHANNEL_COLOURS[c] for c in ADOPTION_CHANNELS],
        alpha=0.85,
    )
    now = timeseries["adopters"].to_numpy()
    total = np.sum(cumulative, axis=0)
    left.plot(steps, now, color="black", lw=1.6, label="adopters now")
    dropped = total - now
    if len(dropped) and dropped.max() > 0:
        left.fill_between(
            steps,
            now,
            total,
            facecolor="none",
            edgecolor="#333333",
            hatch="///",
            lw=0,
            label="dropped since (abandonment, preemption)",
        )
        end = int(dropped[-1])
        left.annotate(
            f"{end:,} dropped the policy",
            xy=(steps[-1], (now[-1] + total[-1]) / 2),
            xytext=(-8, 0),
            textcoords="offset points",
            ha="right",
            va="center",
            fontsize=FONT_SIZE,
            bbox={"boxstyle": "round", "fc": "white", "ec": "#333333", "alpha": 0.9},
        )
    left.set_xlabel(step_label(unit), fontsize=FONT_SIZE + 1)
    left.set_ylabel("cities", fontsize=FONT_SIZE + 1)
    left.set_title("adoptions by channel (cumulative) and adopters now", fontsize=FONT_SIZE + 2)
    legend_outside(left, "below", ncol=2)
    for column, label in (
        ("share_cities", "cities"),
        ("share_population", "population"),
        ("share_leaders", "leaders"),
        ("share_followers", "followers"),
        ("share_laggards", "laggards"),
    ):
        style = "-" if column in ("share_cities", "share_population") else ":"
        right.plot(steps, timeseries[column], style, lw=2.0, label=label)
    right.set_xlabel(step_label(unit), fontsize=FONT_SIZE + 1)
    right.set_ylabel("share adopted", fontsize=FONT_SIZE + 1)
    right.set_ylim(0, 1.02)
    right.set_title("reach: share adopted now", fontsize=FONT_SIZE + 2)
    legend_outside(right, "right")
    for ax in (left, right):
        ax.tick_params(labelsize=FONT_SIZE)
    if title:
        fig.suptitle(title, fontsize=FONT_SIZE + 3)
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_band(
    band: pd.DataFrame, path: str | Path, title: str = "", step_unit: str | None = None
) -> Path:
    """Mean share of cities adopted with its 5-95% band over replicates."""
    unit = step_unit or band.attrs.get("step_unit") or "step"
    fig, ax = plt.subplots(figsize=(9, 4.5), layout="constrained")
    for column, label in (("share_cities", "cities"), ("share_population", "population")):
        ax.plot(band["step"], band[f"{column}_mean"], lw=2.0, label=f"{label} (mean)")
        ax.fill_between(
            band["step"],
            band[f"{column}_p5"],
            band[f"{column}_p95"],
            alpha=0.25,
            label=f"{label} (5-95% of replicates)",
        )
    ax.set_xlabel(step_label(unit), fontsize=FONT_SIZE + 1)
    ax.set_ylabel("share adopted", fontsize=FONT_SIZE + 1)
    ax.set_ylim(0, 1.02)
    ax.set_title(title or "ensemble", fontsize=FONT_SIZE + 2)
    ax.tick_params(labelsize=FONT_SIZE)
    legend_outside(ax, "right")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)
