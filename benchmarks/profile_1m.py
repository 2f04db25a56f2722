"""Profile of the 1M-city embedded run (issue 6): where 100 steps spend their time.

    python benchmarks/profile_1m.py [--cities N] [--steps S] [--top K]

cProfile around each ``engine.step(t)`` (engine construction excluded), sorted by
own time. The compiled loops (diffusion_sim/engines/vectorized/kernels.py) appear as single calls:
their time is the time inside the loop. Prints a table for docs/performance.md.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import synthetic_scenario


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cities", type=int, default=1_000_000)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--top", type=int, default=16)
    args = parser.parse_args(argv)

    from diffusion_sim.model.setup import build_setup
    from diffusion_sim.simulation import build_world, make_engine

    scenario = synthetic_scenario(args.cities, args.steps)
    world = build_world(scenario)
    warm_rng = np.random.default_rng(99)  # compile or load the kernels outside the profile
    make_engine("vectorized", build_setup(scenario, world, warm_rng), warm_rng).run(2)

    rng = np.random.default_rng(np.random.SeedSequence(0))
    engine = make_engine("vectorized", build_setup(scenario, world, rng), rng)
    profile = cProfile.Profile()
    start = time.perf_counter()
    for t in range(1, args.steps + 1):
        profile.enable()
        engine.step(t)
        profile.disable()
    wall = time.perf_counter() - start
    out = io.StringIO()
    stats = pstats.Stats(profile, stream=out).sort_stats("tottime")
    stats.print_stats(args.top)
    print(f"{args.cities:,} cities, {args.steps} steps: {wall:.2f} s wall with the profiler on")
    print(out.getvalue())


if __name__ == "__main__":
    main()
