"""The command line: ``diffusion-sim run | scenarios | validate``.

Bad input (a missing file, malformed TOML, an unknown key, a value out of
range) prints one clear message and exits with code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from diffusion_sim.errors import InputError
from diffusion_sim.scenario import find_scenario, scenario_dirs

EXIT_INPUT = 2


def _parse_sets(items: Sequence[str]) -> dict[str, Any]:
    from diffusion_sim.scenario import parse_value

    overrides = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"--set takes KEY=VALUE, got {item!r}")
        overrides[key.strip()] = parse_value(value.strip())
    return overrides


def _load(args: argparse.Namespace):
    from diffusion_sim.scenario import load_scenario

    scenario = load_scenario(find_scenario(args.scenario))
    overrides = _parse_sets(args.set or [])
    if getattr(args, "steps", None) is not None:
        overrides["run.steps"] = args.steps
    if getattr(args, "replicates", None) is not None:
        overrides["run.replicates"] = args.replicates
    if getattr(args, "seed", None) is not None:
        overrides["run.seed"] = args.seed
    return scenario.with_overrides(overrides) if overrides else scenario


def _progress_bar(total: int, label: str):
    from tqdm.auto import tqdm

    # delay: no bar at all for runs that finish within a couple of seconds.
    return tqdm(total=total, desc=label, unit="step", delay=1.5, leave=False, file=sys.stderr)


def format_summary(summary: dict[str, Any], unit: str) -> str:
    channels = ", ".join(f"{k} {v}" for k, v in summary["adopters_by_channel"].items())
    governments = ", ".join(f"{k} {v}" for k, v in summary["governments_adopted"].items()) or "none"
    t50 = summary["time_to_50pct"]
    t50_text = "not reached" if t50 != t50 else f"{t50:.0f} {unit}s"
    return "\n".join(
        [
            f"  share of cities adopted      {summary['share_cities']:.1%}",
            f"  share of population covered  {summary['share_population']:.1%}",
            f"  leaders / followers / laggards  {summary['share_leaders']:.1%} / "
            f"{summary['share_followers']:.1%} / {summary['share_laggards']:.1%}",
            f"  time to 50% of cities        {t50_text}",
            f"  adopters by channel          {channels}",
            f"  abandonments                 {summary['abandonments']}",
            f"  governments adopted          {governments}",
        ]
    )


def _cities_text(scenario) -> str:
    """'5000 cities', or for a real world (whose size the filters decide) 'real-world cities'."""
    if scenario.world.generator == "real":
        return "real-world cities (GeoNames)"
    return f"{scenario.world.n_cities} cities"


def cmd_run(args: argparse.Namespace) -> int:
    from diffusion_sim.results import timestamp
    from diffusion_sim.simulation import ensemble_of, iter_replicates, simulate

    scenario = _load(args)
    out_root = Path(args.out) if args.out else Path("results")
    folder = out_root / f"{scenario.name}-{timestamp()}"
    steps, replicates = scenario.run.steps, scenario.run.replicates
    print(
        f"{scenario.name}: {_cities_text(scenario)}, {steps} steps "
        f"({scenario.run.step_unit}s), {replicates} replicate(s), engine {args.engine}, "
        f"seed {scenario.run.seed}"
    )
    if replicates == 1:
        with _progress_bar(steps, scenario.name) as bar:
            result = simulate(scenario, engine=args.engine, progress=lambda t: bar.update(1))
        print(format_summary(result.summary(), scenario.run.step_unit))
        result.save(folder)
    else:
        started, results = time.perf_counter(), []
        try:
            with _progress_bar(replicates, scenario.name) as bar:
                bar.unit = "replicate"
                for result in iter_replicates(scenario, engine=args.engine):
                    results.append(result)
                    bar.update(1)
        except KeyboardInterrupt:
            if results:
                partial = ensemble_of(
                    results, scenario.run.seed, time.perf_counter() - started, complete=False
                )
                kept = partial.save(folder.with_name(folder.name + "-interrupted"))
                print(
                    f"interrupted: {len(results)} of {replicates} replicates kept in {kept} "
                    "(manifest says complete: false)",
                    file=sys.stderr,
                )
            raise
        ensemble = ensemble_of(results, scenario.run.seed, time.perf_counter() - started, True)
        table = ensemble.summaries()
        print(f"  mean over {replicates} replicates (5%-95%):")
        for column in ("share_cities", "share_population", "time_to_50pct"):
            values = table[column]
            print(
                f"  {column:<28} {values.mean():.3f} "
                f"({values.quantile(0.05):.3f}-{values.quantile(0.95):.3f})"
            )
        ensemble.save(folder)
    print(f"results in {folder}")
    return 0


def cmd_scenarios(args: argparse.Namespace) -> int:
    from diffusion_sim.scenario import load_scenario

    found = False
    for folder in scenario_dirs():
        for path in sorted(folder.glob("*.toml")):
            if path.name.startswith("_"):  # bases that scenarios extend
                continue
            found = True
            question = ""
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.startswith("#"):
                    question = line.lstrip("# ").strip()
                    break
            try:
                load_scenario(path)
                status = ""
            except InputError:
                status = "  [invalid: run 'diffusion-sim validate' on it]"
            print(f"{path.stem:<28} {question}{status}")
    if not found:
        print("no scenarios found (looked in ./scenarios)")
    return 0


def parameters_markdown(rows: list[dict[str, Any]]) -> str:
    """The parameter reference as a Markdown table (docs/parameters.md is this output)."""
    lines = [
        "# Scenario parameters",
        "",
        "Generated by `diffusion-sim validate --explain --markdown`; "
        "`tests/test_cli.py` checks that this file matches the schema.",
        "",
        "| key | meaning | default | allowed |",
        "|---|---|---|---|",
    ]
    for row in rows:
        default = "" if row["default"] == "" else f"`{row['default']!r}`".replace("|", "/")
        allowed = row["allowed"].replace("|", "or")
        meaning = row["meaning"].replace("|", "/").replace("\n", " ")
        lines.append(f"| `{row['key']}` | {meaning} | {default} | {allowed} |")
    return "\n".join(lines) + "\n"


def cmd_validate(args: argparse.Namespace) -> int:
    from diffusion_sim.scenario import explain

    if args.explain and args.markdown:
        sys.stdout.write(parameters_markdown(explain()))
        return 0
    if args.explain:
        rows = explain()
        width = max(len(r["key"]) for r in rows)
        for row in rows:
            default = row["default"]
            default_text = "" if default == "" else f"default {default!r}"
            allowed = f"; allowed {row['allowed']}" if row["allowed"] else ""
            print(f"{row['key']:<{width}}  {row['meaning']} [{default_text}{allowed}]")
        if not args.scenario:
            return 0
    if not args.scenario:
        raise InputError("validate needs a SCENARIO (or --explain)")
    scenario = _load(args)
    import numpy as np

    from diffusion_sim.setup import build_setup
    from diffusion_sim.simulation import build_world

    # Names in events and overrides are only known once the world exists.
    cities = _cities_text(scenario)
    if scenario.world.generator == "real" or scenario.world.n_cities <= 200_000:
        world = build_world(scenario)
        build_setup(scenario, world, np.random.default_rng(0))
        cities = f"{world.n_cities} cities"
    print(f"{scenario.source}: valid ({cities}, {scenario.run.steps} steps)")
    return 0


def add_dashboard_command(sub) -> None:
    """``diffusion-sim dashboard``: the Solara app loads only when the command runs."""
    dashboard = sub.add_parser(
        "dashboard", help="serve the dashboard in the browser (needs the 'dashboard' extra)"
    )
    dashboard.add_argument(
        "scenario", nargs="?", help="a scenario file to open first (or a shipped one's name)"
    )
    dashboard.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    dashboard.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: localhost only)"
    )
    dashboard.set_defaults(func=cmd_dashboard)


def cmd_dashboard(args: argparse.Namespace) -> int:
    from diffusion_sim.app.server import serve

    scenario = find_scenario(args.scenario) if args.scenario else None
    return serve(scenario, host=args.host, port=args.port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="diffusion-sim",
        description="Simulate how a local policy spreads among cities and up to governments "
        "(Kern's horizontal, vertical, hierarchical and embedded upscaling).",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a scenario and save its results")
    run.add_argument("scenario", help="a scenario file, or the name of a shipped one")
    run.add_argument("--seed", type=int, help="seed of the run (default: run.seed)")
    run.add_argument("--replicates", type=int, help="replicates (default: run.replicates)")
    run.add_argument("--engine", choices=("vectorized", "agents"), default="vectorized")
    run.add_argument("--steps", type=int, help="steps (default: run.steps)")
    run.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="override a parameter by dotted key, e.g. mechanisms.horizontal.rule=contagion",
    )
    run.add_argument("--out", help="folder for results (default: ./results)")
    run.set_defaults(func=cmd_run)

    scenarios = sub.add_parser("scenarios", help="list the shipped scenarios and their questions")
    scenarios.set_defaults(func=cmd_scenarios)

    validate = sub.add_parser("validate", help="check a scenario file without running it")
    validate.add_argument("scenario", nargs="?", help="a scenario file")
    validate.add_argument("--set", action="append", metavar="KEY=VALUE")
    validate.add_argument(
        "--explain",
        action="store_true",
        help="list every parameter with its meaning, default and range",
    )
    validate.add_argument(
        "--markdown",
        action="store_true",
        help="with --explain: print the table as Markdown (docs/parameters.md)",
    )
    validate.set_defaults(func=cmd_validate)

    # sweep / analyze: argparse only here; Dask, SALib and PRIM load when they run.
    from diffusion_sim.sweep.commands import add_commands

    add_commands(sub)

    # compare / calibrate / export (issue 3): argparse only; work in their own modules.
    from diffusion_sim.research_commands import add_commands as add_research_commands

    add_research_commands(sub)

    add_dashboard_command(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        print("interrupted; no unfinished run was saved as complete", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
