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
- ``carried_<layer>``: for each tie layer of the world (proximity, twinning,
  each network), the share of the run's horizontal adoptions whose source tie
  it carried (:mod:`diffusion_sim.provenance`; NaN without horizontal adoptions).
  These follow the fixed outcomes, named after the world's layers.

Two forms of the same definitions: :func:`outcomes` reads a result's tables (a
run saved and loaded), :func:`outcomes_from_events` reads its change events (a
sweep's run, no tables built). ``tests/test_sweep_runner.py`` checks that they
agree bit for bit over scenarios and both engines.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from diffusion_sim import provenance
from diffusion_sim.mechanisms.embedded import ADOPTION_CHANNELS, CHANNELS
from diffusion_sim.scenario import LEVELS
from diffusion_sim.tables import GOV_CHANGES, STANCES, final_state
from diffusion_sim.trajectory import ADOPT
from diffusion_sim.world import LADDER_NAMES, SIZE_CLASSES


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
"""The outcomes every run has, in order (``carried_<layer>`` follow, per world)."""


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
    events = result.events
    horizontal = (events["kind"] == "adopt") & (events["channel"] == "horizontal")
    layer = events["source_layer"]
    return out | carried(layer.cat.codes.to_numpy(), list(layer.cat.categories), horizontal.sum())


def carried(layer: np.ndarray, names: list[str], horizontal_adoptions: int) -> dict[str, float]:
    """``carried_<layer>``: each layer's share of the horizontal adoptions (codes into names)."""
    counts = np.bincount(layer[layer >= 0], minlength=len(names))
    total = float(horizontal_adoptions)
    return {
        f"carried_{name}": float(count) / total if total else float("nan")
        for name, count in zip(names, counts, strict=True)
    }


@dataclass
class WorldFacts:
    """What the outcomes read of a world, computed once per world."""

    n: int
    population: np.ndarray
    population_total: float
    ladder: np.ndarray
    rung_sizes: list[int]
    size_members: list[np.ndarray]
    country_group: np.ndarray
    country_sizes: np.ndarray

    @classmethod
    def of(cls, world) -> WorldFacts:
        population = world.population.astype(np.float64)
        classes = size_class(world.cities_frame()["population"].to_numpy())
        # results.py groups cities by country *name* ('' for none): so do we.
        names = np.asarray((*world.country_names, ""), dtype=object)[world.country]
        _, group = np.unique(names.astype(str), return_inverse=True)
        return cls(
            n=world.n_cities,
            population=population,
            population_total=max(population.sum(), 1.0),
            ladder=world.ladder,
            rung_sizes=[int((world.ladder == code).sum()) for code in range(len(LADDER_NAMES))],
            size_members=[classes == name for name, _, _ in SIZE_CLASSES],
            country_group=group,
            country_sizes=np.bincount(group),
        )


def outcomes_from_events(setup, trajectory, facts: WorldFacts | None = None) -> dict[str, float]:
    """:func:`outcomes` of a run straight from its change events, without building tables.

    For sweeps and calibration, which keep a few numbers per run; ``facts`` (what
    the outcomes read of the world) can be kept across runs on one world.

    The same numpy operations as ``results.build_result`` on the same arrays, so
    every number is bit for bit the one the tables give.
    """
    facts = facts if facts is not None else WorldFacts.of(setup.world)
    n, bins = facts.n, trajectory.steps + 1
    city = trajectory.city
    sign = trajectory.city_change.astype(np.int64)
    step = trajectory.city_step.astype(np.int64)
    adopters = np.cumsum(np.bincount(step, weights=sign, minlength=bins))
    share_cities = adopters / n
    pop_adopted = np.cumsum(
        np.bincount(step, weights=sign * facts.population[city], minlength=bins)
    )
    share_population = pop_adopted / facts.population_total

    def time_to(level: float) -> float:
        hits = np.flatnonzero(share_cities >= level)
        return float(hits[0]) if len(hits) else float("nan")

    out: dict[str, float] = {
        "share_cities": float(share_cities[-1]),
        "share_population": float(share_population[-1]),
        "time_to_10pct": time_to(0.1),
        "time_to_50pct": time_to(0.5),
        "time_to_90pct": time_to(0.9),
    }
    adopted, final_channel, _ = final_state(trajectory, n)
    for (name, _, _), members in zip(SIZE_CLASSES, facts.size_members, strict=True):
        out[f"share_{name}"] = float(adopted[members].mean()) if members.any() else float("nan")
    rung = facts.ladder[city]
    for code, name in enumerate(LADDER_NAMES):
        size = facts.rung_sizes[code]
        inside = rung == code
        count = np.cumsum(np.bincount(step[inside], weights=sign[inside], minlength=bins))
        out[f"share_{name}s"] = float(count[-1] / size) if size else float("nan")
    means = np.bincount(facts.country_group, weights=adopted) / facts.country_sizes
    out["country_gini"] = gini(means) if len(means) > 1 else 0.0

    stance = setup.gov_stance0.astype(np.int64).copy()
    gov_adopted = np.zeros(setup.n_governments, dtype=bool)
    for g, change, value in zip(
        trajectory.gov.tolist(),
        trajectory.gov_change.tolist(),
        trajectory.gov_value.tolist(),
        strict=True,
    ):
        kind = GOV_CHANGES[change]
        if kind == "stance":
            stance[g] = value
        else:
            gov_adopted[g] = kind == "adopt"
    for code, level in enumerate(LEVELS):
        rows = setup.gov_level == code
        out[f"governments_{level}"] = float(gov_adopted[rows].sum()) if rows.any() else 0.0
    channels = np.bincount(final_channel[adopted], minlength=len(CHANNELS) + 1)
    for channel in ADOPTION_CHANNELS:
        out[f"adopters_{channel}"] = float(channels[CHANNELS.index(channel)])
    out["leapfrogging"] = _leapfrogging(setup, stance, adopted)
    exits = np.bincount(trajectory.city_channel.astype(np.int64), minlength=len(CHANNELS))
    out["abandonments"] = float(exits[CHANNELS.index("abandonment")])
    out["preemptions"] = float(exits[CHANNELS.index("preemption")])
    horizontal = (trajectory.city_change == ADOPT) & (
        trajectory.city_channel == CHANNELS.index("horizontal")
    )
    layers = provenance.adoption_layers(setup, trajectory)
    fixed = {name: out[name] for name in OUTCOME_NAMES}
    return fixed | carried(layers, setup.layer_names(), int(horizontal.sum()))


def _leapfrogging(setup, stance: np.ndarray, adopted: np.ndarray) -> float:
    """Adopters under a nation whose (final) stance is hostile, matched by name as results do."""
    nation = LEVELS.index("nation")
    levels = sorted(set(setup.gov_level.tolist()))
    names = np.asarray((*setup.gov_names, ""), dtype=object)
    hostile = {
        names[g]
        for g in range(setup.n_governments)
        if setup.gov_level[g] == nation and STANCES[int(stance[g])] == "hostile"
    }
    if nation not in levels or not hostile:
        return 0.0
    row = setup.city_gov[levels.index(nation)]
    under_hostile = np.array([name in hostile for name in names])[row]
    return float((adopted & under_hostile).sum())
