"""Charts a paper can use: scenarios (or one run) by ladder rung and by channel, events marked.

Every panel shares the time axis of :func:`diffusion_sim.record.plotting.time_axis`
(the scenario's step unit or dates) and marks the scenario's events on it: a
dashed line at each event's step, labelled with its kinds (:func:`event_marks`,
from the resolved scenario a manifest keeps). Files are written in the format
their name ends with (``.png``, ``.svg``, ``.pdf``) at the figure size asked.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from diffusion_sim.mechanisms.registry import ADOPTION_CHANNELS
from diffusion_sim.record.plotting import FONT_SIZE, event_marks, mark_events, time_axis
from diffusion_sim.world import LADDER_NAMES

FORMATS = ("png", "svg", "pdf")
"""Chart formats ``--format`` takes."""
COMPARE_SIZE = (13.0, 9.0)
"""Default size (inches) of a comparison chart."""


def figure_size(text: str) -> tuple[float, float]:
    """``"8,4.5"`` as (8.0, 4.5) inches; a clear ValueError otherwise."""
    parts = text.split(",")
    try:
        width, height = (float(p) for p in parts)
    except ValueError:
        width = height = float("nan")
    if not (1 <= width <= 50 and 1 <= height <= 50):
        raise ValueError(f"must be WIDTH,HEIGHT in inches (1-50 each), e.g. 8,4.5; got {text!r}")
    return width, height


def _panels() -> list[tuple[str, str, str]]:
    """(curve column, panel title, y label) of every panel, row by row."""
    panels = [
        ("share_cities", "all cities", "share adopted"),
        ("share_population", "population", "share adopted"),
    ]
    panels += [
        (f"share_{rung}s", f"{rung}s (Kern's ladder)", "share adopted") for rung in LADDER_NAMES
    ]
    panels += [(f"adopters_{c}", f"adopters through {c}", "cities") for c in ADOPTION_CHANNELS]
    return panels


def plot_comparison(
    curves: pd.DataFrame,
    labels: Sequence[str],
    path: str | Path,
    *,
    replicates: int,
    step_unit: str | None = None,
    start: str | None = None,
    marks: Sequence[tuple[int, str]] = (),
    figsize: tuple[float, float] | None = None,
    title: str | None = None,
) -> Path:
    """Scenarios' mean curves with the replicates' 5-95% band: overall, by rung, by channel."""
    panels = [p for p in _panels() if f"{p[0]}_mean" in curves]
    ncols = 4
    nrows = -(-len(panels) // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=figsize or COMPARE_SIZE, layout="constrained", squeeze=False
    )
    last = float(curves["step"].max()) if len(curves) else None
    handles = []
    for ax, (column, heading, ylabel) in zip(axes.ravel(), panels, strict=False):
        for label in labels:
            part = curves[curves["scenario"] == label]
            (line,) = ax.plot(part["step"], part[f"{column}_mean"], label=label, lw=1.6)
            ax.fill_between(
                part["step"], part[f"{column}_p5"], part[f"{column}_p95"],
                color=line.get_color(), alpha=0.18, lw=0,
            )  # fmt: skip
            if column == panels[0][0]:
                handles.append(line)
        if column.startswith("share_"):
            ax.set_ylim(0, 1.02)
        mark_events(ax, marks, label=column == panels[0][0])
        time_axis(ax, step_unit, start, last)
        ax.set_title(heading, fontsize=FONT_SIZE + 1)
        ax.set_ylabel(ylabel, fontsize=FONT_SIZE)
        ax.tick_params(labelsize=FONT_SIZE - 1)
    for ax in axes.ravel()[len(panels) :]:
        ax.set_visible(False)
    fig.legend(handles=handles, loc="outside right upper", frameon=False, fontsize=FONT_SIZE)
    fig.suptitle(
        (title or f"mean and 5-95% of {replicates} replicates per scenario")
        + ("; dashed: the scenarios' events" if marks else ""),
        fontsize=FONT_SIZE + 2,
    )
    path = Path(path)
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return path


def band_curves(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Per step: mean and 5th/95th percentile over replicates of ``columns`` (long input)."""
    grouped = frame.groupby("step")[list(columns)]
    band = pd.concat(
        {"mean": grouped.mean(), "p5": grouped.quantile(0.05), "p95": grouped.quantile(0.95)},
        axis=1,
    )
    band.columns = [f"{col}_{stat}" for stat, col in band.columns]
    return band.reset_index()


CURVE_COLUMNS = tuple(p[0] for p in _panels())
"""Timeseries columns a comparison keeps per step (mean and band)."""


def run_curves(timeseries: pd.DataFrame) -> pd.DataFrame:
    """A run's curves in a comparison's shape: one run's values (no band), or an
    ensemble's mean and 5-95% band when ``timeseries`` stacks replicates."""
    columns = [c for c in CURVE_COLUMNS if c in timeseries]
    if "replicate" in timeseries:
        return band_curves(timeseries, columns)
    curves = timeseries[["step"]].copy()
    for column in columns:
        for stat in ("mean", "p5", "p95"):
            curves[f"{column}_{stat}"] = timeseries[column].to_numpy()
    return curves


def plot_run(
    timeseries: pd.DataFrame,
    path: str | Path,
    manifest: dict[str, Any],
    figsize: tuple[float, float] | None = None,
) -> Path:
    """A run's (or an ensemble's) curves overall, by ladder rung and by channel, the
    scenario's events marked: the panels of :func:`plot_comparison` for one scenario."""
    scenario = manifest.get("scenario", {})
    name = manifest.get("scenario_name") or scenario.get("name", "")
    replicates = int(timeseries["replicate"].nunique()) if "replicate" in timeseries else 1
    curves = run_curves(timeseries).assign(scenario=name)
    title = (
        f"{name}: mean and 5-95% of {replicates} replicates"
        if replicates > 1
        else f"{name}: one run (seed {scenario.get('run', {}).get('seed', '?')})"
    )
    run = scenario.get("run", {})
    return plot_comparison(
        curves,
        [name],
        path,
        replicates=replicates,
        step_unit=run.get("step_unit"),
        start=run.get("start"),
        marks=event_marks(scenario),
        figsize=figsize,
        title=title,
    )


def plot_ensemble(
    timeseries: pd.DataFrame,
    band: pd.DataFrame,
    manifest: dict[str, Any],
    figsize: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """An ensemble's charts by name, each a function of the path to write: ``band`` (the
    share adopted with its 5-95% band) and ``curves`` (by rung and channel), events marked."""
    from diffusion_sim.record.plotting import chart_labels, plot_band

    labels, marks = chart_labels(manifest), event_marks(manifest.get("scenario", {}))
    return {
        "band": lambda path: plot_band(band, path, *labels, marks=marks, figsize=figsize),
        "curves": lambda path: plot_run(timeseries, path, manifest, figsize),
    }
