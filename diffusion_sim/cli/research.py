"""CLI commands ``compare``, ``calibrate``, ``export``: argparse, then work elsewhere.

Kept apart from :mod:`diffusion_sim.cli` so the CLI stays small; every import of
the heavy modules happens when a command runs, not when the parser is built.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from diffusion_sim.cli import args as arg
from diffusion_sim.cli import fitting
from diffusion_sim.errors import InputError


def scenario_with_sets(name: str, sets: list[str] | None):
    """The scenario a command names, with its ``--set`` overrides."""
    return arg.load_with_overrides(name, sets or [])


def _compare_file(args: argparse.Namespace):
    """A compare file's scenarios (``--set`` applied) and settings, flags given winning."""
    from diffusion_sim.studies.compare_file import load_compare_file, settings

    study = load_compare_file(args.scenarios[0])
    overrides, origins = arg.parse_sets(args.set or []), arg.set_origins(args.set or [])
    scenarios = {
        label: scenario.with_overrides(overrides, origins=origins) if overrides else scenario
        for label, scenario in study.scenarios.items()
    }
    windowed = args.at is not None or args.between is not None
    flags = {
        "replicates": args.replicates,
        "seed": args.seed,
        "steps": args.steps,
        "engine": args.engine,
        "window": arg.window_of(args) if windowed else None,
    }
    from diffusion_sim.scenario import folder_name_from

    return scenarios, settings(study, flags), folder_name_from(Path(study.source).stem)


def cmd_compare(args: argparse.Namespace) -> int:
    from diffusion_sim.studies.compare_file import is_compare_file
    from diffusion_sim.studies.comparison import compare, compare_modes

    if len(args.scenarios) == 1 and not args.modes and is_compare_file(args.scenarios[0]):
        labelled, chosen, stem = _compare_file(args)
        if not args.no_save:
            arg.check_out(args)
        comparison = compare(labelled, chosen.pop("replicates"), chosen.pop("seed"), **chosen)
        return _show_and_save(args, comparison, f"compare-{stem}")
    scenarios = [scenario_with_sets(name, args.set) for name in args.scenarios]
    args.replicates = args.replicates or 20
    args.engine = args.engine or "vectorized"
    if not args.no_save:
        arg.check_out(args)
    if args.modes:
        if len(scenarios) != 1:
            raise InputError("compare --modes takes exactly one scenario")
        comparison = compare_modes(
            scenarios[0],
            args.replicates,
            args.seed,
            engine=args.engine,
            steps=args.steps,
            window=arg.window_of(args),
        )
        stem = f"compare-{scenarios[0].name}-modes"
    else:
        comparison = compare(
            scenarios,
            args.replicates,
            args.seed,
            engine=args.engine,
            steps=args.steps,
            window=arg.window_of(args),
        )
        stem = "compare-" + "-vs-".join(s.name for s in scenarios[:3])
    return _show_and_save(args, comparison, stem)


def _show_and_save(args: argparse.Namespace, comparison, stem: str) -> int:
    arg.say_unless_quiet(args)(
        f"{len(comparison.labels)} scenarios x {comparison.replicates} replicates on common "
        f"seeds (root {comparison.seed}); mean [95% interval], Δ paired difference to "
        f"{comparison.labels[0]}"
    )
    print(comparison.format())
    if args.no_save:
        print("not saved (--no-save)")
        return 0
    folder = comparison.save(
        arg.new_results_folder(args, stem),
        chart_format=args.format,
        figsize=args.figsize,
        latex=args.latex,
    )
    tex = ", LaTeX" if args.latex else ""
    print(f"tables (CSV, Parquet{tex}) and curves.{args.format} in {folder}")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    import os
    import sys

    from diffusion_sim.record.storage import check_output_file, write_atomic
    from diffusion_sim.studies.calibration import calibrate, check_span, fit_key, read_adoptions

    if args.no_save and args.write_scenario:
        raise InputError("--no-save and --write-scenario: --no-save writes nothing; choose one")
    scenario = scenario_with_sets(args.scenario, args.set)
    overrides = arg.parse_sets(args.set or [])
    for key in args.fit:  # bad keys and the data file are refused before any work
        fit_key(scenario, key)
    data = read_adoptions(args.data)
    check_span(data, scenario.run.step_unit, args.start, scenario.source)
    if args.write_scenario:  # an existing file is never replaced unless asked, said before work
        check_output_file(args.write_scenario, "--write-scenario", force=args.force)
    with fitting.fit_folder(args, f"calibrate-{scenario.name}") as (folder, work):
        if not args.quiet:
            print(
                f"calibrate {scenario.name}: fitting {', '.join(args.fit)} by "
                f"{'ABC-SMC (posterior)' if args.method == 'abc' else 'point fit'}, "
                f"{args.replicates} replicates per evaluation, {args.workers} worker(s)",
                file=sys.stderr,
            )
        fit = calibrate(
            scenario,
            data,
            args.fit,
            **fitting.calibration_keywords(args, work, overrides),
        )
        print(fit.summary())
        if folder is not None:
            folder = fit.save(folder)
    if folder is None:
        print("not saved (--no-save)")
        return 0
    if args.write_scenario:
        target = Path(args.write_scenario)
        extends = None
        if scenario.source:  # relative: `extends` takes no absolute path (docs/reliability.md)
            extends = os.path.relpath(Path(scenario.source).resolve(), target.resolve().parent)
        text = fit.scenario_toml(extends, target.stem, overrides)
        write_atomic(target, lambda tmp: tmp.write_text(text))
        print(f"fitted scenario written to {target}")
    print(
        f"curve (CSV, Parquet), fit.png and fitted.toml in {folder}"
        + ("; posterior.csv and abc.db (pyabc) too" if args.method == "abc" else "")
        + f"; rerun the fit with: diffusion-sim run {folder / 'fitted.toml'}"
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from diffusion_sim.record.storage import check_output_file, check_output_folder
    from diffusion_sim.simulation import build_world, simulate
    from diffusion_sim.studies.graph_export import export, output_paths

    if args.cascade and args.world_only:
        raise InputError("--cascade and --world-only: a cascade is a run's; choose one")
    scenario = scenario_with_sets(args.scenario, args.set)
    suffix = "" if args.format == "csv" else f".{args.format}"
    what = "cascade" if args.cascade else "network"
    path = Path(args.out) if args.out else Path("results") / f"{scenario.name}-{what}{suffix}"
    if args.format == "csv" and path.suffix == "" and not path.name.endswith("-"):
        check_output_folder(path)  # a folder of tables: its files are checked one by one
    for target in output_paths(path, args.format, args.cascade):  # never replaced unasked
        check_output_file(target, force=args.force)
    world = build_world(scenario)
    result = None if args.world_only else simulate(scenario, args.seed, world=world)
    written = export(
        world, path, args.format, result=result, cascade=args.cascade, force=args.force
    )
    files = ", ".join(str(p) for p in written)
    if args.cascade:
        carried = (result.events["source_city"] >= 0) | (result.events["source_government"] >= 0)
        print(
            f"{int(carried.sum())} adoptions with their source, {world.n_cities} cities -> {files}"
        )
    else:
        ties = sum(m.nnz for m in world.layers.values()) // 2
        networks = len(world.networks)
        print(f"{world.n_cities} cities, {ties} geographic ties, {networks} networks -> {files}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``compare``, ``calibrate`` and ``export`` to the CLI's subparsers (``estimate``'s
    parser is in :mod:`diffusion_sim.cli`; its command is :func:`cmd_estimate`)."""
    comp = sub.add_parser(
        "compare",
        help="run scenarios side by side on common seeds: outcomes with 95%% intervals",
    )
    comp.add_argument(
        "scenarios",
        nargs="+",
        help="scenario files or shipped names, or one compare file (a [compare] table: "
        "scenarios, labels, replicates, seed, at or between; flags given win)",
    )
    comp.add_argument(
        "--modes",
        action="store_true",
        help="one scenario as horizontal, vertical, hierarchical and embedded",
    )
    comp.add_argument("--replicates", type=arg.REPLICATES, help="replicates each (default 20)")
    comp.add_argument("--seed", type=arg.SEED, help="root seed (default: the first's run.seed)")
    comp.add_argument("--steps", type=arg.STEPS, help="steps (default: each scenario's run.steps)")
    comp.add_argument(
        "--engine", choices=("vectorized", "agents"), help="engine (default: vectorized)"
    )
    arg.add_set_flag(comp, ", in every scenario compared")
    comp.add_argument("--out", type=arg.out_folder, help="folder for results (default: ./results)")
    arg.add_window_flags(comp)
    arg.add_chart_flags(comp)
    arg.add_output_flags(comp)
    comp.set_defaults(func=cmd_compare)

    cal = sub.add_parser(
        "calibrate", help="fit parameters to an observed cumulative adoption curve"
    )
    cal.add_argument("scenario", help="scenario file or shipped name")
    cal.add_argument(
        "--data",
        required=True,
        help="CSV of city,date or the JRC Covenant of Mayors signatories file",
    )
    fitting.add_fit_flags(cal, "in the file")
    cal.add_argument(
        "--write-scenario",
        type=arg.out_file,
        metavar="PATH",
        help="also write the fitted scenario (extending the original) here; an existing "
        "file only with --force",
    )
    cal.add_argument(
        "--force", action="store_true", help="replace an existing --write-scenario file"
    )
    arg.add_output_flags(cal)
    cal.set_defaults(func=cmd_calibrate)

    from diffusion_sim.cli.forecast import add_forecast

    add_forecast(sub)  # forecast: calibrate, then check against held-out data

    exp = sub.add_parser(
        "export",
        help="write the world, its networks and a run's adoptions as GraphML/GEXF/CSV",
        description="Write the world, its networks and a run's adoptions as GraphML, GEXF "
        "or CSV. Export exists to write these files, so it has no --no-save.",
    )
    exp.add_argument("scenario", help="scenario file or shipped name")
    exp.add_argument(
        "--format",
        choices=("graphml", "gexf", "csv"),
        default="graphml",
        help="graphml (Gephi, networkx, igraph), gexf (Gephi) or csv (nodes and edges files)",
    )
    exp.add_argument(
        "--out", type=arg.out_file, help="file (or folder for csv); default results/<name>-network"
    )
    exp.add_argument("--seed", type=arg.SEED, help="seed of the run (default: run.seed)")
    exp.add_argument("--world-only", action="store_true", help="the world without a run")
    exp.add_argument(
        "--cascade",
        action="store_true",
        help="the run's cascade: an edge from what carried each adoption to the adopter",
    )
    exp.add_argument(
        "--force", action="store_true", help="replace existing files (every file export writes)"
    )
    arg.add_set_flag(exp)
    arg.add_output_flags(exp, no_save=False)
    exp.set_defaults(func=cmd_export)
