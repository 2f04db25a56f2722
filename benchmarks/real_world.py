"""Benchmark: build the real world (GeoNames' 33,961 cities of 15,000+) cold and from the
cache, and a 100-step embedded run on it.

    .venv/bin/python benchmarks/real_world.py [--repeat 3]

Targets (issue 3): under 10 s cold, under 1 s from the cache, the run under 2 s. "Cold"
means an empty cache folder in a fresh process (GeoNames' JSON is parsed, traits drawn,
proximity and twinning ties built); the import of diffusion_sim is timed separately.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
import diffusion_sim as ds
t1 = time.perf_counter()
scenario = ds.load_scenario("scenarios/_global_world.toml").with_overrides({
    "run.steps": 100,
    "networks.c40": {"rule": "exclusive", "size": 96, "monitors": True, "lobbies": True},
    "networks.iclei": {"rule": "open", "size": 1750, "monitors": True},
    "networks.covenant": {"rule": "coordinated", "size": 9000, "monitors": True},
    "networks.uclg": {"rule": "umbrella", "size": 3, "lobbies": True},
})
t2 = time.perf_counter()
world = ds.build_world(scenario)
t3 = time.perf_counter()
result = ds.simulate(scenario, seed=1, world=world) if sys.argv[1] == "run" else None
t4 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "build_s": t3 - t2, "run_s": t4 - t3,
                  "cities": world.n_cities, "ties": world.n_ties,
                  "from_cache": bool(world.meta["from_cache"]),
                  "share": None if result is None else result.summary()["share_cities"]}))
"""


def child(cache: str, what: str) -> dict:
    env = dict(os.environ, DIFFUSION_SIM_CACHE=cache)
    out = subprocess.run(
        [sys.executable, "-c", CHILD, what], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cold, warm, runs = [], [], []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as cache:
            first = child(cache, "build")
            assert not first["from_cache"]
            cold.append(first["build_s"])
            second = child(cache, "run")
            assert second["from_cache"]
            warm.append(second["build_s"])
            runs.append(second["run_s"])
    print(f"real world: {first['cities']:,} cities, {first['ties']:,} ties (proximity, twinning)")
    print(f"import diffusion_sim              {first['import_s']:.2f} s")
    for label, values, target in (
        ("build cold (empty cache)        ", cold, "< 10 s"),
        ("build from cache, with networks ", warm, "< 1 s"),
        ("100-step embedded run           ", runs, "< 2 s"),
    ):
        median = sorted(values)[len(values) // 2]
        print(f"{label} best {min(values):.2f} s, median {median:.2f} s   target {target}")


if __name__ == "__main__":
    main()
