"""The ``sweep`` and ``analyze`` subcommands of ``diffusion-sim``.

Imports nothing heavy at module level: Dask, SALib and EMA Workbench load only
when a command runs, so ``diffusion-sim run`` stays quick.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from diffusion_sim.cli import args as arg
from diffusion_sim.errors import InputError

CONFIRM_RUNS = 20_000
"""Sweeps of more runs than this need ``--yes`` (documented in docs/sweeps.md and --help)."""
CONFIRM_SERIES_VALUES = 50_000_000
"""Sweeps keeping more per-step values than this (runs x kept steps x series; about
400 MB before compression) need ``--yes`` too (docs/sweeps.md and --help)."""
SECONDS_PER_CITY_STEP = 2e-6
"""Rough cost of one city-step on one core, for the estimate printed before a sweep."""

SWEEP_DIR = Path(__file__).resolve().parent.parent / "shipped" / "sweeps"


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


def cmd_sweep(args: argparse.Namespace) -> int:
    from diffusion_sim.record.storage import check_output_folder
    from diffusion_sim.studies.sweep.runner import RESULTS, run_sweep
    from diffusion_sim.studies.sweep.spec import load_sweep

    note = arg.say_unless_quiet(args)  # --quiet: the last line only (where the results are)
    sweep = load_sweep(resolve_sweep_path(args.sweep))
    spec = sweep.spec
    cluster_options = _cluster_options(args)
    if cluster_options is not None:
        n_workers = cluster_options.jobs * (cluster_options.processes or cluster_options.cores or 1)
    else:
        n_workers = args.workers or os.cpu_count() or 1
    _check_size(sweep, n_workers, confirmed=args.yes, note=note)
    folder = Path(args.out) if args.out else Path("results") / spec.name
    check_output_folder(folder)  # before any work
    if args.scheduler:
        where = f"the Dask cluster at {args.scheduler}"
    elif cluster_options is not None:
        where = f"{cluster_options.jobs} Slurm job(s)"
    else:
        where = f"{args.workers or os.cpu_count()} local worker process(es)"
    note(f"{spec.name}: {spec.design.method} design, {spec.replicates} replicate(s), on {where}")
    try:
        report = run_sweep(
            sweep,
            folder,
            workers=args.workers,
            scheduler=args.scheduler,
            cluster=args.cluster,
            cluster_options=cluster_options,
            progress=not (args.no_progress or args.quiet),
            quiet=args.quiet,
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
        note(
            f"{report.runs_done} runs in {report.wall_s:.1f} s ({rate:.1f} runs/s, "
            f"{report.workers} worker(s))"
        )
    if args.csv:
        from diffusion_sim.studies.sweep.series import write_csv

        for path in write_csv(folder):
            note(f"wrote {path}")
    print(f"results in {folder / RESULTS}; analyse with: diffusion-sim analyze {folder}")
    return 0


def _cluster_options(args: argparse.Namespace):
    """The Slurm options of ``--cluster slurm`` (``--cluster-config``), else None."""
    if args.cluster != "slurm":
        if args.cluster_config:
            raise InputError("--cluster-config is for --cluster slurm")
        return None
    from diffusion_sim.studies.sweep.cluster import load_cluster_config, slurm_options

    if args.scheduler:
        raise InputError("--scheduler and --cluster slurm exclude each other: choose one")
    if args.workers:
        raise InputError(
            "--workers counts local processes; with --cluster slurm set 'jobs' (and 'processes' "
            "per job) in the [slurm] table of --cluster-config"
        )
    return load_cluster_config(args.cluster_config) if args.cluster_config else slurm_options({})


def _check_size(sweep, workers: int, *, confirmed: bool, note=print) -> None:
    """Print the run count (and series kept) and a rough time; refuse big sweeps unless ``--yes``.

    Two bounds, one confirmation: more than :data:`CONFIRM_RUNS` runs, or per-step
    series of more than :data:`CONFIRM_SERIES_VALUES` values.
    """
    from diffusion_sim.studies.sweep.spec import design_runs, series_values

    runs = design_runs(sweep)
    world = sweep.base.world
    cities = world.n_cities if world.generator == "synthetic" else (world.max_cities or 10_000)
    per_run = 0.02 + SECONDS_PER_CITY_STEP * cities * sweep.base.run.steps
    hours = runs * per_run / workers / 3600
    estimate = f"{hours * 60:.0f} min" if hours < 2 else f"{hours:.1f} h"
    note(f"{runs:,} runs, roughly {estimate} on {workers} worker(s)")
    values = series_values(sweep)
    if values:
        note(f"per-step series: {values:,} values (about {values * 8 / 1e6:,.0f} MB unpacked)")
    too_big = []
    if runs > CONFIRM_RUNS:
        too_big.append(f"{runs:,} runs is more than {CONFIRM_RUNS:,}")
    if values > CONFIRM_SERIES_VALUES:
        too_big.append(
            f"{values:,} series values is more than {CONFIRM_SERIES_VALUES:,} (keep fewer "
            "series, or raise series_every)"
        )
    if too_big and not confirmed:
        raise InputError(
            f"{'; '.join(too_big)}: pass --yes to run it anyway, or use fewer levels, "
            "samples, values or replicates",
            source=str(sweep.source) if sweep.source else None,
        )


def cmd_analyze(args: argparse.Namespace) -> int:
    from diffusion_sim.studies.sweep.analyze import analyze

    if args.threshold is not None and not 0 < args.threshold <= 1:
        raise InputError(f"--threshold must be in (0, 1], got {args.threshold}")
    from diffusion_sim.studies.sweep.combinations import format_combinations
    from diffusion_sim.studies.sweep.data import load

    data = load(args.results)  # --show is checked before any work
    unknown = [o for o in args.show or [] if o not in data.outcomes]
    if unknown:
        raise InputError(
            f"--show {unknown[0]!r}: not an outcome this sweep recorded; recorded: "
            f"{', '.join(data.outcomes)}"
        )
    analysis = analyze(args.results, questions=args.question, threshold=args.threshold)
    if analysis.combinations is not None:
        print("outcomes per combination: mean [95% interval] over its replicates")
        print(format_combinations(data, analysis.combinations, args.show))
        print(f"every outcome in {analysis.folder / 'combinations.csv'}")
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
        "run the same command again to resume an interrupted sweep. A sweep exists to "
        "write its results folder, so it has no --no-save (use 'diffusion-sim compare "
        "--no-save' to look without writing).",
    )
    sweep.add_argument("sweep", help="a sweep file, or the name of a shipped one (sweeps/)")
    sweep.add_argument(
        "--workers",
        type=arg.WORKERS,
        help="local worker processes (default: all cores)",
    )
    sweep.add_argument(
        "--scheduler",
        type=arg.scheduler_url,
        metavar="tcp://HOST:PORT",
        help="run on an existing Dask cluster instead of local workers",
    )
    sweep.add_argument(
        "--cluster",
        choices=("local", "slurm"),
        default="local",
        help="where workers run: local processes (default), or Slurm jobs through "
        "dask-jobqueue (docs/sweeps.md)",
    )
    sweep.add_argument(
        "--cluster-config",
        metavar="FILE",
        help="TOML file with a [slurm] table: jobs, cores, processes, memory, walltime, "
        "queue, account, ... (keys left out: dask-jobqueue's config, then defaults)",
    )
    sweep.add_argument(
        "--out",
        type=arg.out_folder,
        help="results folder (default: results/<sweep name>); resumed if it exists",
    )
    sweep.add_argument(
        "--yes",
        action="store_true",
        help=f"run a sweep of more than {CONFIRM_RUNS:,} runs, or keeping more than "
        f"{CONFIRM_SERIES_VALUES:,} per-step series values, without refusing",
    )
    sweep.add_argument(
        "--csv",
        action="store_true",
        help="also write results.csv (and series.csv) beside the Parquet tables when the "
        "sweep finishes (for NetLogo BehaviorSpace users, spreadsheets, R)",
    )
    sweep.add_argument("--no-progress", action="store_true", help="no progress bar")
    arg.add_output_flags(sweep, no_save=False)
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
        "--threshold", type=arg.fraction, help="PRIM density threshold for --question (default 0.8)"
    )
    analyze.add_argument(
        "--show",
        action="append",
        metavar="OUTCOME",
        help="a grid: print this outcome per combination (repeatable; default: the first "
        "four recorded; combinations.csv holds them all)",
    )
    analyze.set_defaults(func=cmd_analyze)
