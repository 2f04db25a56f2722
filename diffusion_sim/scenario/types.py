"""Building blocks of the schema: the strict section base and the string types.

Strict so that TOML's types are taken at their word: ``steps = true``,
``enabled = "yes"`` or ``n_cities = "5000"`` are errors, not silently coerced.
Only two coercions stay, because TOML cannot avoid them: an integer where a
float is expected (``rate = 1``) and an array where a tuple is expected.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict

MAX_NAME = 100
"""Longest name (of a scenario, network, government, city, event string)."""

MAX_TEXT = 2000
"""Longest free text (a description)."""

FOLDER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
FOLDER_NAME_RULE = (
    "a folder name: 1-100 characters, letters A-Z a-z, digits, '.', '_' or '-', "
    "starting with a letter or digit, without '..'"
)
_HIDDEN = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co"}  # control, format (e.g. RTL override), ...

WORLD_LAYERS: tuple[str, ...] = ("proximity", "twinning", "graph")
"""Tie layers a world brings itself (synthetic and real worlds; ``World.from_graph``):
a network may not take one of these names, so a layer's label in an export or a
run's provenance always means one layer (``tests/test_poisoning.py`` checks the
worlds built here have no other)."""

LAYER_SEPARATOR = ";"
"""Joins the names of the layers an exported edge belongs to: not allowed in a network's name."""


def is_noncharacter(c: str) -> bool:
    """Unicode's 66 non-characters (U+FDD0..U+FDEF, and U+xFFFE, U+xFFFF in every plane):
    never text, and not allowed in XML, so never in a name that reaches an export."""
    code = ord(c)
    return 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE


LEVELS: tuple[str, ...] = ("region", "nation", "bloc", "global")
"""Levels of government, from the lowest to the highest."""

AT = "\x1f"
"""Separates a dotted key from the message in errors of model validators that concern
one key deeper down (``"events.3.step" + AT + "..."``); messages.py places them there."""

Stance = Literal["hostile", "neutral", "supportive"]


class Section(BaseModel):
    """Base for every scenario section: frozen, strict, and unknown keys are errors.

    Fields holding a tuple say ``Field(strict=False)`` so that TOML arrays are
    accepted; their items stay strict.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


def _hidden_characters(value: str, allowed: str = "") -> list[str]:
    return [
        f"U+{ord(c):04X}"
        for c in value
        if (unicodedata.category(c) in _HIDDEN or is_noncharacter(c)) and c not in allowed
    ]


def check_label(value: str) -> str:
    """A name shown in tables and messages: printable, not blank, at most 100 characters."""
    if not value.strip():
        raise ValueError("must not be empty")
    if len(value) > MAX_NAME:
        raise ValueError(f"must be at most {MAX_NAME} characters, got {len(value)}")
    hidden = _hidden_characters(value)
    if hidden:
        raise ValueError(
            "must not contain control, invisible formatting or non-characters "
            f"(found {', '.join(hidden[:3])})"
        )
    return value


def check_network_name(value: str) -> str:
    """A network's name: a label that is neither a world layer's name nor holds ``;``.

    Its ties are a tie layer named after it, in runs and in exports, beside the
    world's own layers.
    """
    check_label(value)
    if value.strip().casefold() in WORLD_LAYERS:
        raise ValueError(
            f"is the name of a world's own tie layer ({', '.join(WORLD_LAYERS)}); "
            "a network's ties would be confused with it: give the network another name"
        )
    if LAYER_SEPARATOR in value:
        raise ValueError(
            f"must not contain {LAYER_SEPARATOR!r}: exports join the names of an edge's "
            "layers with it"
        )
    return value


def check_text(value: str) -> str:
    """Free text: newlines and tabs allowed, other control characters not."""
    if len(value) > MAX_TEXT:
        raise ValueError(f"must be at most {MAX_TEXT} characters, got {len(value)}")
    hidden = _hidden_characters(value, allowed="\n\t")
    if hidden:
        raise ValueError(
            "must not contain control, invisible formatting or non-characters "
            f"(found {', '.join(hidden[:3])})"
        )
    return value


def check_folder_name(value: str) -> str:
    """A name that becomes a folder of results: nothing that leaves or hides the folder."""
    if not FOLDER_NAME.match(value) or ".." in value:
        raise ValueError(f"must be {FOLDER_NAME_RULE}")
    return value


def folder_name_from(stem: str) -> str:
    """A file's stem made into a valid folder name (for a file without ``name``)."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", stem).replace("..", "_").lstrip("._-")
    return name[:MAX_NAME] or "scenario"


Label = Annotated[str, AfterValidator(check_label)]
NetworkName = Annotated[str, AfterValidator(check_network_name)]
Text = Annotated[str, AfterValidator(check_text)]
FolderName = Annotated[str, AfterValidator(check_folder_name)]
