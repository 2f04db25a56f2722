"""Outcomes researchers ask of a run, as one flat dict of numbers.

Definitions (docs/ODD.md, "Observation"):

- ``share_cities``, ``share_population``: adopters at the last step, over all
  cities / all inhabitants.
- ``time_to_10pct`` / ``50pct`` / ``90pct``: first step at which the share of
  cities reaches 10/50/90% (NaN if never).
- ``share_small`` / ``medium`` / ``large`` / ``mega``: share adopted within each
  size class (under 100k, 100k-1M, 1M-10M, 10M and over: the UN's megacity bar).
- ``share_leaders`` / ``followers`` / ``laggards``: share adopted on each rung
  of Kern's ladder.
- ``country_gini``: Gini coefficient of the share adopted across countries (0:
  even spread; 1: all in one country).
- ``governments_<level>``: governments of that level that have the policy.
- ``adopters_<channel>``: adopters at the end by the channel that brought them.
- ``leapfrogging``: adopters at the end under a hostile national government
  (cities acting against their nation, like the US Climate Mayors in 2017).
- ``abandonments``, ``preemptions``: drops over the run by channel.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from diffusion_sim.mechanisms.embedded import ADOPTION_CHANNELS
from diffusion_sim.scenario import LEVELS

SIZE_CLASSES = (
    ("small", 0, 100_000),
    ("medium", 100_000, 1_000_000),
    ("large", 1_000_000, 10_000_000),
    ("mega", 10_000_000, np.inf),
)


def size_class(population: np.ndarray) -> np.ndarray:
    """The size class name of each city."""
    labels = np.empty(len(population), dtype=object)
    for name, low, high in SIZE_CLASSES:
        labels[(population >= low) & (population < high)] = name
    return labels


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 when all are equal or all zero)."""
    values = np.sort(np.asarray(values, dtype=np.float64))
    n = len(values)
    if n == 0 or values.sum() == 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float((2 * (ranks * values).sum()) / (n * values.sum()) - (n + 1) / n)


def time_to(share: pd.Series, level: float) -> float:
    hits = np.flatnonzero(share.to_numpy() >= level)
    return float(hits[0]) if len(hits) else float("nan")


OUTCOME_NAMES = (
    "share_cities",
    "share_population",
    "time_to_10pct",
    "time_to_50pct",
    "time_to_90pct",
    *(f"share_{name}" for name, _, _ in SIZE_CLASSES),
    "share_leaders",
    "share_followers",
    "share_laggards",
    "country_gini",
    *(f"governments_{level}" for level in LEVELS),
    *(f"adopters_{channel}" for channel in ADOPTION_CHANNELS),
    "leapfrogging",
    "abandonments",
    "preemptions",
)
"""Every outcome :func:`outcomes` returns, in order."""


def outcomes(result) -> dict[str, float]:
    """All outcomes of one run (see the module docstring for definitions)."""
    ts, cities, gov = result.timeseries, result.cities, result.governments
    last = ts.iloc[-1]
    adopted = cities["adopted"].to_numpy()
    out: dict[str, float] = {
        "share_cities": float(last["share_cities"]),
        "share_population": float(last["share_population"]),
        "time_to_10pct": time_to(ts["share_cities"], 0.1),
        "time_to_50pct": time_to(ts["share_cities"], 0.5),
        "time_to_90pct": time_to(ts["share_cities"], 0.9),
    }
    classes = size_class(cities["population"].to_numpy())
    for name, _, _ in SIZE_CLASSES:
        members = classes == name
        out[f"share_{name}"] = float(adopted[members].mean()) if members.any() else float("nan")
    for rung in ("leader", "follower", "laggard"):
        out[f"share_{rung}s"] = float(last[f"share_{rung}s"])
    by_country = cities.groupby("country", observed=True)["adopted"].mean()
    out["country_gini"] = gini(by_country.to_numpy()) if len(by_country) > 1 else 0.0
    for level in LEVELS:
        rows = gov["level"] == level
        out[f"governments_{level}"] = float(gov.loc[rows, "adopted"].sum()) if rows.any() else 0.0
    channels = cities.loc[adopted, "channel"].astype(str).value_counts()
    for channel in ADOPTION_CHANNELS:
        out[f"adopters_{channel}"] = float(channels.get(channel, 0))
    hostile_nations = set(
        gov.loc[(gov["level"] == "nation") & (gov["stance"] == "hostile"), "name"]
    )
    if "nation_government" in cities and hostile_nations:
        out["leapfrogging"] = float(
            (adopted & cities["nation_government"].isin(hostile_nations)).sum()
        )
    else:
        out["leapfrogging"] = 0.0
    out["abandonments"] = float(ts["drop_abandonment"].sum())
    out["preemptions"] = float(ts["drop_preemption"].sum())
    return out
