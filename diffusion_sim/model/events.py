"""A scenario's timeline applied to either engine: each event kind in terms of engine verbs.

What an event does is decided here once (a stance makes a government preempt
only if it turns hostile; a withdrawal may lock a government out; a network
never opens beyond its ranking; a summit lasts ``duration`` steps; pioneers are
chosen by :func:`diffusion_sim.model.setup.choose_pioneers`, within a group of cities
if the event names one; a ``set`` event changes one parameter from its step
on). An event aimed at a group of governments (a level, a bloc, countries) was
resolved to their indices by :func:`diffusion_sim.model.setup.build_setup` and acts
on each in index order. Governments change only through the one set of verbs of
:class:`diffusion_sim.model.governments.GovernmentStates` that every engine holds;
the engines implement the few other verbs (:class:`EngineVerbs`), each of which
changes the engine's state and records the change, so the engines cannot apply
an event differently.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from diffusion_sim.mechanisms import vertical
from diffusion_sim.model.governments import GovernmentStates
from diffusion_sim.model.setup import ResolvedEvent, Setup, choose_pioneers
from diffusion_sim.scenario import Scenario
from diffusion_sim.world import LADDER_NAMES, SIZE_CLASSES


@dataclass
class Boost:
    """A summit's multiplier on horizontal influence and the last step it lasts."""

    factor: float = 1.0
    until: int = -1

    def at(self, t: int) -> float:
        """The multiplier at step ``t`` (1 once the summit is over)."""
        return self.factor if t <= self.until else 1.0


class EngineVerbs(Protocol):
    """What an engine holds and does when told to (both engines and the replay)."""

    gov_states: GovernmentStates
    """Every government's state; its verbs change and record governments."""
    boost: Boost
    scenario: Scenario
    """The scenario in force: the setup's, with the ``set`` events so far."""

    def city_adopted(self) -> np.ndarray: ...

    def adopt_cities(self, step: int, cities: np.ndarray) -> None:
        """The cities not yet adopters adopt (innovation channel), recorded."""

    def resize_network(self, network: int, size: int) -> None:
        """The network has ``size`` members from now on (founded: from 0)."""

    def set_parameter(self, event: ResolvedEvent, scenario: Scenario) -> None:
        """Read ``scenario``'s mechanisms from now on (``event.key`` changed)."""


def _stance(engine: EngineVerbs, setup: Setup, event: ResolvedEvent, step: int) -> None:
    preempts = event.preempts and event.stance == vertical.HOSTILE
    for gov in event.governments:
        engine.gov_states.set_stance(step, gov, event.stance, preempts)


def _government_adopts(engine: EngineVerbs, setup: Setup, event: ResolvedEvent, step: int) -> None:
    for gov in event.governments:
        if not engine.gov_states.adopted[gov]:
            engine.gov_states.adopt(step, gov, "event")


def _government_withdraws(
    engine: EngineVerbs, setup: Setup, event: ResolvedEvent, step: int
) -> None:
    for gov in event.governments:
        engine.gov_states.withdraw(step, gov, event.locked_until)


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
    engine.boost = Boost(event.boost, step + event.duration - 1)


def cities_of_group(setup: Setup, event: ResolvedEvent, step: int) -> np.ndarray | None:
    """Per city: in the event's group (every one of its network, size class and rung), or
    None if it names no group. A network's members are those at ``step``, after the
    step's foundings and openings."""
    if event.network < 0 and not event.size_class and not event.rung:
        return None
    world = setup.world
    inside = np.ones(setup.n_cities, dtype=bool)
    if event.network >= 0:
        size = network_sizes_at(setup, step).get(event.network, 0)
        members = np.zeros(setup.n_cities, dtype=bool)
        members[world.networks[event.network].members(size)] = True
        inside &= members
    if event.size_class:
        low, high = next((lo, hi) for name, lo, hi in SIZE_CLASSES if name == event.size_class)
        inside &= (world.population >= low) & (world.population < high)
    if event.rung:
        inside &= world.ladder == LADDER_NAMES.index(event.rung)
    return inside


def _pioneers(engine: EngineVerbs, setup: Setup, event: ResolvedEvent, step: int) -> None:
    within = cities_of_group(setup, event, step)
    chosen = choose_pioneers(setup.world, event.cities, event.count, engine.city_adopted(), within)
    engine.adopt_cities(step, np.unique(chosen))


def mechanisms_set(scenario: Scenario, key: str, value: float) -> Scenario:
    """``scenario`` with the parameter ``key`` (one of :data:`SETTABLE`) set to ``value``.

    Checked when the scenario was read, so no validation here: the section's
    copy holds the value as the field's type (an int for a count of steps).
    """
    _, section_name, name = key.split(".")
    mech = scenario.mechanisms
    section = getattr(mech, section_name)
    typed = int(value) if isinstance(getattr(section, name), int) else float(value)
    section = section.model_copy(update={name: typed})
    return scenario.model_copy(
        update={"mechanisms": mech.model_copy(update={section_name: section})}
    )


def _set(engine: EngineVerbs, setup: Setup, event: ResolvedEvent, step: int) -> None:
    engine.set_parameter(event, mechanisms_set(engine.scenario, event.key, event.value))


APPLY: dict[str, Callable[[EngineVerbs, Setup, ResolvedEvent, int], None]] = {
    "stance": _stance,
    "government_adopts": _government_adopts,
    "government_withdraws": _government_withdraws,
    "network_founded": _network,
    "network_opens": _network,
    "summit": _summit,
    "pioneers": _pioneers,
    "set": _set,
}
"""Each event kind's effect, in verbs."""


def apply_events(engine: EngineVerbs, setup: Setup, step: int) -> None:
    """Apply the events scheduled for ``step``, in the scenario's order."""
    for event in setup.events.get(step, ()):
        APPLY[event.kind](engine, setup, event, step)


def start(engine: EngineVerbs, setup: Setup) -> None:
    """Step 0: governments that start with the policy adopt, then the pioneers."""
    for gov in np.flatnonzero(setup.gov_adopted0):
        engine.gov_states.adopt(0, int(gov), "event")
    engine.adopt_cities(0, setup.pioneers)
