"""World scale end to end (issue 13, item 3): what a user waits for at a million cities.

    python benchmarks/world_scale.py                 # 1,000,000 cities, 100 steps
    python benchmarks/world_scale.py --cities 200000 # smaller

Prints the breakdown of ``simulate`` (setup with the tie matrices, the steps, the
tables), a further replicate on the same world and weights (tie matrices taken
from the ``influence_cache`` the first filled, as ensembles and sweeps do), the
save, and the whole ``simulate`` call timed on its own beside the sum of its
parts. World construction is timed apart. Peak memory is the process's
(``ru_maxrss``). Targets from the issue: simulate < 2.5 s, a further replicate
< 1.5 s, world < 6 s, peak < 1.5 GB. Nothing is asserted (a shared machine is noisy).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import synthetic_scenario


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def one_run(scenario, world, seed: int, cache: dict) -> dict[str, float]:
    """simulate's steps one by one, timed: setup, engine (tie matrices), steps, tables."""
    from diffusion_sim.model.setup import build_setup
    from diffusion_sim.record.results import build_result, make_manifest
    from diffusion_sim.simulation import make_engine

    times = {}
    start = time.perf_counter()
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    setup = build_setup(scenario, world, rng, influence_cache=cache)
    times["setup"] = time.perf_counter() - start
    start = time.perf_counter()
    engine = make_engine("vectorized", setup, rng)
    times["engine and tie matrices"] = time.perf_counter() - start
    start = time.perf_counter()
    trajectory = engine.run(scenario.run.steps)
    times["steps"] = time.perf_counter() - start
    start = time.perf_counter()
    result = build_result(setup, trajectory, make_manifest(setup, "vectorized", {}, 0.0))
    times["tables"] = time.perf_counter() - start
    return times, result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cities", type=int, default=1_000_000)
    parser.add_argument("--steps", type=int, default=100)
    args = parser.parse_args(argv)

    import diffusion_sim as ds
    from diffusion_sim.simulation import build_world

    scenario = synthetic_scenario(args.cities, args.steps)
    warm = synthetic_scenario(2_000, 3)  # compile or load the kernels outside the timings
    ds.simulate(warm, seed=0)

    start = time.perf_counter()
    world = build_world(scenario)
    build = time.perf_counter() - start

    cache: dict = {}
    first, result = one_run(scenario, world, 1, cache)
    ties = next(int(v.by_source.nnz) for v in cache.values() if hasattr(v, "by_source"))
    del result  # one run's tables at a time: the peak is that of one run
    second, result = one_run(scenario, world, 2, cache)
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        result.save(Path(folder) / "run")
        save = time.perf_counter() - start
    del result, cache  # simulate builds its own tie matrices: do not hold two sets
    start = time.perf_counter()
    ds.simulate(scenario, seed=3, world=world)
    whole = time.perf_counter() - start

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{world.n_cities:,} cities, {ties:,} ties, {args.steps} steps (load average {load})")
    print(f"{'':28s} {'first run':>10s} {'further':>10s}")
    for name in first:
        print(f"{name:28s} {first[name]:9.2f}s {second[name]:9.2f}s")
    total_first, total_second = sum(first.values()), sum(second.values())
    print(f"{'simulate (sum of parts)':28s} {total_first:9.2f}s {total_second:9.2f}s")
    print(f"{'simulate (one call, timed)':28s} {whole:9.2f}s")
    print(f"{'save (Parquet, manifest)':28s} {save:9.2f}s")
    print(f"{'world construction':28s} {build:9.2f}s")
    print(f"{'peak memory':28s} {peak_mb():8.0f} MB")
    print("targets: simulate < 2.5 s, further replicate < 1.5 s, world < 6 s, peak < 1,500 MB")


if __name__ == "__main__":
    main()
