"""A scenario's timeline applied to either engine: each event kind in terms of engine verbs.

What an event does is decided here once (a stance makes a government preempt
only if it turns hostile; a network never opens beyond its ranking; a summit
lasts ``duration`` steps; pioneers are chosen by :func:`diffusion_sim.setup.choose_pioneers`).
Both engines implement the same small set of verbs (:class:`EngineVerbs`),
each of which changes the engine's state and records the change, so the two
engines cannot apply an event differently.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from diffusion_sim.mechanisms import vertical
from diffusion_sim.setup import ResolvedEvent, Setup, choose_pioneers


class EngineVerbs(Protocol):
    """What an engine does when told to (both engines implement these)."""

    def government_adopted(self, gov: int) -> bool: ...

    def city_adopted(self) -> np.ndarray: ...

    def adopt_cities(self, step: int, cities: np.ndarray) -> None:
        """The cities not yet adopters adopt (innovation channel), recorded."""

    def adopt_government(self, step: int, gov: int, channel: str) -> None:
        """The government adopts (with a mandate where it can issue one), recorded."""

    def withdraw_government(self, step: int, gov: int) -> None:
        """The government drops the policy and any mandate, recorded."""

    def set_stance(self, step: int, gov: int, stance: int, preempts: bool) -> None:
        """The government's stance (and whether it preempts) changes, recorded."""

    def resize_network(self, network: int, size: int) -> None:
        """The network has ``size`` members from now on (founded: from 0)."""

    def set_boost(self, boost: float, until: int) -> None:
        """Horizontal influence is multiplied by ``boost`` up to step ``until``."""


def _stance(engine: EngineVerbs, setup: Setup, event: ResolvedEvent, step: int) -> None:
    preempts = event.preempts and event.stance == vertical.HOSTILE
    engine.set_stance(step, event.government, event.stance, preempts)


def _government_adopts(engine: EngineVerbs, setup: Setup, event: ResolvedEvent, step: int) -> None:
    if not engine.government_adopted(event.government):
        engine.adopt_government(step, event.government, "event")


def _government_withdraws(
    engine: EngineVerbs, setup: Setup, event: ResolvedEvent, step: int
) -> None:
    if engine.government_adopted(event.government):
        engine.withdraw_government(step, event.government)


def _network_size(setup: Setup, event: ResolvedEvent) -> int:
    """Members of the network after a founding or opening (never beyond its ranking)."""
    net = setup.world.networks[event.network]
    size = net.size if event.kind == "network_founded" else event.size
    return min(size, len(net.ranking))


def _network(engine: EngineVerbs, setup: Setup, event: ResolvedEvent, step: int) -> None:
    engine.resize_network(event.network, _network_size(setup, event))


NETWORK_EVENTS = ("network_founded", "network_opens")
"""The event kinds that change a network's size (and so the ties in force)."""


def network_changes(setup: Setup) -> list[int]:
    """The steps at which some network is founded or opened, in order."""
    return sorted(
        step
        for step, events in setup.events.items()
        if any(e.kind in NETWORK_EVENTS for e in events)
    )


def network_sizes_at(setup: Setup, step: int) -> dict[int, int]:
    """The active networks and their sizes while step ``step`` is decided.

    Networks change only by scheduled events, so this needs no run: the sizes
    at step 0, then every founding or opening at or before ``step`` (events of
    a step are applied before its decisions).
    """
    sizes = setup.initial_network_sizes()
    for when in sorted(s for s in setup.events if s <= step):
        for event in setup.events[when]:
            if event.kind in NETWORK_EVENTS:
                sizes[event.network] = _network_size(setup, event)
    return sizes


def _summit(engine: EngineVerbs, setup: Setup, event: ResolvedEvent, step: int) -> None:
    engine.set_boost(event.boost, step + event.duration - 1)


def _pioneers(engine: EngineVerbs, setup: Setup, event: ResolvedEvent, step: int) -> None:
    chosen = choose_pioneers(setup.world, event.cities, event.count, engine.city_adopted())
    engine.adopt_cities(step, np.unique(chosen))


APPLY: dict[str, Callable[[EngineVerbs, Setup, ResolvedEvent, int], None]] = {
    "stance": _stance,
    "government_adopts": _government_adopts,
    "government_withdraws": _government_withdraws,
    "network_founded": _network,
    "network_opens": _network,
    "summit": _summit,
    "pioneers": _pioneers,
}
"""Each event kind's effect, in verbs."""


def apply_events(engine: EngineVerbs, setup: Setup, step: int) -> None:
    """Apply the events scheduled for ``step``, in the scenario's order."""
    for event in setup.events.get(step, ()):
        APPLY[event.kind](engine, setup, event, step)


def start(engine: EngineVerbs, setup: Setup) -> None:
    """Step 0: governments that start with the policy adopt, then the pioneers."""
    for gov in np.flatnonzero(setup.gov_adopted0):
        engine.adopt_government(0, int(gov), "event")
    engine.adopt_cities(0, setup.pioneers)
