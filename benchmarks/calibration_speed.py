"""Speed of calibrate on a 400-city, 36-month world: the point fit and a two-key ABC-SMC.

Targets (this 2-core machine): point fit under 30 s; ABC-SMC (defaults: 100 particles,
at most 6 generations, 4 replicates) with ``--workers 2`` under 5 minutes. Prints wall
time and CPU time (this process and its workers): on a shared machine the CPU time says
what the fit costs, the wall time what others left of the cores.

    nice python benchmarks/calibration_speed.py [--workers 2]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
KEYS = ["mechanisms.innovation.rate", "mechanisms.horizontal.strength"]


def cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> int:
    import diffusion_sim as ds
    from diffusion_sim.studies.calibration import calibrate

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    scenario = ds.load_scenario(ROOT / "scenarios" / "embedded.toml").with_overrides(
        {
            "world.n_cities": 400,
            "world.seed": 42,
            "run.steps": 36,
            "mechanisms.horizontal.rule": "contagion",
            "mechanisms.vertical.enabled": False,
            "mechanisms.hierarchical.enabled": False,
            "mechanisms.abandonment.enabled": False,
        }
    )
    truth = scenario.with_overrides({KEYS[0]: 0.01, KEYS[1]: 0.02})
    run = ds.simulate(truth, seed=99)
    adopters = run.cities[run.cities["first_adoption_step"] >= 0]
    dates = pd.Period("2000-01", freq="M") + adopters["first_adoption_step"].to_numpy()
    print(f"{'method':<8} {'wall s':>7} {'CPU s':>7} {'evaluations':>11}  target")
    with tempfile.TemporaryDirectory() as folder:
        csv = Path(folder) / "curve.csv"
        pd.DataFrame(
            {"city": adopters["name"], "date": [d.start_time.date() for d in dates]}
        ).to_csv(csv, index=False)
        for method, target in (("point", 30), ("abc", 300)):
            wall, used = time.perf_counter(), cpu()
            fit = calibrate(
                scenario,
                csv,
                KEYS,
                method=method,
                start="2000-01",
                seed=1,
                workers=args.workers,
                database=Path(folder) / "abc.db",
            )
            wall, used = time.perf_counter() - wall, cpu() - used
            n = fit.posterior.evaluations if fit.posterior else fit.evaluations
            print(
                f"{method:<8} {wall:>7.1f} {used:>7.1f} {n:>11}  < {target} s wall "
                f"({'met' if wall < target else 'NOT met'})",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
