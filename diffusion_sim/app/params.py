"""Dashboard inputs generated from the scenario schema, and their validation.

Each input is described in Mesa's SolaraViz ``model_params`` convention (a
dict with ``type``, ``value``, ``label``, and ``min``/``max`` or ``values``)
plus the dotted ``key`` it overrides and the field's ``help`` text, all read
from the pydantic ``Field``s, so a parameter added to the schema appears in the
dashboard without touching it. Text typed in the browser is parsed here as a
number or one of the allowed words, never evaluated.
"""

from __future__ import annotations

import math
import typing
from typing import Any

from diffusion_sim.errors import InputError
from diffusion_sim.mechanisms.registry import KERN_TYPES, MECHANISMS
from diffusion_sim.scenario import Scenario
from diffusion_sim.scenario.keys import bounds, iter_fields
from diffusion_sim.scenario.numbers import NumberError, parse_number

SECTIONS: tuple[tuple[str, str], ...] = (
    *(
        section
        for m in MECHANISMS
        for section in (
            (f"mechanisms.{m.name}", m.title),
            *((f"mechanisms.{m.name}.{key}", title) for key, title in m.subsections),
        )
    ),
    ("mechanisms", "Susceptibility (adoption ceilings)"),
    ("pioneers", "Pioneers"),
    ("governments", "Governments' starting stances"),
    ("world", "World (rebuilt on apply)"),
    ("world.ladder", "Kern's ladder"),
    ("networks", "City networks"),
    ("run", "Run"),
)
"""Sections shown, in order, with their titles; keys not under one are left out."""

_SKIPPED = {"run.seed", "run.replicates", "run.step_unit", "world.seed", "world.generator"}
_KERN_SWITCHES = {f"mechanisms.{m}.enabled" for m in KERN_TYPES}


def _leaf_keys(scenario: Scenario) -> list[tuple[str, Any]]:
    """Every leaf key of the schema (scenario/keys.iter_fields) with its field, networks by name.

    A network's fields appear once per network the scenario has, network after
    network, where the schema puts networks; other keyed sections (governments'
    overrides) are edited in the file.
    """
    network = "networks.<name>."
    fields = list(iter_fields(Scenario))
    per_network = [(k.removeprefix(network), f) for k, f, _ in fields if k.startswith(network)]
    leaves: list[tuple[str, Any]] = []
    for key, field, _ in fields:
        if key.startswith(network) and key.endswith(per_network[0][0]):
            leaves += [(f"networks.{n}.{k}", f) for n in scenario.networks for k, f in per_network]
        elif "<name>" not in key:
            leaves.append((key, field))
    return leaves


def _value_at(data: dict[str, Any], key: str) -> Any:
    node: Any = data
    for part in key.split("."):
        node = node[part]
    return node


def _walk(scenario: Scenario) -> list[dict[str, Any]]:
    data = scenario.model_dump(by_alias=True)
    specs: list[dict[str, Any]] = []
    for key, field in _leaf_keys(scenario):
        annotation = field.annotation
        value = _value_at(data, key)
        spec: dict[str, Any] = {
            "key": key,
            "label": key.rsplit(".", 1)[-1].replace("_", " "),
            "help": field.description or "",
        }
        choices = (
            typing.get_args(annotation) if typing.get_origin(annotation) is typing.Literal else ()
        )
        if annotation is bool:
            spec.update(type="Checkbox", value=bool(value))
        elif choices and all(isinstance(c, str) for c in choices):
            spec.update(type="Select", value=value, values=list(choices))
        elif annotation in (int, float) and not isinstance(value, bool):
            found = bounds(field)
            spec.update(type="InputText", value=value, kind=annotation.__name__, **found)
            spec["allowed"] = _allowed_text(found, annotation.__name__)
        else:
            continue  # lists, names and optional values are edited in the file
        specs.append(spec)
    return specs


def _allowed_text(bounds: dict[str, float], kind: str) -> str:
    parts = [f"{symbol} {bounds[attr]}" for attr, symbol in _SYMBOLS if attr in bounds]
    noun = "a whole number" if kind == "int" else "a number"
    return f"{noun} " + " and ".join(parts) if parts else noun


_SYMBOLS = (("gt", ">"), ("ge", "≥"), ("lt", "<"), ("le", "≤"))


def parameter_specs(scenario: Scenario) -> dict[str, list[dict[str, Any]]]:
    """Inputs for a scenario, grouped by section title (see :data:`SECTIONS`).

    Examples
    --------
    >>> groups = parameter_specs(Scenario())
    >>> spec = next(s for s in groups["Horizontal: peer influence"] if s["label"] == "strength")
    >>> spec["type"], spec["value"], spec["allowed"]
    ('InputText', 0.1, 'a number ≥ 0 and ≤ 1')
    """
    groups: dict[str, list[dict[str, Any]]] = {title: [] for _, title in SECTIONS}
    prefixes = sorted(SECTIONS, key=lambda s: -len(s[0]))
    for spec in _walk(scenario):
        key = spec["key"]
        if key in _SKIPPED or key in _KERN_SWITCHES:
            continue
        parent = key.rsplit(".", 1)[0]
        for prefix, title in prefixes:
            if parent == prefix or (prefix == "networks" and parent.startswith("networks.")):
                if prefix == "networks":
                    spec["label"] = f"{parent.split('.', 1)[1]}: {spec['label']}"
                groups[title].append(spec)
                break
    return {title: specs for title, specs in groups.items() if specs}


def parse_input(spec: dict[str, Any], text: Any) -> Any:
    """The value typed into an input, checked against its type and range.

    Raises
    ------
    InputError
        With a message fit to show beside the input: what was typed and what is allowed.

    Examples
    --------
    >>> spec = {"key": "k", "type": "InputText", "kind": "float", "ge": 0, "le": 1,
    ...         "allowed": "a number ≥ 0 and ≤ 1"}
    >>> parse_input(spec, "0.25")
    0.25
    >>> parse_input(spec, "2")
    Traceback (most recent call last):
    ...
    diffusion_sim.errors.InputError: 2 is out of range: allowed is a number ≥ 0 and ≤ 1
    """
    kind = spec.get("type")
    if kind == "Checkbox":
        return bool(text)
    if kind == "Select":
        if text not in spec["values"]:
            raise InputError(f"{text!r} is not one of {', '.join(spec['values'])}")
        return text
    raw = str(text).strip()
    try:  # the rules of a scenario file (scenario/numbers.py)
        value = parse_number(raw, spec.get("kind", "float"))
    except NumberError as exc:
        raise InputError(f"{exc}: allowed is {spec['allowed']}") from None
    if not math.isfinite(value):
        raise InputError(f"{raw} is not a finite number: allowed is {spec['allowed']}")
    shown = raw if len(raw) <= 20 else raw[:20] + "..."
    checks = (("ge", value >= spec.get("ge", -math.inf)), ("gt", value > spec.get("gt", -math.inf)))
    checks += (("le", value <= spec.get("le", math.inf)), ("lt", value < spec.get("lt", math.inf)))
    if not all(ok for _, ok in checks):
        raise InputError(f"{shown} is out of range: allowed is {spec['allowed']}")
    return value


SEED_MAX = 2**63 - 1
"""Largest seed, as for ``diffusion-sim run --seed``."""


def parse_seed(text: Any) -> int:
    """A run seed typed in the browser: a whole number from 0 to 2**63-1, digits only.

    Examples
    --------
    >>> parse_seed(" 42 ")
    42
    >>> parse_seed("1e99")
    Traceback (most recent call last):
    ...
    diffusion_sim.errors.InputError: seed must be an integer 0..2**63-1, not '1e99'
    """
    raw = str(text).strip()
    shown = raw if len(raw) <= 24 else raw[:24] + "..."
    try:  # the rules of a scenario file (scenario/numbers.py)
        value = parse_number(raw, "int")
    except NumberError as exc:
        reason = str(exc) if "digit" in str(exc) else ""
        raise InputError(
            f"seed must be an integer 0..2**63-1, not {shown!r}" + (f": {reason}" if reason else "")
        ) from None
    if not 0 <= value <= SEED_MAX:
        raise InputError(f"seed must be an integer 0..2**63-1, not {shown!r}")
    return int(value)


def apply_overrides(scenario: Scenario, overrides: dict[str, Any]) -> Scenario:
    """The scenario with the dashboard's overrides, validated as a file would be."""
    return scenario.with_overrides(overrides) if overrides else scenario
