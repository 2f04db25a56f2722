"""``diffusion-sim estimate``: its flags, then the work in :mod:`diffusion_sim.studies.estimation`.

Like :mod:`diffusion_sim.cli.research`: argparse only until the command runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from diffusion_sim.cli import args as arg
from diffusion_sim.cli.research import scenario_with_sets
from diffusion_sim.errors import InputError


def add_command(sub: argparse._SubParsersAction) -> None:
    """``diffusion-sim estimate``: maximum likelihood from per-city adoption histories."""
    est = sub.add_parser(
        "estimate",
        help="fit mechanism parameters by maximum likelihood to per-city adoption dates",
    )
    est.add_argument("scenario", help="scenario file or shipped name (contagion rule)")
    source = est.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--data", help="CSV of city,date or the JRC Covenant of Mayors signatories file"
    )
    source.add_argument(
        "--from-result", metavar="FOLDER", help="a run's results folder (its own events)"
    )
    est.add_argument(
        "--params",
        type=arg.name_list,
        help="comma-separated keys to estimate (default: innovation.rate,horizontal.strength,"
        "vertical.top_down_rate); also vertical.deterrence and layers.<layer>",
    )
    est.add_argument(
        "--layers",
        type=arg.name_list,
        help="comma-separated tie layers to give a weight each, compared by likelihood ratio "
        "('networks': every network layer as one; 'all': each layer)",
    )
    est.add_argument(
        "--governments", metavar="FILE", help="with --data: CSV of government,date adoptions"
    )
    est.add_argument("--start", help="with --data: the period of step 0, e.g. 2008-01")
    est.add_argument(
        "--unmatched",
        choices=("error", "drop"),
        default="error",
        help="with --data: a city name not in the world is an error (default) or left out",
    )
    est.add_argument(
        "--coordinators",
        action="store_true",
        help="with the JRC file on a real world: coordinators named by the signatories outside "
        "the world become regional governments (the fitted rows' coordinator field is held out "
        "and scores P(vertical))",
    )
    est.add_argument(
        "--panel",
        type=arg.out_folder,
        metavar="FOLDER",
        help="also write the city-step panel and the dyads (Parquet, CSV) into this new folder",
    )
    est.add_argument(
        "--dyad-rows",
        type=arg.whole_number(0, 100_000_000),
        default=1_000_000,
        help="cap on the dyad table's rows, whole target cities sampled (default 1000000)",
    )
    est.add_argument(
        "--draws",
        type=arg.whole_number(0, 100_000),
        default=200,
        help="parameter draws for the intervals of the channel shares (default 200)",
    )
    est.add_argument(
        "--world-seeds",
        type=arg.whole_number(1, 100),
        metavar="K",
        help="fit on K worlds (world.seed, +1, ...) and combine by Rubin's rules (default 5 "
        "with --data, 1 with --from-result, whose world is the run's own)",
    )
    est.add_argument(
        "--compare-calibration",
        metavar="FOLDER",
        help="a calibrate results folder: its channel shares beside these, with a warning "
        "where their intervals do not overlap",
    )
    est.add_argument(
        "--no-layer-tests", action="store_true", help="skip the refits of the layer table"
    )
    est.add_argument("--seed", type=arg.SEED, help="with --data: seed of the setup's draws")
    arg.add_set_flag(est)
    est.add_argument("--out", type=arg.out_folder, help="folder for results (default: ./results)")
    arg.add_output_flags(est)
    est.set_defaults(func=cmd_estimate)


def cmd_estimate(args: argparse.Namespace) -> int:
    from diffusion_sim.studies.calibration import check_span, read_adoptions
    from diffusion_sim.studies.estimation import estimate, export_panel, parameter_keys
    from diffusion_sim.studies.estimation.crosscheck import compare, read_calibration
    from diffusion_sim.studies.estimation.worlds import (
        DEFAULT_DATA_SEEDS,
        estimate_worlds,
        world_seeds,
    )

    if args.no_save and args.panel is not None:
        raise InputError("--no-save and --panel: --no-save writes nothing; choose one")
    scenario = scenario_with_sets(args.scenario, args.set)
    parameter_keys(scenario, args.params, args.layers or ())  # bad keys refused before any work
    calibration = None
    if args.compare_calibration is not None:
        calibration = read_calibration(args.compare_calibration)
    if args.data is not None:
        data = read_adoptions(args.data)
        check_span(data, scenario.run.step_unit, args.start, scenario.source)
    else:
        data = _run_folder(args.from_result)
    if not args.no_save:
        arg.check_out(args)
    if args.panel is not None and Path(args.panel).exists() and any(Path(args.panel).iterdir()):
        raise InputError(f"--panel {args.panel}: exists and is not empty; give a new folder")
    folder = None if args.no_save else arg.new_results_folder(args, f"estimate-{scenario.name}")
    progress = arg.say_unless_quiet(args)
    progress(f"estimate {scenario.name}: maximum likelihood of the model's hazard", file=sys.stderr)
    count = args.world_seeds or (DEFAULT_DATA_SEEDS if args.data is not None else 1)
    if args.from_result is not None and count > 1:
        raise InputError(
            f"--world-seeds {count} with --from-result: a run's world is its own and known; "
            "--world-seeds takes 1 there"
        )

    def fit_one(scenario_k):
        return estimate(
            scenario_k,
            data,
            args.params,
            args.layers or (),
            seed=args.seed,
            start=args.start,
            governments=args.governments,
            unmatched=args.unmatched,
            coordinators=args.coordinators,
            layer_tests=not args.no_layer_tests,
            draws=args.draws,
            progress=lambda message: progress(message, file=sys.stderr),
        )

    if count == 1:
        fit = first = fit_one(scenario)
    else:
        seeds = world_seeds(scenario, count, args.seed)
        fit = estimate_worlds(fit_one, scenario, seeds, lambda m: progress(m, file=sys.stderr))
        first = fit.fits[0]
    if calibration is not None:
        shares = fit.shares if count == 1 else fit.shares()
        fit.comparison, fit.comparison_warnings = compare(shares, calibration)
    print(fit.summary())
    if folder is None:
        print("not saved (--no-save)")
        return 0
    folder = fit.save(folder)
    print(f"parameters, covariance, layers, shares (CSV), adoptions (Parquet) in {folder}")
    if args.panel is not None:
        written = export_panel(
            first.prepared, args.panel, max_dyad_rows=args.dyad_rows, seed=first.seeds["draws"]
        )
        print(f"panel and dyads (Parquet, CSV) of world seed {first.world_seed} in {written}")
    return 0


def _run_folder(text: str):
    """A run's saved results (one replicate: events and a manifest), checked before any work."""
    from diffusion_sim.record.results import Result

    folder = Path(text)
    if not folder.is_dir():
        raise InputError(f"--from-result {text}: no such folder")
    if not (folder / "events.parquet").is_file():
        raise InputError(
            f"--from-result {text}: no events.parquet, so not one run's results (for an "
            "ensemble give one replicate's folder, e.g. replicate-000)"
        )
    result = Result.load(folder)
    result.manifest["folder"] = str(folder)
    return result
