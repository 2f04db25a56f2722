"""``diffusion-sim new NAME [--from SCENARIO]``: a commented scenario file to start from.

The text comes from :func:`diffusion_sim.scenario.template.scenario_text` (every
comment read from the schema); this module only names and writes the file,
whole or not at all, and never over an existing one unless ``--force``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from pathlib import Path

from diffusion_sim.cli import args as arg
from diffusion_sim.errors import InputError


def add_command(sub) -> None:
    """The ``new`` subcommand (argparse only)."""
    new = sub.add_parser("new", help="write a commented scenario file NAME.toml to start from")
    new.add_argument("name", help="the scenario's name; the file is NAME.toml")
    new.add_argument(
        "--from",
        dest="source",
        metavar="SCENARIO",
        help="start from this scenario's values (a shipped name, e.g. embedded, or a file); "
        "default: the schema's defaults",
    )
    new.add_argument(
        "--out",
        type=arg.out_folder,
        help="an existing folder to write NAME.toml into (default: the current folder)",
    )
    new.add_argument("--force", action="store_true", help="overwrite an existing NAME.toml")
    new.set_defaults(func=cmd_new)


def cmd_new(args: argparse.Namespace) -> int:
    from diffusion_sim.scenario import Scenario, check_folder_name, load_scenario
    from diffusion_sim.scenario.template import scenario_text

    name = args.name.removesuffix(".toml")
    try:
        check_folder_name(name)
    except ValueError as exc:
        raise InputError(
            f"new: NAME {args.name!r} {exc} (it names the file and its results)"
        ) from None
    folder = Path(args.out).expanduser() if args.out else Path.cwd()
    if not folder.is_dir():
        raise InputError(f"new --out {args.out}: no such folder (create it first)")
    if args.source:
        base, origin = load_scenario(args.source), f"'{args.source}'"
    else:
        base, origin = Scenario(), "the defaults"
    path = folder / f"{name}.toml"
    write_text_file(path, scenario_text(base, name, origin), force=args.force)
    shown = path if args.out else Path(path.name)
    print(f"wrote {shown} (values of {origin})")
    print(f"check it: diffusion-sim validate {shown}   run it: diffusion-sim run {shown}")
    return 0


def write_text_file(path: Path, text: str, *, force: bool) -> None:
    """Write ``path`` whole; without ``force`` an existing file (even one made meanwhile) stays.

    The text is written beside it first, then linked to its name (``link`` never
    replaces a file) or, with ``force``, renamed over it.
    """
    from diffusion_sim.record.storage import write_atomic

    if path.is_dir():
        raise InputError(f"new: {path} is a folder")
    if (path.exists() or path.is_symlink()) and not force:
        raise InputError(f"new: {path} exists; pass --force to overwrite it (or choose a NAME)")

    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    if force:
        write_atomic(path, write)
        return
    staged = path.with_name(f".{path.stem}.new{path.suffix}")
    write_atomic(staged, write)
    try:
        os.link(staged, path)
    except FileExistsError:
        raise InputError(
            f"new: {path} exists; pass --force to overwrite it (or choose a NAME)"
        ) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(staged)
