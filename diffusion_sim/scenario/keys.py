"""The schema's keys: where a dotted key leads, its bounds, and setting it in plain data.

Public so that sweeps and calibration walk the schema the same way the
scenario loader does (one definition of what a key is).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from diffusion_sim.errors import InputError


def model_of(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The model class an annotation holds, and whether it is keyed (a dict of them)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    origin = getattr(annotation, "__origin__", None)
    args = getattr(annotation, "__args__", ())
    if origin is dict and args:
        inner, _ = model_of(args[-1])
        return inner, True
    return None, False


def _field_named(model: type[BaseModel], part: str) -> FieldInfo | None:
    fields = model.model_fields
    return fields.get(part) or next((f for f in fields.values() if f.alias == part), None)


def field_at(model: type[BaseModel], key: str | Sequence[Any]) -> FieldInfo | None:
    """The field a dotted key names (names under a keyed section skipped), or None.

    Examples
    --------
    >>> from diffusion_sim.scenario import Scenario
    >>> field_at(Scenario, "networks.c40.size").annotation
    <class 'int'>
    """
    parts = key.split(".") if isinstance(key, str) else list(key)
    current: type[BaseModel] | None = model
    field: FieldInfo | None = None
    skip_next = False
    for part in parts:
        if skip_next:
            skip_next = False
            continue
        if current is None or isinstance(part, int):
            return None
        field = _field_named(current, str(part))
        if field is None:
            return None
        current, skip_next = model_of(field.annotation)
    return field


def allowed_keys(model: type[BaseModel], loc: Sequence[Any]) -> list[str]:
    """The keys allowed where the last part of ``loc`` stands, for did-you-mean."""
    if len(loc) <= 1:
        current: type[BaseModel] | None = model
    else:
        field = field_at(model, loc[:-1])
        current = model_of(field.annotation)[0] if field is not None else None
        # loc[:-1] may end on a name under a keyed section: that name's model is meant.
    if current is None:
        return []
    return [f.alias or n for n, f in current.model_fields.items() if n != "source"]


def bounds(field: FieldInfo) -> dict[str, float]:
    """The numeric bounds of a field: some of ``ge``, ``gt``, ``le``, ``lt``."""
    found = {}
    for meta in field.metadata:
        for attr in ("ge", "gt", "le", "lt"):
            value = getattr(meta, attr, None)
            if value is not None:
                found[attr] = value
    return found


def iter_fields(
    model: type[BaseModel], prefix: str = ""
) -> Iterator[tuple[str, FieldInfo, type[BaseModel]]]:
    """Every leaf field under a model: (dotted key, field, model holding it).

    Keyed sections appear as ``<name>``; event fields are not walked.
    """
    for name, field in model.model_fields.items():
        if name == "source":
            continue
        key = prefix + (field.alias or name)
        inner, keyed = model_of(field.annotation)
        if inner is not None:
            yield from iter_fields(inner, key + (".<name>." if keyed else "."))
        else:
            yield key, field, model


def set_dotted(
    data: dict, key: str, value: Any, *, declared: Sequence[str] = (), source: str | None = None
) -> None:
    """Set a dotted key in plain data, creating sections on the way.

    Under a keyed section named in ``declared`` (``networks``), a name the data
    lacks is refused with a did-you-mean unless the whole table is given, so a
    typo in ``networks.c4O.size`` does not create a network.
    """
    parts = key.split(".")
    if not all(parts):
        raise InputError(f"'{key}' is not a dotted key (an empty part)", source=source)
    node = data
    for i, part in enumerate(parts[:-1]):
        child = node.get(part)
        if i == 1 and parts[0] in declared and child is None and len(parts) > 2:
            names = sorted(node)
            close = difflib.get_close_matches(part, names, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            known = f" Known: {', '.join(names)}" if names else " The scenario has none."
            raise InputError(
                f"no {parts[0].rstrip('s')} '{part}'{hint}{known} (to add one, give its "
                f"whole table: {parts[0]}.{part}={{...}})",
                source=source,
            )
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise InputError(
                f"cannot set '{key}': '{'.'.join(parts[: i + 1])}' is not a section",
                source=source,
            )
        node = child
    node[parts[-1]] = value
