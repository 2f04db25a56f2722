"""A commented scenario file to start from (``diffusion-sim new NAME``).

The values are a scenario's own (the defaults, or a shipped scenario's), and
every comment is read from the schema where the key is defined (its field's
meaning and bounds, a section's docstring, :func:`~.keys.field_at`), so the
file cannot drift from what the loader accepts. Reading the text back gives
the same scenario; ``tests/test_new_scenario.py`` checks it.
"""

from __future__ import annotations

import json
import re
import textwrap
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from diffusion_sim.scenario.event_models import EVENT_MODELS
from diffusion_sim.scenario.keys import bounds, field_at, model_of
from diffusion_sim.scenario.schema import Scenario

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_SYMBOLS = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}
_EVENT_NAMES = {m.__name__ for m in EVENT_MODELS}
WIDTH = 99
"""Longest line written; a longer key line gets its comment on the lines above it."""
_EVENT_OF_KIND = {m.model_fields["kind"].annotation.__args__[0]: m for m in EVENT_MODELS}


def toml_key(text: str) -> str:
    """A TOML key: bare when it can be, else a quoted string."""
    return text if _BARE_KEY.match(text) else toml_value(text)


def toml_value(value: Any) -> str:
    """One value as TOML (what ``Scenario.to_dict`` holds: numbers, text, lists, tables)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)  # repr of a float is TOML: 0.05, 1e-05, inf
    if isinstance(value, str):  # JSON's escapes are TOML's; DEL must be escaped too
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{toml_key(k)} = {toml_value(v)}" for k, v in value.items())
        return "{ " + items + " }" if items else "{}"
    raise TypeError(f"cannot write {value!r} as TOML")


def field_comment(field: FieldInfo | None) -> str:
    """The schema's meaning of a field and what it allows (empty when it has neither)."""
    if field is None:
        return ""
    allowed = ", ".join(f"{_SYMBOLS[a]} {v}" for a, v in bounds(field).items())
    choices = getattr(field.annotation, "__args__", None)
    if choices and all(isinstance(c, str) for c in choices):
        allowed = " | ".join(choices)
    text = (field.description or "").replace("\n", " ").strip()
    if allowed:
        text = f"{text} [{allowed}]" if text else f"[{allowed}]"
    return text


def _key_lines(key: str, value: Any, comment: str) -> list[str]:
    line = f"{toml_key(key)} = {toml_value(value)}"
    if not comment:
        return [line]
    if len(line) + 4 + len(comment) <= WIDTH:
        return [f"{line}  # {comment}"]
    wrapped = textwrap.wrap(comment, WIDTH - 2, break_on_hyphens=False)
    return [*(f"# {part}" for part in wrapped), line]


def _section_comment(model: type[BaseModel] | None) -> list[str]:
    doc = (model.__doc__ or "").strip().split("\n\n")[0] if model is not None else ""
    return [f"# {line.strip()}" for line in doc.splitlines() if line.strip()]


def _write_table(
    lines: list[str], header: str, data: dict, field_of, model: type[BaseModel] | None
) -> None:
    """A table's header, its scalar keys with comments, then its sub-tables."""
    if header:
        lines += ["", *_section_comment(model), header]
    nested = []
    for key, value in data.items():
        if isinstance(value, dict) and value:
            nested.append((key, value))
            continue
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            nested.append((key, value))
            continue
        comment = "" if key == "kind" else field_comment(field_of(key))
        lines += _key_lines(key, value, comment)
    if model is not None and model.__name__ not in _EVENT_NAMES:
        for key in _unset_keys(model, data):  # optional keys, shown so they can be found
            text = f"{key} (unset): {field_comment(model.model_fields[key])}"
            lines += [f"# {part}" for part in textwrap.wrap(text, WIDTH - 2)]
    for key, value in nested:
        _write_nested(lines, header, key, value, field_of, model)


def _write_nested(lines, header, key, value, field_of, model) -> None:
    path = header.strip("[]")
    dotted = f"{path}.{toml_key(key)}" if path else toml_key(key)
    if key == "events" and model is Scenario:
        for event in value:
            event = {"kind": event["kind"], **event}  # what it is, first
            event_model = _EVENT_OF_KIND[event["kind"]]
            _write_table(
                lines,
                f"[[{dotted}]]",
                event,
                lambda k, m=event_model: m.model_fields.get(k),
                event_model,
            )
        return
    inner, keyed = model_of(field_of(key).annotation) if field_of(key) is not None else (None, 0)
    if keyed:  # networks.<name>: a table per name, each of the inner model
        for name, item in value.items():
            _write_table(
                lines,
                f"[{dotted}.{toml_key(name)}]",
                item,
                lambda k, m=inner: _field_of(m, k),
                inner,
            )
        return
    _write_table(lines, f"[{dotted}]", value, lambda k, m=inner: _field_of(m, k), inner)


def _unset_keys(model: type[BaseModel], data: dict) -> list[str]:
    """The model's own fields that the data leaves out (those without a value)."""
    return [
        name
        for name, field in model.model_fields.items()
        if name != "source" and (field.alias or name) not in data
    ]


def _field_of(model: type[BaseModel] | None, key: str) -> FieldInfo | None:
    return field_at(model, key) if model is not None else None


def scenario_text(scenario: Scenario, name: str, origin: str) -> str:
    """The commented TOML of ``scenario`` renamed ``name``; ``origin`` says whose values."""
    data = scenario.to_dict()
    data["name"] = name
    lines = [
        f"# {name}: what question does this scenario ask? (write it here: this first comment",
        "# line is what `diffusion-sim scenarios` shows).",
        f"# Written by `diffusion-sim new` with the values of {origin}. Each comment is the",
        "# schema's meaning of its key [allowed values]; delete the keys you keep at their",
        "# defaults. `diffusion-sim validate --explain` lists every key, events included;",
        f"# `diffusion-sim validate {name}.toml` checks this file, `diffusion-sim run` runs it.",
    ]
    if not data.get("events"):
        lines += [
            "# Events (none yet) are [[events]] tables, e.g. every nation withdrawing at step 60",
            '# and staying out:  [[events]]  kind = "government_withdraws"  step = 60',
            '#                   level = "nation"  lock_steps = 60',
        ]
    _write_table(lines, "", data, lambda k: field_at(Scenario, k), Scenario)
    return "\n".join(lines) + "\n"
