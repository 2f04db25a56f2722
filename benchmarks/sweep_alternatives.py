"""Our sweep against what a user would pick instead, on one grid, in one run.

The 80-run grid of ``sweeps/kern_modes_grid.toml`` (Kern's three switches, 10 common-seed
replicates, a 1,000-city world over 120 months), run three ways with the same number of
worker processes:

1. ``diffusion-sim sweep`` (:func:`run_sweep`: Dask, Parquet parts, resumable);
2. EMA Workbench's ``MultiprocessingEvaluator`` over a ``Model`` whose function calls
   ``ds.simulate(...).outcomes()`` (the world built once per process, as a user would cache it);
3. Mesa's ``batch_run`` over the project's Mesa model, ``DiffusionModel.from_scenario``
   (docs/mesa.md): the agents engine, world built per run, model reporters at the end.

Prints runs/s (wall time including each tool's start-up) and the ratios, and checks that
the sweep and EMA give the same numbers. Asserts nothing.

    python benchmarks/sweep_alternatives.py              # 2 workers, all three
    python benchmarks/sweep_alternatives.py --skip mesa  # the agents engine is the slow one
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from diffusion_sim.studies.sweep.design import run_seed
from diffusion_sim.studies.sweep.runner import read_results, run_sweep
from diffusion_sim.studies.sweep.spec import load_sweep

ROOT = Path(__file__).resolve().parent.parent
GRID = ROOT / "sweeps" / "kern_modes_grid.toml"
SWITCHES = {
    "horizontal": "mechanisms.horizontal.enabled",
    "vertical": "mechanisms.vertical.enabled",
    "hierarchical": "mechanisms.hierarchical.enabled",
}
_CACHE: dict[str, tuple] = {}


def ema_run(sweep_file: str, replicate: int, **switches: bool) -> dict[str, float]:
    """EMA's model function: one run through ``ds.simulate`` (module level: picklable)."""
    from diffusion_sim.simulation import build_world, simulate

    if sweep_file not in _CACHE:  # base scenario and world once per worker process
        sweep = load_sweep(sweep_file)
        _CACHE[sweep_file] = (sweep, build_world(sweep.base))
    sweep, world = _CACHE[sweep_file]
    spec = sweep.spec
    scenario = sweep.base.with_overrides({SWITCHES[k]: bool(v) for k, v in switches.items()})
    seed = run_seed(spec.seed, 0, int(replicate), common=True)
    values = simulate(scenario, seed, engine=spec.engine, world=world).outcomes()
    return {name: values[name] for name in spec.outcomes}


def ours(workers: int) -> tuple[float, float, pd.DataFrame]:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        report = run_sweep(load_sweep(GRID), Path(tmp) / "out", workers=workers, progress=False)
        wall = time.perf_counter() - started
        return wall, report.startup_s, read_results(Path(tmp) / "out")


def ema(workers: int) -> tuple[float, pd.DataFrame]:
    from ema_workbench import (
        BooleanParameter,
        Constant,
        IntegerParameter,
        Model,
        MultiprocessingEvaluator,
        Policy,
        ScalarOutcome,
        Scenario,
    )

    spec = load_sweep(GRID).spec
    model = Model("diffusion", function=ema_run)
    model.uncertainties = [IntegerParameter("replicate", 0, spec.replicates - 1)]
    model.levers = [BooleanParameter(name) for name in SWITCHES]
    model.constants = [Constant("sweep_file", str(GRID))]
    model.outcomes = [ScalarOutcome(name) for name in spec.outcomes]
    scenarios = [Scenario(f"r{r}", replicate=r) for r in range(spec.replicates)]
    policies = [
        Policy(f"p{i}", horizontal=h, vertical=v, hierarchical=x)
        for i, (h, v, x) in enumerate(
            (h, v, x) for h in (False, True) for v in (False, True) for x in (False, True)
        )
    ]
    started = time.perf_counter()
    with MultiprocessingEvaluator(model, n_processes=workers) as evaluator:
        experiments, outcomes = evaluator.perform_experiments(scenarios, policies)
    wall = time.perf_counter() - started
    table = experiments[[*SWITCHES, "replicate"]].copy()
    for name, values in outcomes.items():
        table[name] = values
    return wall, table


def mesa(workers: int) -> tuple[float, pd.DataFrame]:
    import mesa as mesa_pkg

    from diffusion_sim.engines.agents.model import DiffusionModel

    sweep = load_sweep(GRID)
    spec = sweep.spec
    seeds = [run_seed(spec.seed, 0, r, common=True) for r in range(spec.replicates)]
    parameters = {
        "scenario": [sweep.base],  # a list: batch_run iterates over iterables
        "seed": seeds,
        **{key: [False, True] for key in SWITCHES.values()},
        "collect_agents": False,
    }
    started = time.perf_counter()
    rows = mesa_pkg.batch_run(
        DiffusionModel.from_scenario,
        parameters=parameters,
        iterations=1,
        max_steps=10_000,  # the model stops itself after run.steps
        data_collection_period=-1,
        number_processes=workers,
        display_progress=False,
    )
    wall = time.perf_counter() - started
    return wall, pd.DataFrame(rows)


def same_numbers(sweep_table: pd.DataFrame, ema_table: pd.DataFrame) -> bool:
    keys = [*SWITCHES, "replicate"]
    a = sweep_table.set_index(keys).sort_index()
    b = ema_table.astype({k: bool for k in SWITCHES}).astype({"replicate": int})
    b = b.set_index(keys).sort_index()
    names = list(load_sweep(GRID).spec.outcomes)
    return bool(np.allclose(a[names].to_numpy(float), b[names].to_numpy(float), equal_nan=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip", choices=("ema", "mesa"), action="append", default=[])
    args = parser.parse_args()
    runs = 80
    print(
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; the {runs}-run grid of "
        f"{GRID.name} with {args.workers} worker processes each (wall time incl. start-up)"
    )
    wall, startup, table = ours(args.workers)
    rates = {"diffusion-sim sweep (Dask)": runs / wall}
    print(
        f"  diffusion-sim sweep: {wall:6.1f} s, {runs / wall:6.2f} runs/s ({startup:.1f} s of "
        f"it Dask's start-up; {runs / (wall - startup):.2f} runs/s after it)"
    )
    if "ema" not in args.skip:
        ema_wall, ema_table = ema(args.workers)
        rates["EMA Workbench MultiprocessingEvaluator + simulate"] = runs / ema_wall
        print(
            f"  EMA Workbench:       {ema_wall:6.1f} s, {runs / ema_wall:6.2f} runs/s "
            f"(same numbers as the sweep: {same_numbers(table, ema_table)})"
        )
    if "mesa" not in args.skip:
        mesa_wall, mesa_rows = mesa(args.workers)
        rates["Mesa batch_run (agents engine)"] = len(mesa_rows) / mesa_wall
        print(
            f"  Mesa batch_run:      {mesa_wall:6.1f} s, {len(mesa_rows) / mesa_wall:6.2f} "
            f"runs/s ({len(mesa_rows)} rows)"
        )
    base = rates["diffusion-sim sweep (Dask)"]
    for name, rate in rates.items():
        print(f"  {name}: {rate:.2f} runs/s, sweep is {base / rate:.2f}x its speed")


if __name__ == "__main__":
    main()
