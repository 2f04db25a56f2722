"""Hashes of every result table of every shipped scenario, on both engines (issue 11).

    python benchmarks/identical_tables.py --write /tmp/tables_before.json   # before a change
    python benchmarks/identical_tables.py --check /tmp/tables_before.json   # after it

A refactoring of the engine core must leave every number unchanged: this runs each
shipped scenario (``scenarios/*.toml`` not starting with ``_``) on a shrunk world
(1,000 synthetic cities, or the 1,500 largest real ones) for 60 steps with a fixed
seed, on the vectorized and the agents engine, and hashes the five result tables
(timeseries, events, cities, governments, government_events): values, index,
column names and dtypes. ``--check`` exits 1 and names every table whose hash moved.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
TABLES = ("timeseries", "events", "cities", "governments", "government_events")
ENGINES = ("vectorized", "agents")
SEED = 20260611
STEPS = 60
SYNTHETIC_CITIES = 1000
REAL_CITIES = 1500


def table_hash(frame: pd.DataFrame) -> str:
    """sha256 of a table's values, index, column names and dtypes."""
    digest = hashlib.sha256()
    digest.update(repr(list(frame.columns)).encode())
    digest.update(repr([str(t) for t in frame.dtypes]).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return digest.hexdigest()


def shrunk(path: Path):
    """The shipped scenario on a small world, for STEPS steps."""
    import diffusion_sim as ds

    scenario = ds.load_scenario(path)
    key = "world.n_cities" if scenario.world.generator == "synthetic" else "world.max_cities"
    size = SYNTHETIC_CITIES if scenario.world.generator == "synthetic" else REAL_CITIES
    return scenario.with_overrides({key: size, "run.steps": STEPS})


def all_hashes() -> dict[str, str]:
    """``{"<scenario>/<engine>/<table>": sha256}`` for every shipped scenario."""
    import diffusion_sim as ds

    out = {}
    for path in sorted(p for p in SCENARIOS.glob("*.toml") if not p.name.startswith("_")):
        scenario = shrunk(path)
        world = ds.build_world(scenario, seed=SEED)
        for engine in ENGINES:
            result = ds.simulate(scenario, seed=SEED, engine=engine, world=world)
            for table in TABLES:
                out[f"{path.stem}/{engine}/{table}"] = table_hash(getattr(result, table))
            print(f"{path.stem:28s} {engine:10s} {len(result.events):6d} events", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--write", type=Path, help="write the hashes to this JSON file")
    group.add_argument("--check", type=Path, help="compare with the hashes in this JSON file")
    args = parser.parse_args(argv)
    hashes = all_hashes()
    if args.write:
        args.write.write_text(json.dumps(hashes, indent=1, sort_keys=True) + "\n")
        print(f"{len(hashes)} table hashes written to {args.write}")
        return 0
    expected = json.loads(args.check.read_text())
    moved = sorted(k for k in expected.keys() | hashes.keys() if expected.get(k) != hashes.get(k))
    for key in moved:
        print(f"DIFFERS: {key}")
    print(f"{len(hashes) - len(moved)} of {len(expected)} table hashes identical")
    return 1 if moved else 0


if __name__ == "__main__":
    sys.exit(main())
