"""What the outcomes read of a run, built from its tables or from its change events.

:mod:`diffusion_sim.record.outcomes` defines each outcome once, as a function of an
:class:`Observed`; this module builds that view two ways: :func:`from_tables`
(a result saved and loaded) and :func:`from_events` (a sweep's run, no tables
built). Both use the same numpy operations on the same arrays as
:mod:`diffusion_sim.record.tables`, so every field is bit for bit the same
(``tests/test_sweep_runner.py``).

A window: :func:`truncated` keeps a run's events up to a step, so outcomes "at
step s" are the outcomes of the run as it stood at s (a test checks them against
the same run stopped at s).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from diffusion_sim.mechanisms.embedded import ADOPTION_CHANNELS, CHANNELS, EXIT_CHANNELS
from diffusion_sim.model import provenance
from diffusion_sim.model.trajectory import ADOPT, Trajectory
from diffusion_sim.record.tables import GOV_CHANGES, STANCES, final_state
from diffusion_sim.scenario import LEVELS
from diffusion_sim.world import LADDER_NAMES, SIZE_CLASSES


def size_class(population: np.ndarray) -> np.ndarray:
    """The size class name of each city."""
    labels = np.empty(len(population), dtype=object)
    for name, low, high in SIZE_CLASSES:
        labels[(population >= low) & (population < high)] = name
    return labels


@dataclass
class Observed:
    """One run as the outcomes see it (at its last step, or at a window's end)."""

    share_cities: np.ndarray
    """Per step: share of cities adopted."""
    share_population: np.ndarray
    """Per step: share of the population in adopting cities."""
    rung_shares: dict[str, float]
    """Per ladder rung ('leader' ...): share adopted at the end (NaN for an empty rung)."""
    adopted: np.ndarray
    """Per city: adopted at the end."""
    size_members: list[np.ndarray]
    """Per size class (in ``SIZE_CLASSES`` order): which cities are in it."""
    country_means: np.ndarray
    """Per country: share of its cities adopted."""
    governments: dict[str, float]
    """Per level: governments that have the policy at the end."""
    adopters: dict[str, float]
    """Per adoption channel: adopters at the end by the channel that brought them."""
    leapfrogging: float
    """Adopters at the end under a nation whose stance is hostile."""
    drops: dict[str, float]
    """Per exit channel: drops over the run."""
    carried: dict[str, float]
    """Per tie layer: its share of the run's horizontal adoptions (NaN without any)."""


def carried(layer: np.ndarray, names: list[str], horizontal_adoptions: int) -> dict[str, float]:
    """Each layer's share of the horizontal adoptions (``layer``: codes into ``names``)."""
    counts = np.bincount(layer[layer >= 0], minlength=len(names))
    total = float(horizontal_adoptions)
    return {
        name: float(count) / total if total else float("nan")
        for name, count in zip(names, counts, strict=True)
    }


def from_tables(result) -> Observed:
    """The view of a result's tables (its last step)."""
    ts, cities, gov = result.timeseries, result.cities, result.governments
    last = ts.iloc[-1]
    adopted = cities["adopted"].to_numpy()
    classes = size_class(cities["population"].to_numpy())
    by_country = cities.groupby("country", observed=True)["adopted"].mean()
    governments = {}
    for level in LEVELS:
        rows = gov["level"] == level
        governments[level] = float(gov.loc[rows, "adopted"].sum()) if rows.any() else 0.0
    channels = cities.loc[adopted, "channel"].astype(str).value_counts()
    hostile = set(gov.loc[(gov["level"] == "nation") & (gov["stance"] == "hostile"), "name"])
    leapfrogging = 0.0
    if "nation_government" in cities and hostile:
        leapfrogging = float((adopted & cities["nation_government"].isin(hostile)).sum())
    events = result.events
    horizontal = (events["kind"] == "adopt") & (events["channel"] == "horizontal")
    layer = events["source_layer"]
    return Observed(
        share_cities=ts["share_cities"].to_numpy(),
        share_population=ts["share_population"].to_numpy(),
        rung_shares={rung: float(last[f"share_{rung}s"]) for rung in LADDER_NAMES},
        adopted=adopted,
        size_members=[classes == name for name, _, _ in SIZE_CLASSES],
        country_means=by_country.to_numpy(),
        governments=governments,
        adopters={c: float(channels.get(c, 0)) for c in ADOPTION_CHANNELS},
        leapfrogging=leapfrogging,
        drops={c: float(ts[f"drop_{c}"].sum()) for c in EXIT_CHANNELS},
        carried=carried(layer.cat.codes.to_numpy(), list(layer.cat.categories), horizontal.sum()),
    )


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
        # The tables group cities by country *name* ('' for none): so do we.
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


def truncated(trajectory: Trajectory, step: int) -> Trajectory:
    """The run as it stood at ``step``: its events up to and including that step."""
    if not 0 <= step <= trajectory.steps:
        raise ValueError(f"step {step} is outside the run (0 to {trajectory.steps})")
    city = trajectory.city_step <= step
    gov = trajectory.gov_step <= step
    city_fields = ("city_step", "city", "city_change", "city_channel", "city_source")
    gov_fields = ("gov_step", "gov", "gov_change", "gov_channel", "gov_value")
    kept = {name: getattr(trajectory, name)[city] for name in (*city_fields, "city_source_rest")}
    kept |= {name: getattr(trajectory, name)[gov] for name in gov_fields}
    return replace(trajectory, steps=step, **kept)


def from_events(setup, trajectory: Trajectory, facts: WorldFacts | None = None) -> Observed:
    """The view of a run's change events (its last step), without building tables.

    The same numpy operations as :mod:`diffusion_sim.record.tables` on the same arrays,
    so every field is bit for bit :func:`from_tables`'s.
    """
    facts = facts if facts is not None else WorldFacts.of(setup.world)
    n, bins = facts.n, trajectory.steps + 1
    city = trajectory.city
    sign = trajectory.city_change.astype(np.int64)
    step = trajectory.city_step.astype(np.int64)
    adopters = np.cumsum(np.bincount(step, weights=sign, minlength=bins))
    pop_adopted = np.cumsum(
        np.bincount(step, weights=sign * facts.population[city], minlength=bins)
    )
    adopted, final_channel, _ = final_state(trajectory, n)
    rung = facts.ladder[city]
    rung_shares = {}
    for code, name in enumerate(LADDER_NAMES):
        size = facts.rung_sizes[code]
        inside = rung == code
        count = np.cumsum(np.bincount(step[inside], weights=sign[inside], minlength=bins))
        rung_shares[name] = float(count[-1] / size) if size else float("nan")
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
    governments = {}
    for code, level in enumerate(LEVELS):
        rows = setup.gov_level == code
        governments[level] = float(gov_adopted[rows].sum()) if rows.any() else 0.0
    channels = np.bincount(final_channel[adopted], minlength=len(CHANNELS) + 1)
    exits = np.bincount(trajectory.city_channel.astype(np.int64), minlength=len(CHANNELS))
    horizontal = (trajectory.city_change == ADOPT) & (
        trajectory.city_channel == CHANNELS.index("horizontal")
    )
    layers = provenance.adoption_layers(setup, trajectory)
    return Observed(
        share_cities=adopters / n,
        share_population=pop_adopted / facts.population_total,
        rung_shares=rung_shares,
        adopted=adopted,
        size_members=facts.size_members,
        country_means=np.bincount(facts.country_group, weights=adopted) / facts.country_sizes,
        governments=governments,
        adopters={c: float(channels[CHANNELS.index(c)]) for c in ADOPTION_CHANNELS},
        leapfrogging=_leapfrogging(setup, stance, adopted),
        drops={c: float(exits[CHANNELS.index(c)]) for c in EXIT_CHANNELS},
        carried=carried(layers, setup.layer_names(), int(horizontal.sum())),
    )


def _leapfrogging(setup, stance: np.ndarray, adopted: np.ndarray) -> float:
    """Adopters under a nation whose (final) stance is hostile, matched by name as tables do."""
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
