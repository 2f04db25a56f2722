"""Figures of a sweep's analysis: sensitivity indices, main effects, PRIM trade-offs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from diffusion_sim.record.outcomes import kind_of
from diffusion_sim.studies.sweep.data import SweepData, censored

MAX_MAIN_EFFECT_FIGURES = 8


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:60] or "question"


def plot_indices(indices: pd.DataFrame, path: Path) -> Path:
    """A heat map per index (outcomes x parameters): which parameters matter for what."""
    from matplotlib.figure import Figure

    measures = ["S1", "ST"] if "ST" in indices else ["mu_star", "sigma"]
    params = list(dict.fromkeys(indices["parameter"]))
    outs = list(dict.fromkeys(indices["outcome"]))
    fig = Figure(
        figsize=(2.0 + 1.1 * len(params) * len(measures), 1.2 + 0.35 * len(outs)),
        layout="constrained",
    )
    axes = fig.subplots(1, len(measures), squeeze=False)[0]
    for ax, measure in zip(axes, measures, strict=True):
        grid = indices.pivot(index="outcome", columns="parameter", values=measure)
        grid = grid.loc[outs, params]
        values = grid.to_numpy(dtype=float)
        if measure in ("S1", "ST"):
            image = ax.imshow(values, vmin=0, vmax=1, cmap="viridis", aspect="auto")
        else:
            image = ax.imshow(values, cmap="viridis", aspect="auto")
        for (i, j), value in np.ndenumerate(values):
            shade = "k" if value > 0.6 * np.nanmax(values) else "w"
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7, color=shade)
        ax.set_xticks(range(len(params)), params, rotation=30, ha="right", fontsize=8)
        ax.set_yticks(range(len(outs)), outs, fontsize=8)
        ax.set_title(measure)
        fig.colorbar(image, ax=ax, shrink=0.8)
    fig.savefig(path, dpi=110)
    return path


def plot_main_effects(data: SweepData, outcome: str, path: Path) -> Path:
    """The outcome's mean (and 5-95% band) across each parameter, one panel per parameter."""
    from matplotlib.figure import Figure

    ok = censored(data, data.ok)
    params = data.plan["parameters"]
    ncols = min(4, len(params))
    nrows = -(-len(params) // ncols)
    fig = Figure(figsize=(3.2 * ncols, 2.6 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, p in zip(axes, params, strict=False):
        column = ok[p["column"]]
        y = ok[outcome].astype(float)
        if p["kind"] == "values" or column.nunique() <= 10:
            groups = y.groupby(column.astype(str), sort=True)
            labels = list(groups.groups)
            stats = groups.agg(["mean", lambda s: s.quantile(0.05), lambda s: s.quantile(0.95)])
            stats.columns = ["mean", "lo", "hi"]
            pos = np.arange(len(labels))
            ax.errorbar(
                pos,
                stats["mean"],
                yerr=[stats["mean"] - stats["lo"], stats["hi"] - stats["mean"]],
                fmt="o",
                capsize=3,
            )
            ax.set_xticks(pos, labels, fontsize=8)
        else:
            bins = pd.qcut(column.astype(float), q=min(10, column.nunique()), duplicates="drop")
            grouped = pd.DataFrame({"x": column.astype(float), "y": y}).groupby(bins, observed=True)
            stats = grouped.agg(
                x=("x", "mean"),
                mean=("y", "mean"),
                lo=("y", lambda s: s.quantile(0.05)),
                hi=("y", lambda s: s.quantile(0.95)),
            )
            ax.scatter(column.astype(float), y, s=4, alpha=0.25, color="grey")
            ax.fill_between(stats["x"], stats["lo"], stats["hi"], alpha=0.25)
            ax.plot(stats["x"], stats["mean"], marker="o")
        ax.set_xlabel(p["column"], fontsize=8)
        ax.set_ylabel(outcome, fontsize=8)
    for ax in axes[len(params) :]:
        ax.set_visible(False)
    note = "; never reached = horizon + 1" if kind_of(outcome) == "time_to" else ""
    fig.suptitle(f"Main effects on {outcome} (mean and 5-95% of runs{note})", fontsize=10)
    fig.savefig(path, dpi=110)
    return path


# --------------------------------------------------------------------- PRIM


def plot_tradeoff(answer: dict[str, Any], path: Path) -> Path:
    """PRIM's peeling trajectory: coverage against density, the chosen box ringed."""
    from matplotlib.figure import Figure

    trajectory = answer["trajectory"]
    fig = Figure(figsize=(5, 4), layout="constrained")
    ax = fig.subplots()
    points = ax.scatter(
        trajectory["coverage"], trajectory["density"], c=trajectory["res_dim"], cmap="viridis"
    )
    chosen = trajectory.loc[answer["box"]]
    ax.scatter(
        [chosen["coverage"]], [chosen["density"]], s=160, facecolors="none", edgecolors="red"
    )
    ax.axhline(answer["threshold"], color="grey", linestyle=":")
    ax.set_xlabel("coverage (share of true runs inside the box)")
    ax.set_ylabel("density (share of the box's runs where true)")
    ax.set_title(answer["question"], fontsize=9)
    fig.colorbar(points, ax=ax, label="restricted parameters")
    fig.savefig(path, dpi=110)
    return path


# ------------------------------------------------------------------- report
