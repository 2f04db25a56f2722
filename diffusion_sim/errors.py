"""Errors a user can fix by changing their input (exit code 2 on the CLI)."""

from __future__ import annotations

import argparse
import math
import os
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path


class InputError(Exception):
    """Bad user input: a file, a key or a value the user can correct.

    The message alone must tell the user what to change, so the CLI prints it
    without a traceback and exits with code 2.
    """

    def __init__(self, message: str, *, source: str | None = None) -> None:
        self.source = source
        super().__init__(f"{source}: {message}" if source else message)


# --------------------------------------------------------- command-line arguments
# argparse types: a bad value ends in argparse's own message naming the flag
# ("argument --port: must be ...") and exit code 2, before any work starts.

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


def _nearest_existing(path: Path) -> Path:
    for parent in (path, *path.parents):
        if parent.exists():
            return parent
    return Path.cwd()


def out_folder(text: str) -> str:
    """An argparse type: a folder to write into (existing or not), not a file."""
    _plain(text, "a folder")
    path = Path(text).expanduser()
    existing = _nearest_existing(path)
    if existing == path and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a file, not a folder")
    if not existing.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is inside {str(existing)!r}, a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"cannot write in {str(existing)!r}")
    return text


def out_file(text: str) -> str:
    """An argparse type: a file to write (or a folder, for formats written as several files)."""
    _plain(text, "a file name")
    path = Path(text).expanduser()
    existing = _nearest_existing(path.parent if path.name else path)
    if not existing.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is inside {str(existing)!r}, a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"cannot write in {str(existing)!r}")
    return text


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
