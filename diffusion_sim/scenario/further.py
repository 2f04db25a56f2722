"""Sections of further mechanisms: plug-ins named in the environment (registry.FURTHER).

Each gets ``[mechanisms.<name>]`` with ``enabled`` (off unless a scenario says so)
and its parameters, bounded as its module declares; without further mechanisms
:class:`Mechanisms` is the built-in one of :mod:`.sections`.
"""

from __future__ import annotations

from pydantic import Field, create_model

from diffusion_sim.mechanisms.registry import FURTHER, FurtherMechanism
from diffusion_sim.scenario import sections
from diffusion_sim.scenario.types import Section


def further_section(further: FurtherMechanism) -> type[Section]:
    """A further mechanism's section: ``enabled`` (off unless a scenario says so), parameters."""
    fields: dict = {
        "enabled": (bool, Field(False, description=f"switch on {further.mechanism.title}"))
    }
    for name, (default, lowest, highest, meaning) in further.parameters.items():
        fields[name] = (type(default), Field(default, ge=lowest, le=highest, description=meaning))
    name = further.mechanism.name.title().replace("_", "")
    return create_model(name, __base__=Section, __doc__=further.mechanism.title, **fields)


if FURTHER:  # mechanisms named in the environment get their sections (registry.FURTHER)
    _sections = {f.mechanism.name: further_section(f) for f in FURTHER}
    Mechanisms = create_model(
        "Mechanisms",
        __base__=sections.Mechanisms,
        __doc__=sections.Mechanisms.__doc__,
        **{name: (section, section()) for name, section in _sections.items()},
    )
else:
    Mechanisms = sections.Mechanisms
