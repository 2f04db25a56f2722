"""What ``calibrate`` and ``forecast`` share: their fit's flags and their results folder.

Each flag is defined once here and read once (:func:`calibration_keywords`), so the two
commands cannot drift apart; :func:`fit_folder` claims the results folder and gives it
back if the fit fails or is interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from diffusion_sim.cli import args as arg


@contextlib.contextmanager
def fit_folder(args: argparse.Namespace, stem: str) -> Iterator[tuple[Path | None, Path | None]]:
    """(results folder, ABC working folder): None with ``--no-save``; each None if unused.

    The results folder is claimed atomically as ``<--out>/<stem>-<time>``; with ABC a locked
    working folder beside it holds pyabc's database (it moves into the results when saved;
    a killed run's is removed by the next, calibration/workspace.py). If the block fails or
    is interrupted, the claimed folder is given back: no empty results folder stays behind.
    """
    from diffusion_sim.record.storage import give_back
    from diffusion_sim.studies.calibration.workspace import abc_workspace

    folder = None
    if not args.no_save:
        arg.check_out(args)
        folder = arg.new_results_folder(args, stem)
    try:
        with contextlib.ExitStack() as workspace:
            work = None
            if args.method == "abc" and folder is not None:
                work = workspace.enter_context(abc_workspace(folder))
            yield folder, work
    except BaseException:
        if folder is not None:
            give_back(folder)  # only if still empty: a saved result is never removed
        raise


def add_fit_flags(parser: argparse.ArgumentParser, rows: str) -> None:
    """The flags ``calibrate`` and ``forecast`` share, defined once (read by
    :func:`calibration_keywords`); ``rows`` says which rows of the data the fit reads."""
    parser.add_argument(
        "--fit",
        action="append",
        required=True,
        metavar="KEY",
        help="a numeric key to fit, e.g. mechanisms.innovation.rate (repeatable)",
    )
    parser.add_argument(
        "--replicates",
        type=arg.whole_number(1, 1000),
        default=4,
        help="replicates per evaluation, fixed seeds (default 4)",
    )
    parser.add_argument("--seed", type=arg.SEED, help="root seed (default: run.seed)")
    parser.add_argument(
        "--max-evaluations",
        type=arg.whole_number(1, 100_000),
        default=40,
        help="Nelder-Mead budget after the coarse grid (default 40)",
    )
    parser.add_argument(
        "--method",
        choices=("abc", "point"),
        default="abc",
        help="abc: a posterior by ABC-SMC, median and 90%% interval per key and channel "
        "(default); point: best values only, fast",
    )
    parser.add_argument(
        "--prior",
        action="append",
        metavar="KEY=KIND:LOW:HIGH",
        help="prior of a fitted key, e.g. mechanisms.innovation.rate=loguniform:1e-4:0.1 "
        "(default: from the schema's bounds)",
    )
    parser.add_argument(
        "--population",
        type=arg.whole_number(10, 100_000),
        default=100,
        help="ABC-SMC particles per generation (default 100)",
    )
    parser.add_argument(
        "--generations",
        type=arg.whole_number(1, 100),
        default=6,
        help="ABC-SMC generations at most; the last is at temperature 1 (default 6)",
    )
    parser.add_argument(
        "--workers",
        type=arg.WORKERS,
        default=1,
        help="processes for ABC-SMC (pyabc's multicore sampler when > 1; default 1)",
    )
    parser.add_argument(
        "--world-seeds",
        type=arg.whole_number(1, 100),
        help="fit on K world seeds (world.seed and the K-1 after it) and mix the posteriors, "
        "so intervals include the world's invented parts (default 3 on a real world, 1 on a "
        "synthetic one)",
    )
    add_data_world_flags(parser, rows)
    parser.add_argument(
        "--curve-only",
        action="store_true",
        help="fit the adoption curve alone, even when the data says which adoptions were "
        "coordinated",
    )
    parser.add_argument(
        "--start", help="first period of step 0, e.g. 2008-01 (default: first date)"
    )
    parser.add_argument(
        "--denominator",
        type=arg.whole_number(1, 5_000_000),
        help="cities the observed counts are shares of (default: the world's)",
    )
    arg.add_set_flag(parser)
    parser.add_argument(
        "--out", type=arg.out_folder, help="folder for results (default: ./results)"
    )


def add_data_world_flags(parser: Any, rows: str) -> None:
    """``--coordinators`` and ``--receptivity``: world data read from the fit's rows.

    ``rows`` says which rows (e.g. "up to --train-until" for a forecast)."""
    parser.add_argument(
        "--coordinators",
        action="store_true",
        help="with the JRC file on a real world: the coordinators named by the signatories "
        f"outside the world, {rows}, become supportive regional governments",
    )
    parser.add_argument(
        "--receptivity",
        action="store_true",
        help="with the JRC file on a real world: every city's voluntary hazards scaled by its "
        f"country's share of signatories {rows}, to the power the data's map of adopters "
        "chooses (docs/calibration.md)",
    )


def calibration_keywords(args: Any, work: Path | None, overrides: dict) -> dict[str, Any]:
    """What ``calibrate`` and ``forecast`` pass on from the flags they share (one list)."""
    return {
        "method": args.method,
        "replicates": args.replicates,
        "seed": args.seed,
        "max_evaluations": args.max_evaluations,
        "start": args.start,
        "denominator": args.denominator,
        "priors": args.prior or [],
        "coordinated": False if args.curve_only else None,
        "population": args.population,
        "generations": args.generations,
        "workers": args.workers,
        "world_seeds": args.world_seeds,
        "coordinators": args.coordinators,
        "receptivity": args.receptivity,
        "database": work / "abc.db" if work and args.method == "abc" else None,
        "progress": not args.quiet,
        "overrides": overrides,
    }
