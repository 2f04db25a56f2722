"""Reading scenario files: text, TOML, ``extends``, validation; finding shipped ones.

Every failure is an :class:`~diffusion_sim.errors.InputError` naming the file,
the key (and line) and what is allowed; nothing here prints a value read from a
file that the user did not name.
"""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from diffusion_sim.errors import InputError
from diffusion_sim.scenario.messages import line_of
from diffusion_sim.scenario.numbers import NumberError, checked_float, line_of_literal
from diffusion_sim.scenario.schema import Scenario, parse_scenario
from diffusion_sim.scenario.types import folder_name_from

SHIPPED_SCENARIOS = Path(__file__).resolve().parent.parent / "shipped" / "scenarios"
"""Scenarios that ship with the package (package data: found from any working directory)."""
MAX_FILE_BYTES = 5_000_000
"""Largest scenario or sweep file read (the shipped ones are a few kB)."""
MAX_EXTENDS = 20
"""Longest chain of ``extends``."""


def parse_value(text: str) -> Any:
    """Read a ``--set KEY=VALUE`` value as TOML (numbers, booleans, lists), else a string.

    Numbers as in a file (:mod:`~diffusion_sim.scenario.numbers`): ``1e-400`` is refused.
    """
    try:
        return tomllib.loads(f"v = {text}", parse_float=checked_float)["v"]
    except tomllib.TOMLDecodeError:
        return text
    except NumberError as exc:
        raise InputError(f"--set value {text[:40]!r}: {exc}") from None


def scenario_dirs() -> list[Path]:
    """Where scenarios are looked up by name: ./scenarios (a user's own), then the shipped ones."""
    seen, dirs = set(), []
    for folder in (Path.cwd() / "scenarios", SHIPPED_SCENARIOS):
        if folder.is_dir() and folder.resolve() not in seen:
            seen.add(folder.resolve())
            dirs.append(folder)
    return dirs


def scenario_names() -> list[str]:
    """Names of the scenarios found by :func:`scenario_dirs` (bases starting '_' left out)."""
    names = {
        p.stem for d in scenario_dirs() for p in d.glob("*.toml") if not p.name.startswith("_")
    }
    return sorted(names)


def find_scenario(name: str | Path) -> Path:
    """A path as given, or the name of a shipped scenario (with or without .toml)."""
    path = Path(name)
    if path.exists():
        return path
    if "\x00" in str(name):
        return path
    for folder in scenario_dirs():
        for candidate in (folder / str(name), folder / f"{name}.toml"):
            if candidate.is_file():
                return candidate
    return path  # load_scenario reports it missing, naming the path


def read_text_file(path: Path, kind: str) -> str:
    """A file's text as UTF-8; anything else is an InputError that says what the file is."""
    source = str(path)
    try:
        if path.is_dir():
            raise InputError(f"is a folder, not a {kind} file", source=source)
        if not path.is_file():
            raise InputError(f"no such {kind} file", source=source)
        if path.stat().st_size > MAX_FILE_BYTES:
            raise InputError(
                f"is {path.stat().st_size:,} bytes; a {kind} file may have at most "
                f"{MAX_FILE_BYTES:,}",
                source=source,
            )
        raw = path.read_bytes()
    except (OSError, ValueError) as exc:  # permissions, a NUL in the name, ...
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InputError(f"cannot read this {kind} file: {reason}", source=source) from None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError("is UTF-16 text; save it as UTF-8", source=source)
    if b"\x00" in raw:
        raise InputError(f"is a binary file, not a {kind} file (TOML text)", source=source)
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            f"is not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line}); save it as UTF-8",
            source=source,
        ) from None


def read_toml_file(path: Path, kind: str = "scenario") -> tuple[dict, str]:
    """A TOML file's data and text; a missing, unreadable or empty file is an InputError."""
    text = read_text_file(path, kind)
    try:
        data = tomllib.loads(text, parse_float=checked_float)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", source=str(path)) from None
    except NumberError as exc:
        literal = str(exc).split(" ", 1)[0]
        found = line_of_literal(text, literal)
        where = f"key '{found[1]}' (line {found[0]}): " if found else ""
        raise InputError(f"{where}{exc}", source=str(path)) from None
    if not data:
        raise InputError(
            f"no settings in this file (it is empty or only comments); a {kind} file needs "
            "at least one key",
            source=str(path),
        )
    return data, text


def toml_reference(
    value: Any, file: Path, key: str, text: str | None, *, allow_absolute: bool = False
) -> Path:
    """The .toml file a key of ``file`` names, resolved relative to ``file``'s folder.

    Only ``.toml`` files are read; absolute paths only where ``allow_absolute``.
    """
    line = line_of(text, key)
    where = f"key '{key}'" + (f" (line {line})" if line else "")
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{where}: must be a file name (a string)", source=str(file))
    absolute = PurePosixPath(value).is_absolute() or PureWindowsPath(value).is_absolute()
    if "\x00" in value or value.startswith("~") or (absolute and not allow_absolute):
        raise InputError(
            f"{where}: must be a path relative to this file's folder (e.g. "
            "'_base.toml' or '../scenarios/embedded.toml'), not an absolute path",
            source=str(file),
        )
    if not value.endswith(".toml"):
        raise InputError(f"{where}: must name a .toml file", source=str(file))
    target = file.parent / value
    if not target.is_file():
        raise InputError(f"{where}: no such file {value!r} beside it", source=str(file))
    return target


def load_scenario(path: str | Path, *, show_values: bool = True) -> Scenario:
    """Read and validate a scenario file, or a shipped scenario by name ("embedded").

    ``show_values=False`` keeps the file's values out of messages (key and line
    only): for a file another file names, such as a sweep's scenario.

    Raises
    ------
    InputError
        If the file is missing, is not UTF-8 TOML, or breaks the schema; the
        message names the file, the key (and line) and what is allowed.
    """
    path = find_scenario(path)
    if not path.exists() and not path.is_symlink():
        if len(path.parts) == 1:
            _missing_name(path)
        raise InputError(f"no such scenario file; {how_to_make(path)}", source=str(path))
    data, text, bases = _read_toml(path, chain=())
    elsewhere = f"the file it extends, {bases[0]}" if bases else None
    return parse_scenario(
        data,
        source=str(path),
        name=folder_name_from(path.stem),
        text=text,
        whole_file=True,
        elsewhere=elsewhere,
        show_values=show_values,
    )


def how_to_make(path: Path) -> str:
    """How to make a missing scenario file: the command that writes one to start from."""
    stem = folder_name_from(path.stem)
    return (
        f"to make one, 'diffusion-sim new {stem}' writes a commented {stem}.toml "
        "(add --from embedded to start from a shipped scenario)"
    )


def _missing_name(path: Path) -> None:
    names = scenario_names()
    close = difflib.get_close_matches(path.stem, names, n=3)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise InputError(
        f"no such scenario file or shipped scenario{hint} Shipped: {', '.join(names)}; "
        f"{how_to_make(path)}",
        source=str(path),
    )


def _read_toml(path: Path, chain: tuple[Path, ...]) -> tuple[dict, str, list[str]]:
    """Read a TOML file, merging it over the file its ``extends`` key names."""
    data, text = read_toml_file(path)
    if "extends" not in data:
        return data, text, []
    base_path = toml_reference(data.pop("extends"), path, "extends", text)
    line = line_of(text, "extends")
    where = "key 'extends'" + (f" (line {line})" if line else "")
    if base_path.resolve() in chain or base_path.resolve() == path.resolve():
        raise InputError(
            f"{where}: {base_path.name!r} extends this file in a loop", source=str(path)
        )
    if len(chain) >= MAX_EXTENDS:
        raise InputError(f"{where}: more than {MAX_EXTENDS} files deep", source=str(path))
    try:
        base, _, bases = _read_toml(base_path, (*chain, path.resolve()))
    except InputError as exc:
        if chain:  # the file at the top of the chain names the whole chain once
            raise
        raise InputError(f"{where}: {exc}", source=str(path)) from None
    base.pop("name", None)
    return deep_merge(base, data), text, [base_path.name, *bases]


def deep_merge(base: dict, over: dict) -> dict:
    """``over`` merged into ``base``, tables merged key by key."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
