"""CLI command ``forecast``: calibrate on the data up to a date, forecast, compare with baselines.

Argparse here; the work is :func:`diffusion_sim.studies.calibration.forecast.forecast`
(docs/calibration.md, *Forecasts*).
"""

from __future__ import annotations

import argparse
import sys

from diffusion_sim.cli import args as arg
from diffusion_sim.cli import fitting


def cmd_forecast(args: argparse.Namespace) -> int:
    from diffusion_sim.studies.calibration import fit_key, read_adoptions
    from diffusion_sim.studies.calibration.forecast import forecast

    scenario = arg.load_with_overrides(args.scenario, args.set or [])
    overrides = arg.parse_sets(args.set or [])
    for key in args.fit:  # bad keys and the data file are refused before any work
        fit_key(scenario, key)
    data = read_adoptions(args.data)
    with fitting.fit_folder(args, f"forecast-{scenario.name}") as (folder, work):
        if not args.quiet:
            print(
                f"forecast {scenario.name}: fitting {', '.join(args.fit)} on the data up to "
                f"{args.train_until}, then forecasting to {args.until or 'the data’s end'}",
                file=sys.stderr,
            )
        result = forecast(
            scenario,
            data,
            args.fit,
            train_until=args.train_until,
            until=args.until,
            level=args.level,
            draws=args.draws,
            **fitting.calibration_keywords(args, work, overrides),
        )
        print(result.summary())
        if folder is not None:
            folder = result.save(folder)
    if folder is None:
        print("not saved (--no-save)")
    else:
        print(f"forecast (CSV, Parquet), scores.csv, forecast.png and the calibration in {folder}")
    return 0


def level(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in [0.5, 1), got {text!r}") from None
    if not 0.5 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0.5, 1), got {text!r}")
    return value


def add_forecast(sub: argparse._SubParsersAction) -> None:
    """The ``forecast`` parser (its calibration flags mean what they mean for ``calibrate``)."""
    fc = sub.add_parser(
        "forecast",
        help="calibrate on the data up to a date, forecast the rest, compare with Bass and "
        "logistic curves",
    )
    fc.add_argument("scenario", help="scenario file or shipped name")
    fc.add_argument(
        "--data", required=True, help="CSV of city,date or the JRC Covenant of Mayors file"
    )
    fc.add_argument(
        "--train-until", required=True, metavar="DATE", help="last period fitted, e.g. 2014-12"
    )
    fc.add_argument(
        "--until", metavar="DATE", help="last period forecast (default: the data's last)"
    )
    fc.add_argument(
        "--level", type=level, default=0.9, help="central interval of every method (0.9)"
    )
    fc.add_argument(
        "--draws",
        type=arg.whole_number(10, 100_000),
        default=60,
        help="model runs for its predictive band (default 60)",
    )
    fitting.add_fit_flags(fc, "up to --train-until")
    arg.add_output_flags(fc)
    fc.set_defaults(func=cmd_forecast)
