"""Sweep benchmark: throughput, the sweep machinery's overhead, memory over a big sweep.

Prints figures and asserts nothing. Four measurements:

1. baseline: the sweep's runs (same points, same seeds) in a plain loop in this process (no Dask,
   no Parquet): the pure cost of a run (override, simulate, outcomes);
2. throughput of a ``--runs``-run sweep of a ``--cities``-city scenario with each
   of ``--workers`` local workers (the same code path as a cluster), and the
   overhead: worker-seconds spent beyond the baseline cost of the runs;
3. peak memory (driver and workers apart, psutil) and runs/s of a big sweep
   (``--memory-runs`` runs of a ``--memory-cities``-city, ``--memory-steps``-step world,
   automatic batch size unless ``--runs-per-task``), sampled as it runs, to show it stays flat;
4. the per-run cost inside a worker, phase by phase (``breakdown``): what ``simulate`` +
   ``.outcomes()`` spend, and what the sweep's worker path spends on the same runs.

    python benchmarks/sweep.py             # 1,000 runs x 1,000 cities; 50,000-run big sweep
    python benchmarks/sweep.py --quick     # small sizes, a minute or so
    python benchmarks/sweep.py --skip throughput --skip memory   # the breakdown only
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import tempfile
import threading
import time
from pathlib import Path

import psutil

from diffusion_sim.studies.sweep.parts import runs_of
from diffusion_sim.studies.sweep.runner import MANIFEST, prepare, run_sweep
from diffusion_sim.studies.sweep.spec import sweep_from_dict

ROOT = Path(__file__).resolve().parent.parent


def sweep_data(name: str, runs: int, cities: int, steps: int, per_task: int | None) -> dict:
    """A random design over two mechanism parameters on one world (no SALib needed)."""
    data = {
        "name": name,
        "scenario": str(ROOT / "scenarios" / "embedded.toml"),
        "seed": 1,
        "constants": {"world.n_cities": cities, "run.steps": steps},
        "uncertainties": [
            {"key": "mechanisms.horizontal.thresholds.mean", "range": [0.1, 0.4]},
            {"key": "mechanisms.vertical.top_down_rate", "range": [0.0, 0.1]},
        ],
        "design": {"method": "random", "samples": runs},
    }
    if per_task:
        data["runs_per_task"] = per_task
    return data


def baseline(data: dict, n: int) -> float:
    """Seconds per run in a plain loop: the cost a sweep cannot avoid."""
    from diffusion_sim.simulation import build_world, simulate

    sweep = sweep_from_dict(data)
    with tempfile.TemporaryDirectory() as tmp:
        plan = prepare(sweep, Path(tmp) / "plan")
        runs = [run for b in range(plan.n_batches) for run in runs_of(plan, b)][:n]
    world = build_world(sweep.base)
    simulate(sweep.base, 0, world=world).outcomes()  # warm caches and imports
    started = time.perf_counter()
    for _, _, seed, overrides in runs:
        scenario = sweep.base.with_overrides(overrides)
        simulate(scenario, seed, world=world).outcomes()
    return (time.perf_counter() - started) / len(runs)


class MemoryWatch:
    """Samples the RSS of this process and all its descendants (the workers)."""

    def __init__(self, interval: float = 0.25) -> None:
        self.interval, self.samples = interval, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        started = time.perf_counter()
        while not self._stop.is_set():
            driver = me.memory_info().rss
            workers = 0
            for child in me.children(recursive=True):
                try:
                    workers += child.memory_info().rss
                except psutil.Error:
                    pass
            self.samples.append((time.perf_counter() - started, driver, workers))
            self._stop.wait(self.interval)

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def mib(n: float) -> str:
    return f"{n / 2**20:,.0f} MiB"


def throughput(args: argparse.Namespace, results: dict) -> None:
    data = sweep_data("bench_throughput", args.runs, args.cities, args.steps, args.runs_per_task)
    n_baseline = min(args.baseline_runs or args.runs, args.runs)
    per_run = baseline(data, n_baseline)
    results["baseline_s_per_run"] = per_run
    print(
        f"baseline: {per_run * 1000:.1f} ms per run in a plain loop "
        f"({1 / per_run:.2f} runs/s; {args.cities} cities, {args.steps} steps; "
        f"{n_baseline} runs of the design)"
    )
    for workers in args.workers:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "out"
            report = run_sweep(sweep_from_dict(data), folder, workers=workers, progress=False)
            manifest = json.loads((folder / MANIFEST).read_text())
        busy = report.wall_s - report.startup_s
        sim = manifest["simulation_seconds"]
        row = {
            "workers": workers,
            "runs": report.runs_done,
            "runs_per_task": manifest["runs_per_task"],
            "wall_s": report.wall_s,
            "startup_s": report.startup_s,
            "runs_per_s": report.runs_done / report.wall_s,
            "runs_per_s_after_startup": report.runs_done / busy,
            # Worker-seconds beyond the plain-loop cost of the same runs.
            "overhead_vs_loop": workers * busy / (report.runs_done * per_run) - 1,
            # Worker-seconds outside the runs themselves (scheduling, transfer, Parquet).
            "overhead_vs_in_worker_time": workers * busy / sim - 1,
        }
        results.setdefault("sweeps", []).append(row)
        print(
            f"{workers} worker(s): {row['runs']} runs in {row['wall_s']:.1f} s "
            f"({row['runs_per_s']:.2f} runs/s; {row['runs_per_s_after_startup']:.2f} runs/s "
            f"after {row['startup_s']:.1f} s of cluster start-up), {row['runs_per_task']} "
            f"runs per task; overhead {row['overhead_vs_loop']:+.1%} of the plain-loop run "
            f"time, {row['overhead_vs_in_worker_time']:+.1%} of the in-worker run time"
        )


def memory(args: argparse.Namespace, results: dict) -> None:
    data = sweep_data(
        "bench_memory", args.memory_runs, args.memory_cities, args.memory_steps, args.runs_per_task
    )
    with tempfile.TemporaryDirectory() as tmp, MemoryWatch() as watch:
        report = run_sweep(
            sweep_from_dict(data), Path(tmp) / "out", workers=args.memory_workers, progress=False
        )
        manifest = json.loads((Path(tmp) / "out" / MANIFEST).read_text())
    samples = watch.samples
    totals = [d + w for _, d, w in samples]
    peak = max(range(len(samples)), key=lambda i: totals[i])
    quarter = [
        samples[min(len(samples) - 1, int(q * (len(samples) - 1)))]
        for q in (0.1, 0.25, 0.5, 0.75, 1.0)
    ]
    busy = report.wall_s - report.startup_s
    results["memory"] = {
        "runs": report.runs_done,
        "workers": args.memory_workers,
        "runs_per_task": manifest["runs_per_task"],
        "wall_s": report.wall_s,
        "startup_s": report.startup_s,
        "runs_per_s": report.runs_done / report.wall_s,
        "runs_per_s_after_startup": report.runs_done / busy,
        "in_worker_ms_per_run": 1000 * manifest["simulation_seconds"] / report.runs_done,
        "peak_total_bytes": totals[peak],
        "peak_driver_bytes": max(d for _, d, _ in samples),
        "peak_workers_bytes": max(w for _, _, w in samples),
        "at_10_25_50_75_100pct": [(round(t, 1), d, w) for t, d, w in quarter],
    }
    m = results["memory"]
    print(
        f"big sweep: {report.runs_done:,} runs ({args.memory_cities} cities, {args.memory_steps} "
        f"steps, {m['runs_per_task']} runs per task) on {args.memory_workers} worker(s) in "
        f"{report.wall_s:.0f} s: {m['runs_per_s']:.0f} runs/s ({m['runs_per_s_after_startup']:.0f} "
        f"after {report.startup_s:.1f} s of start-up; {m['in_worker_ms_per_run']:.1f} ms per run "
        f"in a worker)"
    )
    print(
        f"  peak {mib(totals[peak])} in all; driver {mib(m['peak_driver_bytes'])}, workers "
        f"{mib(m['peak_workers_bytes'])} (with their nannies)"
    )
    print(
        "  driver / workers over the sweep (10/25/50/75/100% of its time): "
        + ", ".join(f"{mib(d)} / {mib(w)}" for _, d, w in quarter)
    )


def breakdown(args: argparse.Namespace, results: dict) -> None:
    """Per-run cost by phase, in this process: the full path and the sweep worker's."""
    import numpy as np

    from diffusion_sim.model.setup import build_setup
    from diffusion_sim.record.outcomes import outcomes, outcomes_from_events
    from diffusion_sim.record.results import build_result, make_manifest
    from diffusion_sim.simulation import attach_networks, make_engine
    from diffusion_sim.studies.sweep._worker import WorkerState, run_one

    data = sweep_data("bench_breakdown", args.breakdown_runs, args.cities, args.steps, None)
    sweep = sweep_from_dict(data)
    with tempfile.TemporaryDirectory() as tmp:
        plan = prepare(sweep, Path(tmp) / "plan")
        runs = [run for b in range(plan.n_batches) for run in runs_of(plan, b)]
    state = WorkerState(sweep.base)
    for _, _, seed, overrides in runs[:2]:  # warm: world, imports, compiled kernels
        run_one(state, overrides, seed, "vectorized")
    world_key = "[]"
    world = state.worlds[world_key]
    facts = state.world_facts(world_key, world)
    phases = (
        "overrides",
        "setup",
        "tie matrices",
        "engine steps",
        "manifest",
        "result tables",
        "outcomes (tables)",
        "outcomes (events)",
    )
    full = dict.fromkeys(phases, 0.0)
    lean = dict.fromkeys(phases, 0.0)

    @contextlib.contextmanager
    def clock(into: dict, phase: str):
        started = time.perf_counter()
        yield
        into[phase] += time.perf_counter() - started

    for _, _, seed, overrides in runs:
        for into, shared in ((full, False), (lean, True)):
            with clock(into, "overrides"):
                scenario = sweep.base.with_overrides(overrides)
            rng = np.random.default_rng(np.random.SeedSequence(seed))
            with clock(into, "setup"):
                setup = build_setup(scenario, attach_networks(world, scenario), rng)
            if shared:
                setup._influence_cache = state.ties_cache(world_key, scenario)
            with clock(into, "tie matrices"):
                setup.influence(setup.initial_network_sizes())
            with clock(into, "engine steps"):
                trajectory = make_engine("vectorized", setup, rng).run(scenario.run.steps)
            if shared:
                with clock(into, "outcomes (events)"):
                    outcomes_from_events(setup, trajectory, facts)
                continue
            with clock(into, "manifest"):
                manifest = make_manifest(setup, "vectorized", {}, 0.0)
            with clock(into, "result tables"):
                result = build_result(setup, trajectory, manifest)
            with clock(into, "outcomes (tables)"):
                outcomes(result)
    n = len(runs)
    results["breakdown"] = {
        "runs": n,
        "cities": args.cities,
        "steps": args.steps,
        "simulate_ms": {k: 1000 * v / n for k, v in full.items()},
        "sweep_worker_ms": {k: 1000 * v / n for k, v in lean.items()},
    }
    print(f"per-run cost, {args.cities} cities x {args.steps} steps, mean of {n} runs (ms):")
    print(f"  {'phase':20s} {'simulate+outcomes':>18s} {'sweep worker':>13s}")
    for phase in phases:
        print(f"  {phase:20s} {1000 * full[phase] / n:18.1f} {1000 * lean[phase] / n:13.1f}")
    total_full, total_lean = sum(full.values()) / n, sum(lean.values()) / n
    print(
        f"  {'total':20s} {1000 * total_full:18.1f} {1000 * total_lean:13.1f}  "
        f"({total_full / total_lean:.2f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (about a minute)")
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--cities", type=int, default=1000)
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--runs-per-task", type=int, help="default: the sweep's 'auto'")
    parser.add_argument(
        "--baseline-runs", type=int, help="runs in the plain loop (default: all of them)"
    )
    parser.add_argument("--memory-runs", type=int, default=50_000)
    parser.add_argument("--memory-cities", type=int, default=200)
    parser.add_argument("--memory-steps", type=int, default=12)
    parser.add_argument("--breakdown-runs", type=int, default=30)
    parser.add_argument("--memory-workers", type=int, default=2)
    parser.add_argument(
        "--skip", choices=("throughput", "memory", "breakdown"), action="append", default=[]
    )
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.cities, args.steps = 100, 300, 40
        args.memory_runs, args.memory_cities, args.memory_steps = 2000, 200, 12
        args.breakdown_runs = 5
    results: dict = {"cpus": os.cpu_count(), "args": vars(args)}
    print(f"{os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f} at start")
    if "throughput" not in args.skip:
        throughput(args, results)
    if "breakdown" not in args.skip:
        breakdown(args, results)
    if "memory" not in args.skip:
        memory(args, results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
