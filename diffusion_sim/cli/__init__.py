"""The command line: ``diffusion-sim run | scenarios | validate | new``, and the rest.

Bad input (a missing file, malformed TOML, an unknown key, a value out of
range) prints one clear message and exits with code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from diffusion_sim.cli import args as arg
from diffusion_sim.cli.interrupts import deliver_ignored_interrupts, forget_interrupt
from diffusion_sim.cli.text import (
    format_summary,
    format_window,
    print_ensemble_summary,
    progress_bar,
)
from diffusion_sim.errors import InputError

EXIT_INPUT = 2


def _load(args: argparse.Namespace):
    flags = {flag: getattr(args, flag, None) for flag in ("steps", "replicates", "seed")}
    return arg.load_with_overrides(args.scenario, args.set or [], **flags)


def _cities_text(scenario) -> str:
    """'5000 cities', or for a real world (whose size the filters decide) 'real-world cities'."""
    if scenario.world.generator == "real":
        return "real-world cities (GeoNames)"
    return f"{scenario.world.n_cities} cities"


def cmd_run(args: argparse.Namespace) -> int:
    from diffusion_sim.record.storage import check_output_folder

    scenario = _load(args)
    out_root = None if args.no_save else check_output_folder(args.out or "results")
    note = arg.say_unless_quiet(args)
    steps, replicates = scenario.run.steps, scenario.run.replicates
    note(
        f"{scenario.name}: {_cities_text(scenario)}, {steps} steps "
        f"({scenario.run.step_unit}s), {replicates} replicate(s), engine {args.engine}, "
        f"seed {scenario.run.seed}"
    )
    window = arg.window_of(args)
    try:
        window.check(steps)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    if replicates > 1 and (window.at is not None or window.between):
        raise InputError(
            "--at/--between measure one run; for replicates with intervals use "
            f"'diffusion-sim compare {args.scenario} --at STEP' (or --between A:B)"
        )
    charts = {"chart_format": args.format, "figsize": args.figsize}
    if replicates == 1:
        folder = _run_once(scenario, out_root, args.engine, args.quiet, window, charts)
    elif out_root is None:
        folder = _run_ensemble_in_memory(scenario, args.engine, args.quiet)
    else:
        folder = _run_ensemble(scenario, out_root, args.engine, args.workers, args.quiet, charts)
    print(f"results in {folder}" if folder else "not saved (--no-save)")
    return 0


def _run_once(
    scenario,
    out_root: Path | None,
    engine: str,
    quiet: bool = False,
    window=None,
    charts: dict | None = None,
) -> Path | None:
    import time

    import numpy as np

    from diffusion_sim.record.results import build_result, make_manifest
    from diffusion_sim.record.storage import reserve_folder, timestamp
    from diffusion_sim.simulation import run_trajectory

    # simulate(), keeping the change events for outcomes at a step (--at, --between).
    started, sequence = time.perf_counter(), np.random.SeedSequence(scenario.run.seed)
    with progress_bar(scenario.run.steps, scenario.name, hide=quiet) as bar:
        setup, trajectory = run_trajectory(scenario, sequence, engine=engine, progress=bar.step)
    seed = {"entropy": sequence.entropy, "spawn_key": list(sequence.spawn_key)}
    manifest = make_manifest(setup, engine, seed, time.perf_counter() - started)
    result = build_result(setup, trajectory, manifest)
    print(format_summary(result.summary(), scenario.run.step_unit))
    if window is not None and window.last_step is not None:
        print(format_window(window.of_events(setup, trajectory), window.describe()))
    if out_root is None:
        return None
    folder = reserve_folder(out_root, f"{scenario.name}-{timestamp()}")
    return result.save(folder, **(charts or {}))


def _run_ensemble_in_memory(scenario, engine: str, quiet: bool = False) -> None:
    """--no-save: the ensemble in this process, its summary printed, nothing written."""
    from diffusion_sim.simulation import simulate_ensemble

    replicates = scenario.run.replicates
    with progress_bar(replicates, scenario.name, "replicate", hide=quiet) as bar:
        ensemble = simulate_ensemble(scenario, engine=engine, progress=bar.step)
    print_ensemble_summary(ensemble.summaries())


def _run_ensemble(
    scenario,
    out_root: Path,
    engine: str,
    workers: int | None,
    quiet: bool = False,
    charts: dict | None = None,
) -> Path:
    """Replicates streamed to disk as they finish; the same command resumes an interrupted one."""
    import pandas as pd

    from diffusion_sim.ensemble_folder import finished_replicates, run_ensemble

    replicates, state = scenario.run.replicates, {}

    def started(folder: Path, done: int) -> None:
        state["folder"] = folder
        if done and not quiet:
            print(f"resuming {folder}: {done} of {replicates} replicates already done")
        state["bar"] = progress_bar(
            replicates, scenario.name, "replicate", initial=done, hide=quiet
        )

    try:
        report = run_ensemble(
            scenario,
            out_root,
            engine=engine,
            workers=workers,
            on_start=started,
            on_replicate=lambda i: state["bar"].update(1),
            **(charts or {}),
        )
    except KeyboardInterrupt:
        if "folder" not in state:
            raise
        kept = len(finished_replicates(state["folder"], replicates))
        raise KeyboardInterrupt(
            f"interrupted: {kept} of {replicates} replicates kept in {state['folder']}; "
            "run the same command again to finish (no manifest.json until then)"
        ) from None
    finally:
        if "bar" in state:
            state["bar"].close()
    print_ensemble_summary(pd.read_parquet(report.folder / "summaries.parquet"))
    return report.folder


def cmd_scenarios(args: argparse.Namespace) -> int:
    from diffusion_sim.scenario import load_scenario, read_text_file, scenario_dirs

    found = False
    for folder in scenario_dirs():
        for path in sorted(folder.glob("*.toml")):
            if path.name.startswith("_"):  # bases that scenarios extend
                continue
            found = True
            question = ""
            try:
                for line in read_text_file(path, "scenario").splitlines():
                    if line.startswith("#"):
                        question = line.lstrip("# ").strip()
                        break
                load_scenario(path)
                status = ""
            except InputError:
                status = "  [invalid: run 'diffusion-sim validate' on it]"
            print(f"{path.stem:<28} {question}{status}")
    if not found:
        print("no scenarios found (looked in ./scenarios)")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from diffusion_sim.scenario import explain, parameters_markdown

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

    from diffusion_sim.model.setup import build_setup
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
        "dashboard",
        help="serve the dashboard in the browser (Solara; installed with diffusion_sim)",
    )
    dashboard.add_argument(
        "scenario", nargs="?", help="a scenario file to open first (or a shipped one's name)"
    )
    dashboard.add_argument("--port", type=arg.port, default=8765, help="port (default 8765)")
    dashboard.add_argument(
        "--host",
        type=arg.host,
        default="127.0.0.1",
        help="address to listen on (default: localhost only)",
    )
    dashboard.set_defaults(func=cmd_dashboard)


def cmd_dashboard(args: argparse.Namespace) -> int:
    from diffusion_sim.app.server import serve
    from diffusion_sim.scenario import find_scenario

    scenario = find_scenario(args.scenario) if args.scenario else None
    return serve(scenario, host=args.host, port=args.port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="diffusion-sim",
        description="Simulate how a local policy spreads among cities and up to governments "
        "(Kern's horizontal, vertical, hierarchical and embedded upscaling).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a scenario and save its results")
    run.add_argument("scenario", help="a scenario file, or the name of a shipped one")
    run.add_argument("--seed", type=arg.SEED, help="seed of the run (default: run.seed)")
    run.add_argument(
        "--replicates", type=arg.REPLICATES, help="replicates (default: run.replicates)"
    )
    run.add_argument(
        "--engine",
        choices=("vectorized", "agents"),
        default="vectorized",
        help="vectorized (numpy, fast) or agents (Mesa, agent by agent; the same events)",
    )
    run.add_argument("--steps", type=arg.STEPS, help="steps (default: run.steps)")
    arg.add_set_flag(run)
    run.add_argument("--out", type=arg.out_folder, help="folder for results (default: ./results)")
    run.add_argument(
        "--workers",
        type=arg.WORKERS,
        help="processes for an ensemble's replicates (default: every core)",
    )
    arg.add_window_flags(run)
    arg.add_chart_flags(run, latex=False)
    arg.add_output_flags(run)
    run.set_defaults(func=cmd_run)

    scenarios = sub.add_parser("scenarios", help="list the shipped scenarios and their questions")
    scenarios.set_defaults(func=cmd_scenarios)

    validate = sub.add_parser("validate", help="check a scenario file without running it")
    validate.add_argument("scenario", nargs="?", help="a scenario file")
    arg.add_set_flag(validate)
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
    from diffusion_sim.cli.sweep import add_commands

    add_commands(sub)

    # compare / calibrate / export (issue 3): argparse only; work in their own modules.
    from diffusion_sim.cli.research import add_commands as add_research_commands

    add_research_commands(sub)

    # estimate (issue 14): maximum likelihood from per-city histories; work in estimation/.
    from diffusion_sim.cli.estimate import add_command as add_estimate_command

    add_estimate_command(sub)

    # new (issue 22): a commented scenario file to start from.
    from diffusion_sim.cli.new import add_command as add_new_command

    add_new_command(sub)

    add_dashboard_command(sub)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("diffusion_sim")
    except PackageNotFoundError:
        return "(not installed)"


COMPILING = "compiling the engine (first run only)"
NEVER_COMPILE = ("scenarios", "validate", "dashboard")
"""Commands that never run the engine here (and so need not import numba)."""


def _compiling_note(args: argparse.Namespace):
    """One line on stderr if this command compiles the engine's loops (a cold numba cache)."""
    from contextlib import nullcontext

    if getattr(args, "quiet", False) or args.command in NEVER_COMPILE:
        return nullcontext()
    from diffusion_sim.mechanisms.compiling import announce_compiling

    return announce_compiling(lambda: print(COMPILING, file=sys.stderr, flush=True))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; bad input exits 2 with one message, never a traceback.

    A closed stdout (``diffusion-sim scenarios | head -1``) ends quietly with 0:
    the reader stopped reading, nothing went wrong.
    """
    try:
        args = build_parser().parse_args(argv)
        with _compiling_note(args):
            code = args.func(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt as exc:  # one line: what was kept, if a command said so
        print(str(exc) or "interrupted; no unfinished run was saved as complete", file=sys.stderr)
        forget_interrupt()
        return 130
    except ImportError as exc:
        # A Ctrl-C inside a C extension's import (matplotlib's _image) comes out as
        # "ImportError: initialization failed" raised while handling the interrupt.
        if not isinstance(exc.__context__, KeyboardInterrupt):
            raise
        print("interrupted; no unfinished run was saved as complete", file=sys.stderr)
        forget_interrupt()
        return 130
    except BrokenPipeError:
        # Python would complain again when flushing stdout at exit: point it at devnull.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def entry_point() -> None:
    """``diffusion-sim`` and ``python -m diffusion_sim``: main, then exit with its code.

    Once main has returned, the work is saved (or was refused): a Ctrl-C arriving
    while the interpreter shuts down must not turn that into a death by signal.
    """
    deliver_ignored_interrupts()
    code = main()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(code)


if __name__ == "__main__":
    entry_point()
