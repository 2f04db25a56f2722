"""One reading of a typed number: scenario files, ``--set`` and the dashboard's inputs.

The rules are TOML's, what a scenario file accepts, so a value typed in the
dashboard is one a file could hold: ASCII digits, ``_`` between digits, a sign, a
fraction and an exponent (``0.5``, ``-2``, ``1e-3``, ``10_000``; ``.5`` is written
``0.5``); a whole number is written without a point or an exponent. Full-width
(``０.５``) and other non-ASCII digits are refused everywhere: TOML refuses them in a
file, and a value the dashboard took but a file could not hold would not survive a
save; the message names the character, so the fix is plain. A literal that is not
zero but whose float is (``1e-400``), or that lies below the smallest normal float
(where digits are lost), is refused instead of silently read as 0.0.
"""

from __future__ import annotations

import re
import sys
import tomllib
import unicodedata

SMALLEST = sys.float_info.min
"""Smallest normal float (about 2.2e-308): a non-zero number nearer 0 loses its digits."""


class NumberError(ValueError):
    """A number that is not written as a scenario file writes it (the message says why)."""


def checked_float(literal: str) -> float:
    """A TOML float literal as a float (``tomllib``'s ``parse_float``), refusing underflow."""
    value = float(literal)
    mantissa = re.split("[eE]", literal)[0]
    if (value == 0.0 and any(c in "123456789" for c in mantissa)) or 0 < abs(value) < SMALLEST:
        raise NumberError(
            f"{literal} is too close to 0 to be held as a number (it would be read as "
            f"{value!r}); write 0, or a number of magnitude at least {SMALLEST:.1e}"
        )
    return value


def _shown(text: str) -> str:
    return repr(text if len(text) <= 24 else text[:24] + "...")


def parse_number(text: object, kind: str = "float") -> int | float:
    """``text`` read as a scenario file reads a number; ``kind`` "int" for a whole number.

    ``inf`` and ``nan`` are read (as TOML reads them); the caller refuses them with
    its range.

    Examples
    --------
    >>> parse_number(" 0.25 "), parse_number("10_000", "int"), parse_number("-1e-3")
    (0.25, 10000, -0.001)
    >>> parse_number("７", "int")
    Traceback (most recent call last):
    ...
    diffusion_sim.scenario.numbers.NumberError: '７' holds the digit '７' (U+FF17): type \
ASCII digits 0-9, as a scenario file needs
    """
    raw = str(text).strip()
    if not raw:
        raise NumberError("empty")
    foreign = next((c for c in raw if not c.isascii()), None)
    if foreign is not None:
        if unicodedata.category(foreign) == "Nd" or unicodedata.numeric(foreign, None) is not None:
            raise NumberError(
                f"{_shown(raw)} holds the digit {foreign!r} (U+{ord(foreign):04X}): type ASCII "
                "digits 0-9, as a scenario file needs"
            )
        raise NumberError(f"{_shown(raw)} is not a number")
    if not re.fullmatch(r"[0-9A-Za-z_+.\-]+", raw):
        raise NumberError(f"{_shown(raw)} is not a number")
    try:
        value = tomllib.loads(f"v = {raw}", parse_float=checked_float)["v"]
    except tomllib.TOMLDecodeError:
        raise NumberError(
            f"{_shown(raw)} is not a number as a scenario file writes it (e.g. 0.5, -2, 1e-3, "
            "10_000)"
        ) from None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise NumberError(f"{_shown(raw)} is not a number")
    if kind == "int" and isinstance(value, float):
        raise NumberError(
            f"{raw} is not a whole number (write it without a point or exponent, e.g. 12)"
        )
    return value


def line_of_literal(text: str, literal: str) -> tuple[int, str] | None:
    """Where a number literal stands in a TOML text: its line and dotted key, if found."""
    table = ""
    pattern = re.compile(r"(?<![\w.+\-])" + re.escape(literal) + r"(?![\w.])")
    for number, line in enumerate(text.splitlines(), 1):
        header = re.match(r"\s*\[+\s*([^\]]+?)\s*\]+", line)
        if header:
            table = header.group(1).replace('"', "")
            continue
        code = line.split("#")[0]
        if "=" in code and pattern.search(code.split("=", 1)[1]):
            key = code.split("=", 1)[0].strip().replace('"', "")
            return number, f"{table}.{key}" if table else key
    return None
