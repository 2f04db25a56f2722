"""The steps alone of a run of the shipped embedded scenario, for A/B comparisons of code.

    python benchmarks/steps_only.py 1000000          # 100 steps, min of 3 runs
    for i in 1 2 3 4 5; do                            # interleaved A/B of two checkouts
      PYTHONPATH=../a python benchmarks/steps_only.py 1000000
      PYTHONPATH=../b python benchmarks/steps_only.py 1000000
    done

Builds the world once, then three runs (setup, engine, 100 steps), and prints the
fastest run's steps: the world, the tie matrices (cached after the first run) and the
tables are left out, so only the per-step work is compared. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from diffusion_sim import load_scenario
from diffusion_sim.model.setup import build_setup
from diffusion_sim.simulation import build_world, make_engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("cities", type=int, nargs="?", default=300_000)
    parser.add_argument("--steps", type=int, default=100)
    args = parser.parse_args()
    scenario = load_scenario("embedded").with_overrides(
        {"world.n_cities": args.cities, "run.steps": args.steps}
    )
    world = build_world(scenario)
    cache: dict = {}
    times = []
    for replicate in range(3):
        rng = np.random.default_rng(replicate)
        engine = make_engine("vectorized", build_setup(scenario, world, rng, cache), rng)
        started = time.perf_counter()
        engine.run(args.steps)
        times.append(time.perf_counter() - started)
    print(f"{args.cities:,} cities, {args.steps} steps: {min(times) * 1000:.1f} ms (min of 3)")


if __name__ == "__main__":
    main()
