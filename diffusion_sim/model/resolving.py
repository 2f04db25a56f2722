"""A scenario's names turned into a world's indices: governments, groups, networks, cities.

Each name is looked up once, when a run is set up, and a wrong one is refused
with its key (``events[3].countries``), a did-you-mean and the names known. An
event aimed at a group of governments becomes the tuple of their indices
(docs/ODD.md, "Events"): a level, a bloc or countries, narrowing each other;
a government is in a bloc or in some countries when all its cities are.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

import numpy as np

from diffusion_sim.errors import InputError
from diffusion_sim.mechanisms import vertical
from diffusion_sim.scenario import GOVERNMENT_EVENTS, LEVELS, Scenario
from diffusion_sim.world import World

NO_LOCK = -1
"""Last step of a withdrawal's lock when there is none."""


@dataclass(frozen=True)
class ResolvedEvent:
    """A scenario event with names turned into indices (``where``: ``events[i]``)."""

    step: int
    kind: str
    where: str = ""
    governments: tuple[int, ...] = ()
    """The governments it acts on, in index order (one, or a group's)."""
    network: int = -1
    """The network founded or opened; for pioneers, the group's network (-1: none)."""
    stance: int = 0
    preempts: bool = False
    locked_until: int = NO_LOCK
    """A withdrawal's lock: no adoption by the governments' own hazard up to this step."""
    size: int = 0
    boost: float = 1.0
    duration: int = 1
    cities: tuple[int, ...] = ()
    count: int = 0
    size_class: str = ""
    rung: str = ""
    key: str = ""
    value: float = 0.0


def resolve_name(
    name: str, names: tuple[str, ...] | list[str] | np.ndarray, what: str, key: str, source
) -> int:
    """The index of ``name`` among ``names``, or a clear error naming ``key``."""
    if isinstance(names, np.ndarray):  # a million city names: search without a list
        found = np.flatnonzero(names == name)
        if len(found):
            return int(found[0])
        names = names.tolist()
    try:
        return list(names).index(name)
    except ValueError:
        close = difflib.get_close_matches(name, list(names), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        shown = ", ".join(list(names)[:8]) + (", ..." if len(names) > 8 else "")
        raise InputError(
            f"key '{key}': no {what} named {name!r}{hint} Known: {shown}", source=source
        ) from None


def government_targets(
    event, key: str, world: World, gov_names: tuple[str, ...], gov_level, city_gov, source
) -> tuple[int, ...]:
    """The governments an event acts on: the one it names, or its group's (index order)."""
    if event.government is not None:
        return (
            resolve_name(event.government, gov_names, "government", f"{key}.government", source),
        )
    g = len(gov_names)
    chosen = np.ones(g, dtype=bool)
    wanted = []
    if event.level is not None:
        present = [LEVELS[code] for code in sorted(set(gov_level.tolist()))]
        if event.level not in present:
            raise InputError(
                f"key '{key}.level': this world has no government of level {event.level!r}; "
                f"levels present: {', '.join(present)} (governments.levels)",
                source=source,
            )
        chosen &= gov_level == LEVELS.index(event.level)
        wanted.append(f"level {event.level!r}")
    inside = np.ones(world.n_cities, dtype=bool)
    if event.bloc is not None:
        if not world.in_bloc.any():
            raise InputError(f"key '{key}.bloc': this world has no bloc", source=source)
        resolve_name(event.bloc, [world.bloc_name], "bloc", f"{key}.bloc", source)
        inside &= world.in_bloc
        wanted.append(f"bloc {event.bloc!r}")
    if event.countries is not None:
        codes = [
            resolve_name(c, world.country_names, "country", f"{key}.countries", source)
            for c in event.countries
        ]
        inside &= np.isin(world.country, codes)
        wanted.append(f"countries {', '.join(event.countries)}")
    if event.bloc is not None or event.countries is not None:
        there = np.zeros(g + 1)
        total = np.zeros(g + 1)
        for row in city_gov:
            there += np.bincount(row, weights=inside, minlength=g + 1)
            total += np.bincount(row, minlength=g + 1)
        chosen &= (there[:g] == total[:g]) & (total[:g] > 0)
    found = np.flatnonzero(chosen)
    if not len(found):
        raise InputError(f"key '{key}': no government is of {' and '.join(wanted)}", source=source)
    return tuple(int(k) for k in found)


def resolve_events(
    scenario: Scenario, world: World, gov_names: tuple[str, ...], gov_level, city_gov
) -> dict[int, list[ResolvedEvent]]:
    """The scenario's events by step, in its order, with every name made an index."""
    source = scenario.source
    network_names = [net.name for net in world.networks]
    city_names = world.city_names  # searched only where a scenario names cities
    events: dict[int, list[ResolvedEvent]] = {}
    for i, event in enumerate(scenario.events):
        key = f"events[{i}]"
        fields: dict = {"step": event.step, "kind": event.kind, "where": key}
        if event.kind in GOVERNMENT_EVENTS:
            fields["governments"] = government_targets(
                event, key, world, gov_names, gov_level, city_gov, source
            )
        if getattr(event, "network", None) is not None:
            fields["network"] = resolve_name(
                event.network, network_names, "network", f"{key}.network", source
            )
        if event.kind == "stance":
            fields.update(stance=vertical.STANCE_CODES[event.stance], preempts=event.preempts)
        elif event.kind == "government_withdraws":
            if event.lock_steps is not None:
                fields["locked_until"] = event.step + event.lock_steps - 1
            elif event.until is not None:
                fields["locked_until"] = event.until
        elif event.kind == "network_opens":
            fields["size"] = event.size
        elif event.kind == "summit":
            fields.update(boost=event.boost, duration=event.duration)
        elif event.kind == "pioneers":
            fields["cities"] = tuple(
                resolve_name(c, city_names, "city", f"{key}.cities", source) for c in event.cities
            )
            fields.update(
                count=event.count, size_class=event.size_class or "", rung=event.rung or ""
            )
        elif event.kind == "set":
            fields.update(key=event.key, value=event.value)
        events.setdefault(event.step, []).append(ResolvedEvent(**fields))
    return events
