"""CLI commands ``compare``, ``calibrate`` and ``export``: argparse here, work in their modules.

Kept apart from :mod:`diffusion_sim.cli` so the CLI stays small; every import of
the heavy modules happens when a command runs, not when the parser is built.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from diffusion_sim.errors import InputError


def _scenario(name: str, sets: list[str] | None):
    from diffusion_sim.cli import _parse_sets
    from diffusion_sim.scenario import find_scenario, load_scenario

    scenario = load_scenario(find_scenario(name))
    overrides = _parse_sets(sets or [])
    return scenario.with_overrides(overrides) if overrides else scenario


def _out(args: argparse.Namespace, stem: str) -> Path:
    from diffusion_sim.results import timestamp

    return Path(args.out or "results") / f"{stem}-{timestamp()}"


def cmd_compare(args: argparse.Namespace) -> int:
    from diffusion_sim.comparison import compare, compare_modes

    scenarios = [_scenario(name, args.set) for name in args.scenarios]
    if args.modes:
        if len(scenarios) != 1:
            raise InputError("compare --modes takes exactly one scenario")
        comparison = compare_modes(
            scenarios[0], args.replicates, args.seed, engine=args.engine, steps=args.steps
        )
        stem = f"compare-{scenarios[0].name}-modes"
    else:
        comparison = compare(
            scenarios, args.replicates, args.seed, engine=args.engine, steps=args.steps
        )
        stem = "compare-" + "-vs-".join(s.name for s in scenarios[:3])
    print(
        f"{len(comparison.labels)} scenarios x {comparison.replicates} replicates on common "
        f"seeds (root {comparison.seed}); mean [95% interval], Δ paired difference to "
        f"{comparison.labels[0]}"
    )
    print(comparison.format())
    folder = comparison.save(_out(args, stem))
    print(f"tables (CSV, Parquet) and curves.png in {folder}")
    return 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    from diffusion_sim.calibration import calibrate

    scenario = _scenario(args.scenario, args.set)
    fit = calibrate(
        scenario,
        args.data,
        args.fit,
        replicates=args.replicates,
        seed=args.seed,
        max_evaluations=args.max_evaluations,
        start=args.start,
        denominator=args.denominator,
    )
    print(fit.summary())
    folder = fit.save(_out(args, f"calibrate-{scenario.name}"))
    if args.write_scenario:
        target = Path(args.write_scenario)
        extends = None
        if scenario.source:
            extends = Path(scenario.source).resolve()
            try:
                extends = extends.relative_to(target.resolve().parent)
            except ValueError:
                pass
        from diffusion_sim.cli import _parse_sets

        overrides = _parse_sets(args.set or [])
        text = fit.scenario_toml(str(extends) if extends else None, target.stem, overrides)
        target.write_text(text)
        print(f"fitted scenario written to {target}")
    print(f"curve (CSV, Parquet), fit.png and fitted.toml in {folder}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from diffusion_sim.graph_export import export
    from diffusion_sim.simulation import build_world, simulate

    scenario = _scenario(args.scenario, args.set)
    world = build_world(scenario)
    result = None if args.world_only else simulate(scenario, args.seed, world=world)
    suffix = "" if args.format == "csv" else f".{args.format}"
    path = Path(args.out) if args.out else Path("results") / f"{scenario.name}-network{suffix}"
    written = export(world, path, args.format, result=result)
    print(
        f"{world.n_cities} cities, {sum(m.nnz for m in world.layers.values()) // 2} "
        f"geographic ties, {len(world.networks)} networks -> " + ", ".join(str(p) for p in written)
    )
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``compare``, ``calibrate`` and ``export`` to the CLI's subparsers."""
    comp = sub.add_parser(
        "compare",
        help="run scenarios side by side on common seeds: outcomes with 95%% intervals",
    )
    comp.add_argument("scenarios", nargs="+", help="scenario files or shipped names")
    comp.add_argument(
        "--modes",
        action="store_true",
        help="one scenario as horizontal, vertical, hierarchical and embedded",
    )
    comp.add_argument("--replicates", type=int, default=20, help="replicates each (default 20)")
    comp.add_argument("--seed", type=int, help="root seed (default: the first's run.seed)")
    comp.add_argument("--steps", type=int, help="steps (default: each scenario's run.steps)")
    comp.add_argument("--engine", choices=("vectorized", "agents"), default="vectorized")
    comp.add_argument("--set", action="append", metavar="KEY=VALUE", help="override in all")
    comp.add_argument("--out", help="folder for results (default: ./results)")
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
    cal.add_argument(
        "--fit",
        action="append",
        required=True,
        metavar="KEY",
        help="a numeric key to fit, e.g. mechanisms.innovation.rate (repeatable)",
    )
    cal.add_argument(
        "--replicates",
        type=int,
        default=4,
        help="replicates per evaluation, fixed seeds (default 4)",
    )
    cal.add_argument("--seed", type=int, help="root seed (default: run.seed)")
    cal.add_argument(
        "--max-evaluations",
        type=int,
        default=40,
        help="Nelder-Mead budget after the coarse grid (default 40)",
    )
    cal.add_argument("--start", help="first period of step 0, e.g. 2008-01 (default: first date)")
    cal.add_argument(
        "--denominator",
        type=int,
        help="cities the observed counts are shares of (default: the world's)",
    )
    cal.add_argument(
        "--write-scenario",
        metavar="PATH",
        help="also write the fitted scenario (extending the original) here",
    )
    cal.add_argument("--set", action="append", metavar="KEY=VALUE")
    cal.add_argument("--out", help="folder for results (default: ./results)")
    cal.set_defaults(func=cmd_calibrate)

    exp = sub.add_parser(
        "export", help="write the world, its networks and a run's adoptions as GraphML/GEXF/CSV"
    )
    exp.add_argument("scenario", help="scenario file or shipped name")
    exp.add_argument("--format", choices=("graphml", "gexf", "csv"), default="graphml")
    exp.add_argument("--out", help="file (or folder for csv); default results/<name>-network")
    exp.add_argument("--seed", type=int, help="seed of the run (default: run.seed)")
    exp.add_argument("--world-only", action="store_true", help="the world without a run")
    exp.add_argument("--set", action="append", metavar="KEY=VALUE")
    exp.set_defaults(func=cmd_export)
