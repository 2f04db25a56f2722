"""argparse types for every command: a bad value is refused before any work starts.

A bad value ends in argparse's own message naming the flag ("argument --port:
must be ...") and exit code 2. Output folders are checked by the same rule as
everything that writes results (:func:`diffusion_sim.record.storage.check_output_folder`).
"""

from __future__ import annotations

import argparse
import math
import re
import unicodedata
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from diffusion_sim.errors import InputError
from diffusion_sim.record.storage import check_output_folder

MAX_SEED = 2**63 - 1


def whole_number(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high``."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be a whole number from {low} to {high}, got {text!r}"
            ) from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"must be a whole number from {low} to {high}, got {text!r}"
            )
        return value

    parse.__name__ = "whole number"
    return parse


SEED = whole_number(0, MAX_SEED)
STEPS = whole_number(1, 100_000)  # run.steps' bound in the schema
REPLICATES = whole_number(1, 100_000)  # run.replicates' bound in the schema
WORKERS = whole_number(1, 1024)


def fraction(text: str) -> float:
    """An argparse type: a number in (0, 1]."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1], got {text!r}")
    return value


def _plain(text: str, what: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError(f"must be {what}, got an empty string")
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in text):
        raise argparse.ArgumentTypeError(f"must be {what} without control characters")
    return text


def out_folder(text: str) -> str:
    """An argparse type: a folder results can go into (existing or not; nothing is created)."""
    _plain(text, "a folder")
    try:
        check_output_folder(Path(text).expanduser(), flag="")
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc).strip()) from None
    return text


def out_file(text: str) -> str:
    """An argparse type: a file to write (or a folder, for formats written as several files)."""
    _plain(text, "a file name")
    path = Path(text).expanduser()
    try:
        check_output_folder(path.parent if path.name else path, flag="")
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc).strip()) from None
    return text


def name_list(text: str) -> list[str]:
    """An argparse type: comma-separated names (keys, layers), none empty."""
    _plain(text, "comma-separated names")
    items = [item.strip() for item in text.split(",")]
    if not all(items):
        raise argparse.ArgumentTypeError(
            f"must be comma-separated names such as innovation.rate,horizontal.strength, "
            f"none empty; got {text!r}"
        )
    return items


def port(text: str) -> int:
    """An argparse type: a TCP port, 1-65535."""
    return whole_number(1, 65535)(text)


def host(text: str) -> str:
    """An argparse type: a host name or address (no spaces, no scheme)."""
    _plain(text, "a host name or address")
    if not re.fullmatch(r"[A-Za-z0-9._:\[\]-]{1,253}", text):
        raise argparse.ArgumentTypeError(
            f"must be a host name or IP address such as 127.0.0.1, got {text!r}"
        )
    return text


_SCHEDULER = re.compile(r"(tcp|tls|ws|wss)://([A-Za-z0-9._-]{1,253}|\[[0-9A-Fa-f:]+\]):(\d{1,5})/?")


def scheduler_url(text: str) -> str:
    """An argparse type: a Dask scheduler address, ``tcp://host:port``."""
    match = _SCHEDULER.fullmatch(text)
    if not match or not 1 <= int(match.group(3)) <= 65535:
        raise argparse.ArgumentTypeError(
            f"must be a scheduler address like tcp://host:8786 (tcp, tls, ws or wss; port "
            f"1-65535), got {text!r}"
        )
    return text


# ------------------------------------------------------------------ --set KEY=VALUE


def parse_sets(items: Sequence[str]) -> dict[str, Any]:
    """``--set KEY=VALUE`` flags as dotted overrides (values read as TOML, else strings)."""
    from diffusion_sim.scenario import parse_value

    overrides: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise InputError(f"--set takes KEY=VALUE, got {item!r}")
        if not all(part.strip() and part == part.strip() for part in key.split(".")):
            raise InputError(
                f"--set {item}: KEY must be a dotted key like mechanisms.horizontal.rule"
            )
        if key in overrides:
            raise InputError(f"--set {item}: '{key}' is set twice")
        overrides[key] = parse_value(value.strip())
    return overrides


def set_origins(items: Sequence[str]) -> dict[str, str]:
    """How each ``--set`` key was written, for messages that name the flag."""
    return {item.partition("=")[0].strip(): f"--set {item}" for item in items}


def load_with_overrides(name: str, sets: Sequence[str], **run_flags: int | None) -> Any:
    """A scenario file or shipped name, with ``--set`` flags and ``--steps/--replicates/--seed``.

    Every command loads its scenario here, so an error names the flag that caused it.
    """
    from diffusion_sim.scenario import find_scenario, load_scenario

    scenario = load_scenario(find_scenario(name))
    overrides, origins = parse_sets(sets), set_origins(sets)
    for flag, value in run_flags.items():
        if value is not None:
            overrides[f"run.{flag}"] = value
            origins[f"run.{flag}"] = f"--{flag} {value}"
    return scenario.with_overrides(overrides, origins=origins) if overrides else scenario


# ------------------------------------------------------------------ --quiet / --no-save

QUIET_HELP = "no progress bars or progress notes: only the final summary, and errors"
NO_SAVE_HELP = "print the summary, write nothing to disk (no results folder)"


def new_results_folder(args: argparse.Namespace, stem: str) -> Path:
    """A new folder for this command's results, claimed atomically (never an existing one)."""
    from diffusion_sim.record.storage import reserve_folder, timestamp

    return reserve_folder(Path(args.out or "results"), f"{stem}-{timestamp()}")


def check_out(args: argparse.Namespace) -> None:
    """Fail on an unusable --out before any work."""
    check_output_folder(args.out or "results")


def add_set_flag(parser: argparse.ArgumentParser, where: str = "") -> None:
    """``--set KEY=VALUE``, read by :func:`parse_sets`; ``where`` says what it overrides."""
    parser.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a scenario key by its dotted name, e.g. world.n_cities=500 or "
        f"mechanisms.horizontal.rule=contagion{where} (repeatable)",
    )


def add_output_flags(parser: argparse.ArgumentParser, *, no_save: bool = True) -> None:
    """``--quiet`` (and ``--no-save``) with the same words on every command."""
    parser.add_argument("--quiet", action="store_true", help=QUIET_HELP)
    if no_save:
        parser.add_argument("--no-save", action="store_true", help=NO_SAVE_HELP)


def say_unless_quiet(args: argparse.Namespace) -> Callable[..., None]:
    """``print`` for progress notes, or a function printing nothing under ``--quiet``."""
    if getattr(args, "quiet", False):
        return lambda *_args, **_kwargs: None
    return print


# ------------------------------------------------------------------ windows and charts


def step_pair(text: str) -> tuple[int, int]:
    """An argparse type: ``A:B``, two steps with 0 <= A < B (``--between 60:120``)."""
    from diffusion_sim.record.outcomes import parse_between

    try:
        return parse_between(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def figure_size(text: str) -> tuple[float, float]:
    """An argparse type: ``WIDTH,HEIGHT`` in inches (``--figsize 8,4.5``)."""
    from diffusion_sim.record.charts import figure_size as parse

    try:
        return parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_window_flags(parser: argparse.ArgumentParser) -> None:
    """``--at STEP`` / ``--between A:B``: where outcomes are measured (default: the last step)."""
    window = parser.add_mutually_exclusive_group()
    window.add_argument(
        "--at", type=whole_number(0, 100_000), metavar="STEP", help="outcomes at this step"
    )
    window.add_argument(
        "--between",
        type=step_pair,
        metavar="A:B",
        help="change of each outcome from step A to step B, e.g. 60:120",
    )


def window_of(args: argparse.Namespace) -> Any:
    from diffusion_sim.record.outcomes import Window

    return Window(at=getattr(args, "at", None), between=getattr(args, "between", None))


def add_chart_flags(parser: argparse.ArgumentParser, *, latex: bool = True) -> None:
    """``--format``, ``--figsize`` (and ``--latex``): charts and tables for a paper."""
    parser.add_argument(
        "--format", choices=("png", "svg", "pdf"), default="png", help="chart format (png)"
    )
    parser.add_argument(
        "--figsize", type=figure_size, metavar="W,H", help="chart size in inches, e.g. 8,4.5"
    )
    if latex:
        parser.add_argument(
            "--latex", action="store_true", help="also write the outcome table as LaTeX"
        )
