"""The mechanism registry: every list of mechanisms and channels is read from here.

One :class:`Mechanism` descriptor per mechanism, in the order of the scenario's
``[mechanisms]`` sections, and one :class:`Channel` per channel in the order of
its code (the channel codes of every result table, so never reorder them).
Modes (:mod:`diffusion_sim.studies.modes`), the dashboard's switches, sections and
colours, the charts' colours, the schema's ``with_mechanisms`` and the tests'
``only`` helper all derive their lists from :data:`MECHANISMS` and
:data:`CHANNEL_SPECS`, so adding a mechanism is one entry here (docs/architecture.md,
"Adding a mechanism"). A mechanism from outside the package (a module named in
``DIFFUSION_SIM_MECHANISMS``) is appended after the built-in ones when this module
loads (:func:`load_further_mechanisms`). This module is data only: it imports no
mechanism, so any module may read it.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["adoption", "exit", "event"]


@dataclass(frozen=True)
class Channel:
    """A way a city's state changes, with its code's place and its colour."""

    name: str
    kind: Kind
    """'adoption' (a non-adopter adopts), 'exit' (an adopter drops it) or 'event'."""
    colour: str
    """Okabe-Ito colour (readable by colour-blind students) in every chart and map."""


@dataclass(frozen=True)
class Mechanism:
    """One mechanism: its scenario section, channels, Kern's type and how modes treat it."""

    name: str
    """Its section under ``[mechanisms]`` and its switch ``mechanisms.<name>.enabled``."""
    title: str
    """The dashboard's heading for its parameters."""
    channels: tuple[str, ...]
    """Names in :data:`CHANNEL_SPECS` of the channels it fires through (none for a modifier
    of other channels, such as novelty)."""
    kern: str | None
    """Kern's type of upscaling it belongs to (horizontal, vertical, hierarchical), if any."""
    switched_by_modes: bool
    """Whether Kern's modes switch it (else it stays as the scenario sets it)."""
    module: str
    """The module under ``diffusion_sim/mechanisms`` that holds its rules."""
    subsections: tuple[tuple[str, str], ...] = ()
    """Nested parameter tables of its section, with the dashboard's headings."""


@dataclass(frozen=True)
class FurtherMechanism:
    """A mechanism from a module outside the package (a plug-in), named in the environment.

    Its adoption hazard is a per-city number fixed for a run, computed by ``rule``
    from the city attributes in ``inputs`` and its section's parameters, and
    carried by the voluntary factor like innovation's (embedded.further_channel).
    """

    mechanism: Mechanism
    channel: Channel
    parameters: dict[str, tuple[Any, float, float, str]]
    """Its section's parameters: name -> (default, lowest, highest, meaning)."""
    rule: Callable[..., Any] = field(compare=False)
    """hazard = rule(**inputs, **parameters), on one city's numbers or on arrays."""
    inputs: tuple[str, ...] = ()
    """City attributes the rule reads, among :data:`FURTHER_INPUTS`."""

    def hazard(self, section: Any, attributes: Any) -> Any:
        """Its own hazard of a city, or of every city on arrays (0 with its section off).

        ``section`` is its scenario section; ``attributes`` maps each of ``inputs``
        to the city's number (the agents) or to every city's array (the setup).
        """
        if not section.enabled:
            return 0.0
        parameters = {name: getattr(section, name) for name in self.parameters}
        return self.rule(**{name: attributes[name] for name in self.inputs}, **parameters)


FURTHER_INPUTS: tuple[str, ...] = ("capacity", "leaning", "population", "readiness")
"""City attributes a further mechanism's rule may read (both engines hold them per city)."""
PLUGIN_VARIABLE = "DIFFUSION_SIM_MECHANISMS"
"""Environment variable naming further mechanisms' modules, comma-separated."""


CHANNEL_SPECS: tuple[Channel, ...] = (
    Channel("innovation", "adoption", "#e69f00"),
    Channel("horizontal", "adoption", "#56b4e9"),
    Channel("vertical", "adoption", "#009e73"),
    Channel("hierarchical", "adoption", "#cc79a7"),
    Channel("abandonment", "exit", "#6b6b6b"),
    Channel("preemption", "exit", "#d55e00"),
    Channel("event", "event", "#000000"),
)
"""Every channel in the order of its code (CHANNELS.index(name))."""

MECHANISMS: tuple[Mechanism, ...] = (
    Mechanism(
        "innovation",
        "Innovation (pioneers on their own)",
        ("innovation",),
        None,
        True,
        "innovation",
    ),
    Mechanism(
        "horizontal",
        "Horizontal: peer influence",
        ("horizontal",),
        "horizontal",
        True,
        "horizontal",
        subsections=(("thresholds", "Horizontal: thresholds"),),
    ),
    Mechanism(
        "vertical",
        "Vertical: cities and governments",
        ("vertical",),
        "vertical",
        True,
        "vertical",
    ),
    Mechanism(
        "hierarchical",
        "Hierarchical: mandates and preemption",
        ("hierarchical", "preemption"),
        "hierarchical",
        True,
        "hierarchical",
    ),
    Mechanism("abandonment", "Abandonment", ("abandonment",), None, False, "abandonment"),
    Mechanism("novelty", "Novelty: attention that fades", (), None, False, "novelty"),
)
"""Every mechanism, in the order of the scenario's sections."""


def load_further_mechanisms(modules: str) -> tuple[FurtherMechanism, ...]:
    """The further mechanisms of the comma-separated ``modules`` (docs/architecture.md).

    Each module defines ``NAME`` (its section under ``[mechanisms]`` and its
    channel), ``TITLE``, ``COLOUR``, ``PARAMETERS`` ({name: (default, lowest,
    highest, meaning)}), optionally ``INPUTS`` (city attributes among
    :data:`FURTHER_INPUTS`) and ``rule``. Read from the environment once, when
    this module loads, so every list below includes them in every process (sweep
    workers inherit the environment).
    """
    from diffusion_sim.errors import InputError

    found: list[FurtherMechanism] = []
    taken = {m.name for m in MECHANISMS} | {c.name for c in CHANNEL_SPECS} | {"opposition_leaning"}
    for module_name in filter(None, (part.strip() for part in modules.split(","))):
        where = f"{PLUGIN_VARIABLE}: module {module_name!r}"
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise InputError(f"{where} cannot be imported ({exc})") from None
        missing = [
            a for a in ("NAME", "TITLE", "COLOUR", "PARAMETERS", "rule") if not hasattr(module, a)
        ]
        if missing:
            raise InputError(
                f"{where} lacks {', '.join(missing)}; a further mechanism "
                "defines NAME, TITLE, COLOUR, PARAMETERS and rule"
            )
        name, inputs = module.NAME, tuple(getattr(module, "INPUTS", ()))
        if not (isinstance(name, str) and name.isidentifier() and name.islower()) or name in taken:
            raise InputError(
                f"{where}: NAME {name!r} must be a new lower-case identifier "
                f"(taken: {', '.join(sorted(taken))})"
            )
        unknown = sorted(set(inputs) - set(FURTHER_INPUTS))
        if unknown or not callable(module.rule):
            raise InputError(
                f"{where}: INPUTS may name {', '.join(FURTHER_INPUTS)} "
                f"(not {', '.join(unknown)}) and rule must be a function"
            )
        taken.add(name)
        found.append(
            FurtherMechanism(
                Mechanism(name, str(module.TITLE), (name,), None, False, module_name),
                Channel(name, "adoption", str(module.COLOUR)),
                dict(module.PARAMETERS),
                module.rule,
                inputs,
            )
        )
    return tuple(found)


FURTHER: tuple[FurtherMechanism, ...] = load_further_mechanisms(os.environ.get(PLUGIN_VARIABLE, ""))
"""Further mechanisms named in the environment (usually none), after the built-in ones."""
CHANNEL_SPECS += tuple(f.channel for f in FURTHER)
MECHANISMS += tuple(f.mechanism for f in FURTHER)

CHANNELS: tuple[str, ...] = tuple(c.name for c in CHANNEL_SPECS)
"""Every channel code; an event's code is CHANNELS.index(name)."""
ADOPTION_CHANNELS: tuple[str, ...] = tuple(c.name for c in CHANNEL_SPECS if c.kind == "adoption")
EXIT_CHANNELS: tuple[str, ...] = tuple(c.name for c in CHANNEL_SPECS if c.kind == "exit")
INNOVATION, HORIZONTAL, VERTICAL, HIERARCHICAL = (
    ADOPTION_CHANNELS.index(name)
    for name in ("innovation", "horizontal", "vertical", "hierarchical")
)
"""Adoption channel indices (what the engines' channel choice returns for a non-adopter)."""
ADOPTION_CODES: tuple[int, ...] = tuple(CHANNELS.index(name) for name in ADOPTION_CHANNELS)
"""The code of each adoption channel index (further mechanisms' channels come after 'event')."""
EXIT_CODES: tuple[int, ...] = tuple(CHANNELS.index(name) for name in EXIT_CHANNELS)
CHANNEL_COLOURS: dict[str, str] = {c.name: c.colour for c in CHANNEL_SPECS}
GOVERNMENT_DECISIONS: tuple[str, ...] = ("vertical", "hierarchical")
"""How a government decides to adopt: bottom-up pressure, or its own harmonization."""
GOVERNMENT_CHANNELS: tuple[str, ...] = (*GOVERNMENT_DECISIONS, "event")

MECHANISM_NAMES: tuple[str, ...] = tuple(m.name for m in MECHANISMS)
SWITCHED: tuple[str, ...] = tuple(m.name for m in MECHANISMS if m.switched_by_modes)
"""The mechanisms a mode switches; the others stay as the scenario sets them."""
KERN_TYPES: tuple[str, ...] = tuple(m.name for m in MECHANISMS if m.kern)
"""Mechanisms that are one of Kern's types (the dashboard's switches; embedded: all on)."""
VOLUNTARY_BASE: tuple[str, ...] = tuple(
    m.name for m in MECHANISMS if m.switched_by_modes and not m.kern
)
"""Mechanisms a mode switches on whatever Kern's type (innovation: pioneers act on their own)."""


def of_kern_type(kern: str) -> tuple[str, ...]:
    """The mechanisms of one of Kern's types, after the voluntary base (a mode's switches)."""
    return VOLUNTARY_BASE + tuple(m.name for m in MECHANISMS if m.kern == kern)


def mechanism(name: str) -> Mechanism:
    """The descriptor called ``name``."""
    for m in MECHANISMS:
        if m.name == name:
            return m
    raise KeyError(f"no mechanism {name!r}; mechanisms: {', '.join(MECHANISM_NAMES)}")


def owner_of(channel: str) -> Mechanism:
    """The mechanism that fires through ``channel``."""
    for m in MECHANISMS:
        if channel in m.channels:
            return m
    raise KeyError(f"no mechanism fires through {channel!r}")
