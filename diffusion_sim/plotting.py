"""Charts of runs (matplotlib, headless)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from diffusion_sim.mechanisms.embedded import ADOPTION_CHANNELS

CHANNEL_COLOURS = {
    "innovation": "#e69f00",
    "horizontal": "#56b4e9",
    "vertical": "#009e73",
    "hierarchical": "#cc79a7",
}


def plot_channels(timeseries: pd.DataFrame, path: str | Path, title: str = "") -> Path:
    """Cumulative adoptions stacked by channel, with the share of population beside it."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    steps = timeseries["step"]
    cumulative = [timeseries[f"new_{c}"].cumsum() for c in ADOPTION_CHANNELS]
    left.stackplot(
        steps,
        cumulative,
        labels=ADOPTION_CHANNELS,
        colors=[CHANNEL_COLOURS[c] for c in ADOPTION_CHANNELS],
        alpha=0.85,
    )
    left.plot(steps, timeseries["adopters"], color="black", lw=1.2, label="adopters now")
    left.set(xlabel="step", ylabel="cities", title="adoptions by channel (cumulative)")
    left.legend(loc="upper left", fontsize=8)
    for column, label in (
        ("share_cities", "cities"),
        ("share_population", "population"),
        ("share_leaders", "leaders"),
        ("share_followers", "followers"),
        ("share_laggards", "laggards"),
    ):
        style = "-" if column in ("share_cities", "share_population") else ":"
        right.plot(steps, timeseries[column], style, label=label)
    right.set(xlabel="step", ylabel="share adopted", ylim=(0, 1.02), title="reach")
    right.legend(loc="upper left", fontsize=8)
    if title:
        fig.suptitle(title)
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_band(band: pd.DataFrame, path: str | Path, title: str = "") -> Path:
    """Mean share of cities adopted with its 5-95% band over replicates."""
    fig, ax = plt.subplots(figsize=(7, 4), constrained_layout=True)
    for column, label in (("share_cities", "cities"), ("share_population", "population")):
        ax.plot(band["step"], band[f"{column}_mean"], label=f"{label} (mean)")
        ax.fill_between(band["step"], band[f"{column}_p5"], band[f"{column}_p95"], alpha=0.25)
    ax.set(xlabel="step", ylabel="share adopted", ylim=(0, 1.02), title=title or "ensemble")
    ax.legend(loc="upper left")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)
