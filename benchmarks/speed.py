"""Issue 2's speed figures: steps per second and peak memory, vectorized and agents engines.

    python benchmarks/speed.py           # vectorized at 10k, 100k, 1M; agents at 1k, 10k
    python benchmarks/speed.py --quick   # vectorized at 10k, 100k; agents at 1k

The shipped embedded scenario (every mechanism on) on synthetic worlds with about
ten tie entries per city; each configuration runs in its own process so the
peak memory is its own. Printed, never asserted (docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import one_run, peak_rss_mb, synthetic_scenario


def worker(engine: str, n: int, steps: int) -> dict:
    """Build the world, then time ``steps`` steps of one engine (and the whole simulate call)."""
    from diffusion_sim.simulation import build_world

    scenario = synthetic_scenario(n, steps)
    start = time.perf_counter()
    world = build_world(scenario)
    construction = time.perf_counter() - start
    run = one_run(engine, scenario, world, steps)
    return {
        "engine": engine,
        "cities": n,
        "steps": steps,
        "construction_s": construction,
        "init_s": run["init_s"],
        "per_step_s": run["per_step_s"],
        "peak_mb": peak_rss_mb(),
    }


def spawn(engine: str, n: int, steps: int) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--worker", engine, str(n), str(steps)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        engine, n, steps = args.worker
        print(json.dumps(worker(engine, int(n), int(steps))))
        return
    runs = [("vectorized", 10_000, 100), ("vectorized", 100_000, 100)]
    runs.append(("agents", 1_000, 20))
    if not args.quick:
        runs.append(("agents", 10_000, 10))
    if not args.quick:
        runs.append(("vectorized", 1_000_000, 100))
    print(
        "| engine | cities | steps | world s | engine set-up s | run s | steps/s "
        "| per step ms (median) | peak MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    median = {}
    for engine, n, steps in runs:
        r = spawn(engine, n, steps)
        t = np.array(r["per_step_s"])
        median[engine, n] = float(np.median(t))
        print(
            f"| {engine} | {n:,} | {steps} | {r['construction_s']:.2f} | {r['init_s']:.2f} "
            f"| {t.sum():.2f} | {steps / t.sum():.1f} | {np.median(t) * 1e3:.2f} "
            f"| {r['peak_mb']:.0f} |"
        )
    n_ratio = 1_000 if args.quick else 10_000
    ratio = median["agents", n_ratio] / median["vectorized", 10_000] * (10_000 / n_ratio)
    label = "" if n_ratio == 10_000 else " (agents at 1k scaled linearly to 10k)"
    print(f"\nvectorized ÷ agents per step at 10k cities: {ratio:.0f}× faster{label}")
    r = spawn("vectorized", 100_000, 100)
    total = r["init_s"] + sum(r["per_step_s"])
    print(f"100k-city embedded scenario, 100 steps (engine set-up + steps): {total:.2f} s")


if __name__ == "__main__":
    main()
