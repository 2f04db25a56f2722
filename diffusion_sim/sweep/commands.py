"""The ``sweep`` and ``analyze`` subcommands of ``diffusion-sim``.

Imports nothing heavy at module level: Dask, SALib and EMA Workbench load only
when a command runs, so ``diffusion-sim run`` stays quick.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from diffusion_sim.errors import InputError

SWEEP_DIR = Path(__file__).resolve().parent.parent.parent / "sweeps"


def resolve_sweep_path(name: str) -> Path:
    """A path as given, or the name of a shipped sweep in ./sweeps or the checkout's sweeps/."""
    path = Path(name)
    if path.is_file():
        return path
    for folder in (Path.cwd() / "sweeps", SWEEP_DIR):
        for candidate in (folder / name, folder / f"{name}.toml"):
            if candidate.is_file():
                return candidate
    return path  # load_sweep reports it missing, naming the path


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}")
    return value


def cmd_sweep(args: argparse.Namespace) -> int:
    from diffusion_sim.sweep.runner import RESULTS, run_sweep
    from diffusion_sim.sweep.spec import load_sweep

    sweep = load_sweep(resolve_sweep_path(args.sweep))
    spec = sweep.spec
    folder = Path(args.out) if args.out else Path("results") / spec.name
    where = (
        f"the Dask cluster at {args.scheduler}"
        if args.scheduler
        else f"{args.workers or os.cpu_count()} local worker process(es)"
    )
    print(f"{spec.name}: {spec.design.method} design, {spec.replicates} replicate(s), on {where}")
    try:
        report = run_sweep(
            sweep,
            folder,
            workers=args.workers,
            scheduler=args.scheduler,
            progress=not args.no_progress,
        )
    except KeyboardInterrupt:
        print(
            f"interrupted: finished runs are kept in {folder}; run the same command again "
            "to finish the sweep",
            file=sys.stderr,
        )
        return 130
    if not report.complete:
        print(f"unfinished: {folder} keeps the runs done; run the same command again")
        return 1
    if report.runs_done:
        rate = report.runs_done / report.wall_s if report.wall_s else float("nan")
        print(
            f"{report.runs_done} runs in {report.wall_s:.1f} s ({rate:.1f} runs/s, "
            f"{report.workers} worker(s))"
        )
    print(f"results in {folder / RESULTS}; analyse with: diffusion-sim analyze {folder}")
    return 0


def cmd_analyze(args: argparse.Namespace) -> int:
    from diffusion_sim.sweep.analyze import analyze

    if args.threshold is not None and not 0 < args.threshold <= 1:
        raise InputError(f"--threshold must be in (0, 1], got {args.threshold}")
    analysis = analyze(args.results, questions=args.question, threshold=args.threshold)
    for note in analysis.notes:
        print(f"note: {note}")
    for box in analysis.boxes:
        if box.get("restrictions"):
            limits = "; ".join(box["restrictions"]).replace("`", "") or "(no restriction)"
            print(
                f"{box['question']}: {limits} (density {box['density']:.0%}, "
                f"coverage {box['coverage']:.0%})"
            )
        else:
            print(f"{box['question']}: {box['note']}")
    print(f"report in {analysis.report} ({len(analysis.figures)} figure(s) beside it)")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Register ``sweep`` and ``analyze`` on the main parser's subcommands."""
    sweep = sub.add_parser(
        "sweep",
        help="run a batch sweep (grid, random, LHS, Sobol, Morris) locally or on Dask",
        description="Run every point of a sweep file. Results stream to Parquet parts; "
        "run the same command again to resume an interrupted sweep.",
    )
    sweep.add_argument("sweep", help="a sweep file, or the name of a shipped one (sweeps/)")
    sweep.add_argument(
        "--workers", type=_positive, help="local worker processes (default: all cores)"
    )
    sweep.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="run on an existing Dask cluster instead of local workers",
    )
    sweep.add_argument(
        "--out", help="results folder (default: results/<sweep name>); resumed if it exists"
    )
    sweep.add_argument("--no-progress", action="store_true", help="no progress bar")
    sweep.set_defaults(func=cmd_sweep)

    analyze = sub.add_parser(
        "analyze",
        help="sensitivity indices, main effects and PRIM boxes of a finished sweep",
    )
    analyze.add_argument("results", help="a finished sweep's results folder")
    analyze.add_argument(
        "--question",
        action="append",
        metavar="CONDITION",
        help="a condition for PRIM, e.g. 'share_small >= 0.8' (repeatable)",
    )
    analyze.add_argument(
        "--threshold", type=float, help="PRIM density threshold for --question (default 0.8)"
    )
    analyze.set_defaults(func=cmd_analyze)
