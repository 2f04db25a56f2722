"""Forecast the Covenant of Mayors: fit 2008-2014, forecast 2015-2023, beside Bass and logistic.

Runs ``ds.forecast`` on the JRC signatories file (GCoM-MyCovenant, 5th release) with
the eu_covenant scenario and docs/calibration.md's three keys (innovation, horizontal,
top-down support), prints the table (RMSE over the 108 held-out months, error in
December 2023, coverage of the 90% band) and saves the results folder. The model's
RMSE divided by Bass's is printed in the same run. Defaults keep it under about
5 minutes of CPU on the 7,609-city world (point fit, one world seed); ``--method abc``
with ``--world-seeds`` and a small ``--population`` gives the posterior version.

    nice python benchmarks/forecast_covenant.py [--fit-ceiling] [--fit-novelty] [--coordinators]
        [--set KEY=VALUE]

``--fit-novelty`` runs the covenant_novelty scenario (eu_covenant with novelty on,
docs/ODD.md 7.5a) and fits ``mechanisms.novelty.tau`` beside the three keys.
``--coordinators``: the Covenant's coordinators named by the signatories outside the
world, up to December 2014 only, become regional governments, each supportive from its
first signatory (``ds.forecast(..., coordinators=True)``).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "covenant_of_mayors_signatories_2024.csv"
KEYS = [
    "mechanisms.innovation.rate",
    "mechanisms.horizontal.strength",
    "mechanisms.vertical.top_down_rate",
]
CEILING = "mechanisms.opposition_leaning"
NOVELTY = "mechanisms.novelty.tau"


def main() -> int:
    import diffusion_sim as ds
    from diffusion_sim.cli.args import parse_sets

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--method", choices=("point", "abc"), default="point")
    parser.add_argument("--world-seeds", type=int, default=1)
    parser.add_argument("--replicates", type=int, default=2)
    parser.add_argument("--draws", type=int, default=20)
    parser.add_argument("--population", type=int, default=30)
    parser.add_argument("--generations", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--fit-ceiling", action="store_true", help=f"fit {CEILING} too")
    parser.add_argument(
        "--fit-novelty",
        action="store_true",
        help=f"the covenant_novelty scenario (novelty on), fitting {NOVELTY} too",
    )
    parser.add_argument(
        "--coordinators",
        action="store_true",
        help="the coordinator world, from the signatories up to 2014 (each supportive)",
    )
    parser.add_argument(
        "--receptivity",
        action="store_true",
        help="country receptivity from the signatories up to 2014, its exponent chosen on them",
    )
    parser.add_argument("--train-until", default="2014-12", help="last month the fit sees")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--out", type=Path, default=ROOT / "results")
    args = parser.parse_args()
    if not args.data.is_file():
        print(f"the JRC Covenant of Mayors file is not at {args.data}", file=sys.stderr)
        return 2
    name = "covenant_novelty" if args.fit_novelty else "eu_covenant"  # novelty on, tau 120
    scenario = ds.load_scenario(ROOT / "scenarios" / f"{name}.toml")
    scenario = scenario.with_overrides(parse_sets(args.set))
    keys = KEYS + ([CEILING] if args.fit_ceiling else []) + ([NOVELTY] if args.fit_novelty else [])
    started = time.perf_counter()
    result = ds.forecast(
        scenario,
        args.data,
        keys,
        train_until=args.train_until,
        start="2008-01",
        method=args.method,
        replicates=args.replicates,
        draws=args.draws,
        world_seeds=args.world_seeds,
        coordinators=args.coordinators,
        receptivity=args.receptivity,
        population=args.population,
        generations=args.generations,
        workers=args.workers,
        progress=True,
    )
    wall = time.perf_counter() - started
    print(result.summary())
    scores = result.scores
    model, bass = scores[result.methods[0].name], scores["bass"]
    print(
        f"\nmodel RMSE / Bass RMSE = {model.rmse:.0f} / {bass.rmse:.0f} = "
        f"{model.rmse / bass.rmse:.2f} (goal <= 1); wall {wall:.0f} s"
    )
    print(yearly_increments(result, args.train_until))
    from diffusion_sim.record.storage import reserve_folder, timestamp

    folder = result.save(reserve_folder(args.out, f"forecast-covenant-{timestamp()}"))
    print(f"saved in {folder}")
    return 0


def yearly_increments(result, train_until: str) -> str:
    """Adoptions per calendar year: observed, the model's point forecast, Bass's fitted curve."""
    curves = result.curves()
    model = result.methods[0].name.split(" (")[0].replace(" ", "_")
    curves["year"] = curves["period"].str[:4]
    december = curves.groupby("year")[["observed_count", f"{model}_median", "bass_point"]].last()
    increments = december.diff().fillna(december).round().astype(int)
    increments.columns = ["observed", "model (median)", "bass (fitted)"]
    return f"\nadoptions per year (trained to {train_until}):\n" + increments.T.to_string()


if __name__ == "__main__":
    raise SystemExit(main())
