"""Charts of runs (matplotlib, headless), and helpers every chart of the package shares.

Every chart says what a step is on its time axis (:func:`time_axis`: the
scenario's ``run.step_unit``, e.g. "months since the start", or dates from
``run.start`` when the scenario has one) and keeps its legends off the data
(:func:`legend_outside`); :func:`legend_overlaps` checks the latter on a drawn
figure (tests/test_charts.py).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
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


DATE_FORMATS = {"day": "%Y-%m-%d", "week": "%Y-%m-%d", "month": "%Y-%m", "quarter": "%Y-%m"}
"""How a tick's date is written, by step unit (years: "%Y", or "%Y-%m" off January)."""

TICK_STEPS = {
    "day": (1, 7, 14, 30, 91, 182, 365, 730, 1826, 3652),
    "week": (1, 2, 4, 13, 26, 52, 104, 260, 520),
    "month": (1, 2, 3, 6, 12, 24, 60, 120, 240, 600),
    "quarter": (1, 2, 4, 8, 20, 40, 80),
    "year": (1, 2, 5, 10, 20, 50, 100, 200, 500),
}
"""Tick spacings in steps that fall on round stretches of time (a week, a quarter, a year)."""

MAX_DATE_TICKS = 7


def calendar_unit(unit: str | None) -> str | None:
    """'month' for "month" or "months"; None for a unit that is not a stretch of the calendar."""
    word = (unit or "").strip().lower().rstrip("s")
    return word if word in TICK_STEPS else None


def step_date(step: float, unit: str, start: str) -> pd.Timestamp:
    """The date of step ``step``: ``start`` plus ``step`` times the step unit."""
    word = calendar_unit(unit)
    if word is None:
        raise ValueError(f"dates need a calendar step unit (day ... year), got {unit!r}")
    k = round(float(step))
    offset = {
        "day": pd.DateOffset(days=k),
        "week": pd.DateOffset(weeks=k),
        "month": pd.DateOffset(months=k),
        "quarter": pd.DateOffset(months=3 * k),
        "year": pd.DateOffset(years=k),
    }[word]
    return pd.Timestamp(start) + offset


def time_axis(
    ax: Any, unit: str | None, start: str | None = None, last_step: float | None = None
) -> None:
    """Label the x axis of steps: dates from ``start`` if given, else the unit since the start.

    The data stay in steps (what every table holds); only the ticks are written as
    dates, spaced on round stretches of time (every 12 months, 5 years ...).
    ``last_step`` (default: the axis' upper limit) sets the spacing.
    """
    word = calendar_unit(unit)
    if start is None or word is None:
        ax.set_xlabel(step_label(unit), fontsize=FONT_SIZE + 1)
        return
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    span = last_step if last_step is not None else ax.get_xlim()[1]
    spacing = next(
        (k for k in TICK_STEPS[word] if span / k <= MAX_DATE_TICKS), TICK_STEPS[word][-1]
    )
    if word == "year":
        shape = "%Y" if pd.Timestamp(start).month == 1 else "%Y-%m"
    else:
        shape = DATE_FORMATS[word]

    def label(x: float, _pos: Any) -> str:
        return step_date(x, word, start).strftime(shape) if x >= 0 else ""

    ax.xaxis.set_major_locator(MultipleLocator(spacing))
    ax.xaxis.set_major_formatter(FuncFormatter(label))
    ax.set_xlabel(f"date (1 step = 1 {word}; step 0 = {start})", fontsize=FONT_SIZE + 1)


def chart_labels(manifest: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """What a saved run's chart is labelled with, from its manifest: the scenario's name,
    its ``run.step_unit`` (month, year ...) and its ``run.start`` (a date), if recorded."""
    run = manifest.get("scenario", {}).get("run", {})
    return manifest.get("scenario_name", ""), run.get("step_unit"), run.get("start")


def event_marks(scenario: dict[str, Any]) -> list[tuple[int, str]]:
    """(step, kinds) of a resolved scenario's events, one per step, in time order."""
    steps: dict[int, list[str]] = {}
    for event in scenario.get("events", []) or []:
        kinds = steps.setdefault(int(event["step"]), [])
        if event["kind"] not in kinds:
            kinds.append(event["kind"])
    return [(step, ", ".join(kinds)) for step, kinds in sorted(steps.items())]


def mark_events(ax: Any, marks: Sequence[tuple[int, str]], label: bool = True) -> None:
    """A dashed vertical line at each event's step; its kinds written along it."""
    for step, kinds in marks:
        ax.axvline(step, color="#555555", ls="--", lw=1.0, zorder=0)
        if label:
            ax.annotate(
                kinds.replace("_", " "),
                xy=(step, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(3, -3),
                textcoords="offset points",
                rotation=90,
                ha="left",
                va="top",
                fontsize=FONT_SIZE - 2,
                color="#333333",
            )


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
    timeseries: pd.DataFrame,
    path: str | Path,
    title: str = "",
    step_unit: str | None = None,
    start: str | None = None,
    *,
    marks: Sequence[tuple[int, str]] = (),
    figsize: tuple[float, float] | None = None,
) -> Path:
    """Cumulative adoptions stacked by channel and adopters now; reach on the right.

    Where cities dropped the policy (abandonment, preemption) the stack of
    adoptions rises above the adopters now; the gap is shaded and labelled.
    ``step_unit`` is the scenario's ``run.step_unit`` (default: the
    timeseries' ``attrs["step_unit"]``, else "step"); ``start`` its ``run.start``
    (default: ``attrs["start"]``), which writes the time axis as dates. ``marks``
    (:func:`event_marks`) are drawn as dashed lines; the file's suffix is its format.
    """
    unit = step_unit or timeseries.attrs.get("step_unit") or "step"
    start = start or timeseries.attrs.get("start")
    fig, (left, right) = plt.subplots(1, 2, figsize=figsize or (13, 4.8), layout="constrained")
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
    right.set_ylabel("share adopted", fontsize=FONT_SIZE + 1)
    right.set_ylim(0, 1.02)
    right.set_title("reach: share adopted now", fontsize=FONT_SIZE + 2)
    legend_outside(right, "right")
    for ax in (left, right):
        mark_events(ax, marks, label=ax is right)
        time_axis(ax, unit, start, float(steps[-1]) if len(steps) else None)
        ax.tick_params(labelsize=FONT_SIZE)
    if title:
        fig.suptitle(title, fontsize=FONT_SIZE + 3)
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_band(
    band: pd.DataFrame,
    path: str | Path,
    title: str = "",
    step_unit: str | None = None,
    start: str | None = None,
    *,
    marks: Sequence[tuple[int, str]] = (),
    figsize: tuple[float, float] | None = None,
) -> Path:
    """Mean share of cities adopted with its 5-95% band over replicates.

    ``step_unit``, ``start``, ``marks`` and ``figsize`` as in :func:`plot_channels`.
    """
    unit = step_unit or band.attrs.get("step_unit") or "step"
    start = start or band.attrs.get("start")
    fig, ax = plt.subplots(figsize=figsize or (9, 4.5), layout="constrained")
    for column, label in (("share_cities", "cities"), ("share_population", "population")):
        ax.plot(band["step"], band[f"{column}_mean"], lw=2.0, label=f"{label} (mean)")
        ax.fill_between(
            band["step"],
            band[f"{column}_p5"],
            band[f"{column}_p95"],
            alpha=0.25,
            label=f"{label} (5-95% of replicates)",
        )
    mark_events(ax, marks)
    time_axis(ax, unit, start, float(band["step"].max()) if len(band) else None)
    ax.set_ylabel("share adopted", fontsize=FONT_SIZE + 1)
    ax.set_ylim(0, 1.02)
    ax.set_title(title or "ensemble", fontsize=FONT_SIZE + 2)
    ax.tick_params(labelsize=FONT_SIZE)
    legend_outside(ax, "right")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)
