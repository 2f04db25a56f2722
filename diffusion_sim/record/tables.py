"""The tables of a run, each from its change events (one function per table).

Every table comes from the trajectory (change events) and the setup, so the two
engines produce identical tables whenever their events agree, and a table is
built only by whoever needs it.
"""

from __future__ import annotations

import functools
from types import SimpleNamespace

import numpy as np
import pandas as pd

from diffusion_sim.mechanisms.embedded import ADOPTION_CHANNELS, CHANNELS, EXIT_CHANNELS
from diffusion_sim.mechanisms.registry import HORIZONTAL
from diffusion_sim.model import provenance
from diffusion_sim.model.setup import Setup
from diffusion_sim.model.trajectory import (
    ADOPT,
    EVENT_SOURCE,
    GOV_ADOPT,
    GOV_WITHDRAW,
    NO_SOURCE,
    Recorder,
    Trajectory,
)
from diffusion_sim.scenario import LEVELS
from diffusion_sim.world import LADDER_NAMES

GOV_CHANGES = {1: "adopt", -1: "withdraw", 0: "stance"}
STANCES = {-1: "hostile", 0: "neutral", 1: "supportive"}


def events_table(setup: Setup, trajectory: Trajectory) -> pd.DataFrame:
    """One row per city change: step, city, adopt or drop, channel, and what carried it.

    Provenance (:mod:`diffusion_sim.model.provenance`): ``source_city`` the adopted
    neighbour behind a horizontal adoption, ``source_layer`` the tie layer that
    carried it, ``source_government`` the government behind a vertical or
    hierarchical one (-1 or missing where none), ``by_event`` an adoption a
    scheduled event caused (pioneers).
    """
    source, channel = trajectory.city_source, trajectory.city_channel
    horizontal = channel == HORIZONTAL
    by_government = (source >= 0) & ~horizontal
    layer = provenance.adoption_layers(setup, trajectory)
    events = pd.DataFrame(
        {
            "step": trajectory.city_step,
            "city": trajectory.city,
            "kind": _kind_categories(trajectory.city_change),
            "channel": pd.Categorical.from_codes(channel, categories=CHANNELS),
            "source_city": np.where(horizontal, source, NO_SOURCE),
            "source_layer": pd.Categorical.from_codes(layer, categories=setup.layer_names()),
            "source_government": np.where(by_government, source, NO_SOURCE),
            "by_event": source == EVENT_SOURCE,
        }
    )
    return events


def _kind_categories(change: np.ndarray) -> pd.Categorical:
    """'adopt' or 'drop' per event, as a categorical of the kinds present (built from
    codes: a million strings would cost half a second)."""
    kinds = [k for k, code in (("adopt", ADOPT), ("drop", -ADOPT)) if (change == code).any()]
    codes = np.where(change == ADOPT, 0, len(kinds) - 1).astype(np.int8)
    return pd.Categorical.from_codes(codes, categories=kinds)


def timeseries_table(setup: Setup, trajectory: Trajectory) -> pd.DataFrame:
    """Per step: adopters overall, by population and ladder rung, new and dropped by channel,
    and governments adopted by level."""
    world = setup.world
    n, bins = world.n_cities, trajectory.steps + 1
    sign = trajectory.city_change.astype(np.int64)
    step = trajectory.city_step.astype(np.int64)
    adopters = np.cumsum(np.bincount(step, weights=sign, minlength=bins))
    population = world.population.astype(np.float64)
    pop_adopted = np.cumsum(
        np.bincount(step, weights=sign * population[trajectory.city], minlength=bins)
    )
    timeseries = {
        "step": np.arange(bins),
        "adopters": adopters.astype(np.int64),
        "share_cities": adopters / n,
        "share_population": pop_adopted / max(population.sum(), 1.0),
    }
    # Counts per (step, category) in one bincount each, a column per category: the
    # same sums as one masked bincount per category (each bin adds its events in order).
    rungs = len(LADDER_NAMES)
    rung = world.ladder[trajectory.city].astype(np.int64)
    by_rung = np.bincount(step * rungs + rung, weights=sign, minlength=bins * rungs)
    by_rung = np.cumsum(by_rung.reshape(bins, rungs), axis=0)
    rung_sizes = np.bincount(world.ladder, minlength=rungs)
    for code, name in enumerate(LADDER_NAMES):
        size = int(rung_sizes[code])
        # a rung without cities has no share: NaN ("undefined"), not 0
        timeseries[f"share_{name}s"] = by_rung[:, code] / size if size else np.full(bins, np.nan)
    channels, channel = len(CHANNELS), trajectory.city_channel
    by_channel = step * channels + channel
    adopting = sign == 1
    if len(channel) and not 0 <= channel.min() <= channel.max() < channels:
        adopting &= (channel >= 0) & (channel < channels)  # no code: in no column
        by_channel = np.where((channel >= 0) & (channel < channels), by_channel, bins * channels)
    new = np.bincount(by_channel[adopting], minlength=bins * channels).reshape(bins, channels)
    for code, name in enumerate(CHANNELS):
        if name in ADOPTION_CHANNELS:
            timeseries[f"new_{name}"] = new[:, code]
    # Adopters now by the channel their adoption came through (the dashboard's stack):
    # a drop leaves the channel of the adoption it ends.
    through = step * channels + adoption_channel_of_each_event(trajectory)
    through = np.where(by_channel < bins * channels, through, bins * channels)
    now = np.bincount(through, weights=sign, minlength=bins * channels + 1)[: bins * channels]
    now = np.cumsum(now.reshape(bins, channels), axis=0).astype(np.int64)
    for name in ADOPTION_CHANNELS:
        timeseries[f"adopters_{name}"] = now[:, CHANNELS.index(name)]
    dropped = np.bincount(by_channel, minlength=bins * channels)[: bins * channels]
    dropped = dropped.reshape(bins, channels)
    for name in EXIT_CHANNELS:
        timeseries[f"drop_{name}"] = dropped[:, CHANNELS.index(name)]
    gstep = trajectory.gov_step.astype(np.int64)
    gchange = trajectory.gov_change
    delta = np.where(gchange == GOV_ADOPT, 1, np.where(gchange == GOV_WITHDRAW, -1, 0))
    for level_code, level in enumerate(LEVELS):
        if not (setup.gov_level == level_code).any():
            continue
        in_level = setup.gov_level[trajectory.gov] == level_code
        timeseries[f"governments_{level}"] = np.cumsum(
            np.bincount(gstep[in_level], weights=delta[in_level], minlength=bins)
        ).astype(np.int64)
    return pd.DataFrame(timeseries)


@functools.cache
def timeseries_columns() -> dict[str, bool]:
    """Every column :func:`timeseries_table` can give but ``step``, in its order, and
    whether it counts (integers) rather than a share.

    Read off the table of a run without events in a world of one city under a
    government of every level, so a column added to the table is listed with no list
    to edit (sweeps choose their per-step series from these).
    """
    world = SimpleNamespace(n_cities=1, population=np.ones(1), ladder=np.zeros(1, dtype=np.int8))
    setup = SimpleNamespace(world=world, gov_level=np.arange(len(LEVELS)))
    table = timeseries_table(setup, Recorder().finish(0))  # type: ignore[arg-type]
    return {c: table[c].dtype.kind in "iu" for c in table.columns if c != "step"}


def adoption_channel_of_each_event(trajectory: Trajectory) -> np.ndarray:
    """For each change event, the channel code of the adoption it makes or ends.

    A city's events alternate adopt, drop, adopt, ... (its first is an adoption), so
    a drop ends the adoption just before it among that city's events.
    """
    order = np.argsort(trajectory.city, kind="stable")  # each city's events, in time order
    channel = trajectory.city_channel.astype(np.int64)[order]
    drops = np.flatnonzero(trajectory.city_change[order] != ADOPT)
    channel[drops] = channel[drops - 1]
    out = np.empty_like(channel)
    out[order] = channel
    return out


def governments_tables(setup: Setup, trajectory: Trajectory) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each government at the end (stance, adopted, mandate, when and how), and its events."""
    gchange = trajectory.gov_change
    government_events = pd.DataFrame(
        {
            "step": trajectory.gov_step,
            "government": trajectory.gov,
            "name": [setup.gov_names[g] for g in trajectory.gov],
            "kind": [GOV_CHANGES[int(c)] for c in gchange],
            "channel": [CHANNELS[c] for c in trajectory.gov_channel],
            "value": trajectory.gov_value,
        }
    )
    governments = pd.DataFrame(
        {
            "government": np.arange(setup.n_governments),
            "name": setup.gov_names,
            "level": [LEVELS[code] for code in setup.gov_level],
            "cities": setup.gov_cities[:-1].astype(np.int64),
            "population": setup.gov_population[:-1].astype(np.int64),
        }
    )
    stance = setup.gov_stance0.astype(np.int64).copy()
    adopted = np.zeros(setup.n_governments, dtype=bool)
    mandate = np.zeros(setup.n_governments, dtype=bool)
    adoption_step = np.full(setup.n_governments, -1, dtype=np.int64)
    channel = np.full(setup.n_governments, "", dtype=object)
    for row in government_events.itertuples(index=False):
        if row.kind == "stance":
            stance[row.government] = row.value
        elif row.kind == "adopt":
            adopted[row.government], mandate[row.government] = True, bool(row.value)
            adoption_step[row.government], channel[row.government] = row.step, row.channel
        else:
            adopted[row.government] = mandate[row.government] = False
    governments["stance"] = [STANCES[int(s)] for s in stance]
    governments["adopted"] = adopted
    governments["mandate"] = mandate
    governments["adoption_step"] = adoption_step
    governments["channel"] = channel
    return governments, government_events


def cities_table(setup: Setup, trajectory: Trajectory) -> pd.DataFrame:
    """Each city at the end: its traits, whether and how it adopted, and its governments.

    The last event of each city decides its final state.
    """
    world = setup.world
    n = world.n_cities
    cities = world.cities_frame()
    adopted, final_channel, last = final_state(trajectory, n)
    has = last >= 0
    cities["adopted"] = adopted
    none = final_channel == len(CHANNELS)
    cities["channel"] = pd.Categorical.from_codes(np.where(none, -1, final_channel), CHANNELS)
    adoption_step = np.full(n, -1, dtype=np.int64)
    first_adoption = trajectory.city_change == ADOPT
    adoption_step[trajectory.city[first_adoption][::-1]] = trajectory.city_step[first_adoption][
        ::-1
    ]
    cities["first_adoption_step"] = adoption_step
    last_change = np.full(n, -1, dtype=np.int64)
    last_change[has] = trajectory.city_step[last[has]]
    cities["last_change_step"] = last_change
    cities["threshold"] = setup.threshold
    cities["defiant"] = setup.defiant
    for level_row, level_code in zip(
        setup.city_gov, sorted(set(setup.gov_level.tolist())), strict=False
    ):
        cities[f"{LEVELS[level_code]}_government"] = government_names(setup, level_row)
    return cities


def final_state(trajectory: Trajectory, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per city at the end: adopted or not, the channel of its last change (``len(CHANNELS)``
    if none), and the index of its last event (-1 if none). The last event decides."""
    last = np.full(n, -1, dtype=np.int64)
    last[trajectory.city] = np.arange(len(trajectory.city))  # later events overwrite earlier
    has = last >= 0
    final_change = np.zeros(n, dtype=np.int8)
    final_change[has] = trajectory.city_change[last[has]]
    final_channel = np.full(n, len(CHANNELS), dtype=np.int64)  # one past the end: none
    final_channel[has] = trajectory.city_channel[last[has]]
    return final_change == ADOPT, final_channel, last


def government_names(setup: Setup, level_row: np.ndarray) -> pd.Categorical | np.ndarray:
    """Each city's government at one level by name ('' for none).

    A categorical (codes into the names) when the names are distinct: building a
    million strings would cost more than the run at world scale.
    """
    names = (*setup.gov_names, "")
    if len(set(names)) == len(names):
        return pd.Categorical.from_codes(level_row, categories=names)
    return np.where(
        level_row < setup.n_governments,
        np.asarray(setup.gov_names + ("",), dtype=object)[level_row],
        "",
    )
