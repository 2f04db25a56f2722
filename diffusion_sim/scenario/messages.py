"""Messages for schema errors: the key, the line it is on, and what is allowed.

:func:`key_lines` tracks TOML table headers (``[run]``, ``[[events]]``) so a key
is found by its full dotted path: ``run.steps`` is not confused with an event's
``step``, and ``events[3].step`` points into the fourth ``[[events]]`` block.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from diffusion_sim.scenario.types import AT

Path_ = tuple[Any, ...]
_BARE = re.compile(r"[A-Za-z0-9_-]+")


def _unquoted(quoted: str) -> str:
    """A quoted key's name: TOML decodes a basic string's escapes ("a\\u202eb"), not a literal's."""
    try:
        return tomllib.loads(f"k = {quoted}")["k"]
    except tomllib.TOMLDecodeError:
        return quoted[1:-1]


def _split_key(text: str) -> tuple[list[str], str] | None:
    """Split ``a."b.c".d = rest`` into (['a', 'b.c', 'd'], rest), or None if not a key."""
    parts: list[str] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] in "\"'":
            quote = text[i]
            end = text.find(quote, i + 1)
            while quote == '"' and end > 0 and text[end - 1] == "\\":
                end = text.find(quote, end + 1)
            if end < 0:
                return None
            parts.append(_unquoted(text[i : end + 1]))
            i = end + 1
        else:
            match = _BARE.match(text, i)
            if not match:
                return None
            parts.append(match.group())
            i = match.end()
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] == ".":
            i += 1
            continue
        if i < n and text[i] == "=":
            return parts, text[i + 1 :]
        return None
    return None


def _open_brackets(value: str) -> int:
    """Net count of [ and { outside strings in a value (a multi-line array stays open)."""
    depth, quote = 0, ""
    i = 0
    while i < len(value):
        c = value[i]
        if quote:
            if c == "\\" and quote == '"':
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == "#":
            break
        elif c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
        i += 1
    return depth


def key_lines(text: str | None) -> dict[Path_, int]:
    """The line of every table header and key in TOML text, by full path.

    Arrays of tables get their index: the second ``[[events]]`` block is
    ``("events", 1)``. Keys inside multi-line arrays and strings are skipped.
    """
    lines: dict[Path_, int] = {}
    if not text:
        return lines
    counts: dict[Path_, int] = {}
    table: Path_ = ()
    depth, in_string = 0, ""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if in_string:
            if in_string in line:
                in_string = ""
            continue
        if depth > 0:
            depth += _open_brackets(line)
            continue
        if not line or line.startswith("#"):
            continue
        header = re.match(r"^(\[\[?)\s*(.+?)\s*(\]\]?)\s*(#.*)?$", line)
        if header and header.group(1) == "[" * len(header.group(3)):
            split = _split_key(header.group(2) + " =")
            if split is None:
                continue
            names = tuple(split[0])
            if header.group(1) == "[[":
                base = (*_resolve(names[:-1], counts), names[-1])
                index = counts.get(base, -1) + 1
                counts[base] = index
                table = (*base, index)
            else:
                table = _resolve(names, counts)
            lines.setdefault(table, number)
            continue
        split = _split_key(line)
        if split is None:
            continue
        parts, rest = split
        path = (*table, *parts)
        lines.setdefault(path, number)
        for cut in range(len(table) + 1, len(path)):
            lines.setdefault(path[:cut], number)
        value = rest.strip()
        for quote in ('"""', "'''"):
            if value.startswith(quote) and value.count(quote) == 1:
                in_string = quote
        depth = _open_brackets(value)
    return lines


def _resolve(names: tuple[str, ...], counts: dict[Path_, int]) -> Path_:
    """A header's path with the current index of every array of tables on the way."""
    path: Path_ = ()
    for name in names:
        path = (*path, name)
        if path in counts:
            path = (*path, counts[path])
    return path


def line_of(text: str | None, key: str | Sequence[Any]) -> int | None:
    """The line of a key (a dotted string or a path), or of its nearest enclosing table."""
    if not text:
        return None
    path = tuple(key.split(".")) if isinstance(key, str) else tuple(key)
    lines = key_lines(text)
    for cut in range(len(path), 0, -1):
        if path[:cut] in lines:
            return lines[path[:cut]]
    return None


def exact_line_of(text: str | None, key: Sequence[Any]) -> int | None:
    """The line of exactly this key, or None (the key came from elsewhere, e.g. a base)."""
    return key_lines(text).get(tuple(key)) if text else None


def shown(value: Any, limit: int = 60) -> str:
    """A value for a message: its repr, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_errors(
    exc: ValidationError, allowed_at: Callable[[tuple], list[str]]
) -> list[tuple[Path_, str, Any]]:
    """Each schema error as (path, what is wrong and allowed, the value given or None)."""
    described = []
    for err in exc.errors():
        loc = _clean(tuple(err["loc"]))
        given = err.get("input")
        kind = err["type"]
        if kind == "extra_forbidden":
            allowed = allowed_at(loc)
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            allowed_text = f"; allowed here: {', '.join(allowed)}" if allowed else ""
            described.append((loc, f"unknown key{hint}{allowed_text}", None))
        elif kind == "missing":
            described.append((loc, "required key is missing", None))
        elif kind in ("union_tag_invalid", "union_tag_not_found"):
            tags = (err.get("ctx") or {}).get("expected_tags", "")
            allowed = tags.replace("'", "")
            what = (
                f"unknown event kind {shown(err['ctx'].get('tag'))}"
                if kind == "union_tag_invalid"
                else "an event needs a 'kind'"
            )
            at = (*loc, "kind") if kind == "union_tag_invalid" else loc
            described.append((at, f"{what}; allowed kinds: {allowed}", None))
        else:
            message = err["msg"].removeprefix("Value error, ")
            value = None if isinstance(given, dict | list | tuple) else given
            if AT in message:  # a model validator naming the key deeper down
                deeper, message = message.split(AT, 1)
                loc = (*loc, *(int(p) if p.isdigit() else p for p in deeper.split(".")))
                value = None
            described.append((loc, message, value))
    return described


def _clean(loc: Path_) -> Path_:
    """Drop pydantic's internal parts: an event's tag after its index, '[key]' markers."""
    out: list[Any] = []
    for i, part in enumerate(loc):
        if part == "[key]":
            continue
        if i >= 2 and loc[0] == "events" and i == 2 and isinstance(loc[1], int):
            continue  # the discriminator's tag, e.g. 'stance'
        if isinstance(part, str) and part.endswith("Event"):
            continue
        out.append(part)
    return tuple(out)


def key_text(path: Path_) -> str:
    """``events[3].step`` for ('events', 3, 'step'); a name's invisible characters escaped.

    A key is shown as written, but a control or formatting character (a newline,
    an RTL override) is shown as ``\\u202e``: printed raw it would garble the message.
    """
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
            continue
        name = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in str(part))
        text += f".{name}" if text else name
    return text or "(top level)"


def format_validation_errors(
    exc: ValidationError,
    text: str | None,
    *,
    header: str,
    allowed_at: Callable[[tuple], list[str]],
    origins: Mapping[str, str] | None = None,
    elsewhere: str | None = None,
    show_values: bool = True,
) -> str:
    """One message for all of a file's schema errors: key, line, what is allowed.

    Shared by scenario and sweep files; ``allowed_at(loc)`` lists the keys
    allowed where an unknown key stands, for the did-you-mean. A value is shown
    only where it was written in ``text`` or given in ``origins`` (never one
    read from a base file). ``origins`` maps a dotted key to how the user gave
    it (``--set k=v``): errors under it name that instead of a line.
    ``elsewhere`` names where keys not in ``text`` come from (a base file).
    ``show_values=False`` shows no value at all (a file the user named only by
    reference, such as a sweep's scenario: key and line, never its contents).
    """
    lines = []
    for loc, message, value in describe_errors(exc, allowed_at):
        dotted = ".".join(str(p) for p in loc)
        found = _origin_of(dotted, origins or {})
        if found is not None:
            key, origin = found
            at = "" if dotted == key else f" (at '{key_text(loc)}')"
            lines.append(f"{origin}: {message}{at}")
            continue
        exact = exact_line_of(text, loc)
        line = exact or line_of(text, loc)
        if exact is None and elsewhere and not _written_under(text, loc):
            where = f"key '{key_text(loc)}' (in {elsewhere})"
        else:
            where = f"key '{key_text(loc)}'" + (f" (line {line})" if line else "")
        written = exact or not text
        got = f" (got {shown(value)})" if show_values and value is not None and written else ""
        lines.append(f"{where}: {message}{got}")
    return "\n  ".join([header, *lines])


def _written_under(text: str | None, loc: Path_) -> bool:
    """Whether ``text`` holds a table or inline value (below the top level) around ``loc``."""
    lines = key_lines(text)
    return any(loc[:cut] in lines for cut in range(2, len(loc)))


def all_attributed(exc: ValidationError, origins: Mapping[str, str] | None) -> bool:
    """Whether every error lies under a key in ``origins`` (the file is then not to blame)."""
    if not origins:
        return False
    return all(
        _origin_of(".".join(str(p) for p in _clean(tuple(err["loc"]))), origins) is not None
        for err in exc.errors()
    )


def _origin_of(dotted: str, origins: Mapping[str, str]) -> tuple[str, str] | None:
    for key, origin in origins.items():
        if dotted == key or dotted.startswith(key + ".") or key.startswith(dotted + "."):
            return key, origin
    return None
