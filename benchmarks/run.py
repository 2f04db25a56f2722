"""World-scale benchmark of the vectorized engine (issue 6), with Mesa and NDlib beside it.

    python benchmarks/run.py            # the full table (about 5 minutes on 2 cores)
    python benchmarks/run.py --quick    # the same table on small worlds, under a minute (CI)

Every configuration runs in its own Python process, so each peak memory figure is
that configuration's whole process (``ru_maxrss``). Machine figures (streaming
bandwidth, the time to draw one uniform per city) are measured in the same run,
so the ratios printed beside them hold on whatever machine runs this. Nothing is
asserted: times on a shared machine are noisy, so the table shows the median, min
and max per step. See docs/performance.md for the figures and what they mean.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "embedded.toml"
TIES_PER_CITY_NEIGHBOURS = 8
"""proximity_neighbours for the synthetic world: with twinning and networks, about
10 tie entries (directed ties, the nonzeros of the influence matrix) per city."""


# --------------------------------------------------------------------- helpers
def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timings(fn, repeats: int) -> list[float]:
    """Wall times of ``repeats`` calls of ``fn``."""
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def stream_bandwidth(megabytes: int = 256, repeats: int = 7) -> float:
    """Streaming read bandwidth in bytes/s: the best of several sums over a big array."""
    big = np.ones(megabytes * 2**20 // 8)
    best = min(timings(big.sum, repeats))
    return big.nbytes / best


def draw_time(n: int, repeats: int = 21) -> float:
    """Median time to draw one uniform per city, the unavoidable per-city work of a step."""
    rng = np.random.default_rng(0)
    out = np.empty(n)
    return float(np.median(timings(lambda: rng.random(n, out=out), repeats)))


def synthetic_scenario(n: int, steps: int):
    """The shipped embedded scenario (every mechanism on) on an n-city world."""
    import diffusion_sim as ds

    return ds.load_scenario(SCENARIO).with_overrides(
        {
            "world.n_cities": n,
            "world.proximity_neighbours": TIES_PER_CITY_NEIGHBOURS,
            "run.steps": steps,
        }
    )


def erdos_renyi(n: int, ties_per_city: float, seed: int):
    """A symmetric 0/1 Erdős–Rényi adjacency with about ``ties_per_city`` ties per node."""
    import scipy.sparse as sp

    rng = np.random.default_rng(seed)
    m = int(n * ties_per_city / 2)
    rows, cols = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = rows != cols
    upper = sp.coo_array((np.ones(keep.sum()), (rows[keep], cols[keep])), shape=(n, n)).tocsr()
    adjacency = upper.maximum(upper.T)
    adjacency.data[:] = 1.0
    return sp.csr_array(adjacency)


REGIMES = {
    "spreading": (0.05, 0.35),  # the cascade reaches everyone in about 8 steps
    "contained": (0.10, 0.40),  # it stalls at about 2% of the cities
}
"""Per-city thresholds are uniform in these ranges (at 100k cities, 10 ties each)."""


def threshold_world(n: int, seed: int, regime: str = "spreading"):
    """The comparison world: an ER graph, per-city thresholds, random capacity and leaning."""
    import diffusion_sim as ds

    rng = np.random.default_rng(seed + 1)
    thresholds = rng.uniform(*REGIMES[regime], n)
    world = ds.World.from_graph(
        erdos_renyi(n, 10, seed),
        threshold=thresholds,
        capacity=rng.uniform(0, 1, n),
        leaning=rng.uniform(0, 1, n),
        seed=seed,
    )
    return world, thresholds


def threshold_scenario(n: int, steps: int):
    """Only the fractional-threshold rule (unweighted: prestige_alpha = 0), 1% pioneers."""
    import diffusion_sim as ds

    return ds.load_scenario(SCENARIO).with_overrides(
        {
            "mechanisms.innovation.enabled": False,
            "mechanisms.vertical.enabled": False,
            "mechanisms.hierarchical.enabled": False,
            "mechanisms.abandonment.enabled": False,
            "mechanisms.horizontal.enabled": True,
            "mechanisms.horizontal.rule": "threshold",
            "mechanisms.horizontal.prestige_alpha": 0.0,
            "networks": {},
            "pioneers.count": max(1, n // 100),
            "run.steps": steps,
        }
    )


# --------------------------------------------------------------------- workers
def worker_synthetic(n: int, steps: int, repeats: int) -> dict[str, Any]:
    """World construction, then ``repeats`` runs of ``steps`` steps, timed step by step."""
    from diffusion_sim.model.setup import build_setup
    from diffusion_sim.record.results import build_result
    from diffusion_sim.simulation import build_world, make_engine

    scenario = synthetic_scenario(n, steps)
    start = time.perf_counter()
    world = build_world(scenario)
    setup = build_setup(scenario, world, np.random.default_rng(0))
    influence = setup.influence(setup.initial_network_sizes())
    setup.gov_members  # noqa: B018 - the rest of what an engine builds before step 1
    construction = time.perf_counter() - start

    per_step, changes, totals = [], [], []
    engine = None
    for r in range(repeats):
        del setup, engine  # one run's state at a time: the peak is that of one run
        gc.collect()
        rng = np.random.default_rng(np.random.SeedSequence(r))
        setup = build_setup(scenario, world, rng)
        engine = make_engine("vectorized", setup, rng)
        run_start = time.perf_counter()
        for _ in range(steps):
            before = len(engine.recorder._city)
            step_start = time.perf_counter()
            engine.step()
            per_step.append(time.perf_counter() - step_start)
            changes.append(sum(len(part[1]) for part in engine.recorder._city[before:]))
        totals.append(time.perf_counter() - run_start)
    start = time.perf_counter()
    result = build_result(setup, engine.recorder.finish(steps))
    result_time = time.perf_counter() - start

    # A step that evaluates every tie (a network founded or opened): the engine's own
    # pass (kernels.gather_pressure over the by-target matrix), beside scipy's product.
    x = engine.adopted.astype(np.float64)
    by_source = influence.by_source
    by_target = influence.by_target
    out = np.empty(n)
    engine_pass = timings(lambda: engine.full_pressure(out=out), 7)
    scipy_product = timings(lambda: by_source.T @ x, 7)
    assert np.array_equal(engine.full_pressure(), by_source.T @ x)
    moved = (
        by_target.data.nbytes
        + by_target.indices.nbytes
        + by_target.indptr.nbytes
        + engine.adopted.nbytes  # the mask it gathers from
        + x.nbytes  # the pressure it writes
    )
    return {
        "cities": n,
        "ties": int(by_source.nnz),
        "steps": steps,
        "repeats": repeats,
        "construction_s": construction,
        "per_step_s": per_step,
        "changes": changes,
        "run_s": totals,
        "result_s": result_time,
        "final_share": float(result.timeseries["share_cities"].iloc[-1]),
        "full_tie_s": engine_pass,
        "scipy_full_tie_s": scipy_product,
        "full_tie_bytes": int(moved),
        "peak_mb": peak_rss_mb(),
    }


def worker_compare(n: int, steps: int, engines: list[str], regime: str) -> dict[str, Any]:
    """The same threshold rule on the same ER graph: vectorized, agents (Mesa), NDlib."""
    world, thresholds = threshold_world(n, seed=42, regime=regime)
    scenario = threshold_scenario(n, steps)
    out: dict[str, Any] = {"cities": n, "ties": int(world.layers["graph"].nnz), "steps": steps}
    pioneers = None
    for engine_name in engines:
        if engine_name in ("vectorized", "agents"):
            # The vectorized run is cheap: repeat it, keep the run of median time (noise).
            runs = [one_run(engine_name, scenario, world, steps)]
            if engine_name == "vectorized":
                runs += [one_run(engine_name, scenario, world, steps) for _ in range(6)]
            runs.sort(key=lambda r: sum(r["per_step_s"]))
            out[engine_name] = runs[len(runs) // 2]
            pioneers = np.asarray(out[engine_name].pop("pioneers"))
        elif engine_name == "ndlib":
            out["ndlib"] = ndlib_run(world, thresholds, pioneers, steps)
    return out


def one_run(engine_name: str, scenario, world, steps: int) -> dict[str, Any]:
    """One timed run of one of the project's engines, from the same seed."""
    from diffusion_sim.model.setup import build_setup
    from diffusion_sim.simulation import make_engine

    rng = np.random.default_rng(7)
    setup = build_setup(scenario, world, rng)
    start = time.perf_counter()
    engine = make_engine(engine_name, setup, rng)  # through simulation.ENGINES
    init = time.perf_counter() - start
    per_step = []
    for _ in range(steps):
        s = time.perf_counter()
        engine.step()
        per_step.append(time.perf_counter() - s)
    return {
        "init_s": init,
        "per_step_s": per_step,
        "adopters": int(engine.city_adopted().sum()),
        "pioneers": setup.pioneers.tolist(),
    }


def ndlib_run(world, thresholds: np.ndarray, pioneers: np.ndarray, steps: int) -> dict[str, Any]:
    """NDlib's ThresholdModel (synchronous fractional threshold) from the same pioneers."""
    try:
        import ndlib.models.epidemics as epidemics
        import ndlib.models.ModelConfig as model_config
        import networkx as nx
    except ImportError as exc:
        return {"error": f"ndlib not installed ({exc}); pip install -e '.[bench]'"}
    start = time.perf_counter()
    graph = nx.from_scipy_sparse_array(world.layers["graph"])
    model = epidemics.ThresholdModel(graph)
    config = model_config.Configuration()
    config.add_model_initial_configuration("Infected", [int(i) for i in pioneers])
    for node, value in enumerate(thresholds.tolist()):
        config.add_node_configuration("threshold", node, value)
    model.set_initial_status(config)
    model.iteration()  # NDlib's iteration 0 only reports the initial status
    init = time.perf_counter() - start
    per_step = timings(model.iteration, steps)
    return {
        "init_s": init,
        "per_step_s": per_step,
        "adopters": int(sum(model.status.values())),
    }


# ----------------------------------------------------------------------- table
def spawn(*args: str) -> dict[str, Any]:
    """Run one worker in a fresh interpreter; its JSON answer on the last line."""
    done = subprocess.run(
        [sys.executable, __file__, "--worker", *args],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f}"


def report(quick: bool, repeats: int) -> str:
    """Run everything and format the table (markdown, so it pastes into the docs)."""
    sizes = [10_000, 100_000] if quick else [100_000, 1_000_000]
    steps = 30 if quick else 100
    compare_n = 10_000 if quick else 100_000
    compare_steps = 10
    lines = []
    bandwidth = stream_bandwidth(64 if quick else 256)
    lines.append(
        f"machine: streaming bandwidth {bandwidth / 1e9:.1f} GB/s (best of 7 sums); "
        f"numpy {np.__version__}; python {sys.version.split()[0]}"
    )
    lines.append("")
    lines.append(
        "| cities | ties | steps | construction s | run s (median of runs) "
        "| per step ms: median / min / max | stable-tail step ms | draw N uniforms ms "
        "| tail ÷ draw | full-tie step ms | floor ms | full ÷ floor | scipy product ms "
        "| scipy ÷ full | ns per tie per step | build_result s | peak MB |"
    )
    lines.append("|" + "---|" * 17)
    per_tie = {}
    for n in sizes:
        r = spawn("synthetic", str(n), str(steps), str(repeats))
        per_step = np.array(r["per_step_s"])
        changes = np.array(r["changes"])
        tail = per_step[changes < n / 1000]
        tail_label = "steps with < 0.1% of cities changing"
        if len(tail) < 5:
            tail = per_step.reshape(repeats, steps)[:, -10:].ravel()
            tail_label = "last 10 steps"
        draw = draw_time(n)
        floor = r["full_tie_bytes"] / bandwidth
        full = float(np.median(r["full_tie_s"]))
        scipy_full = float(np.median(r["scipy_full_tie_s"]))
        median_step = float(np.median(per_step))
        per_tie[n] = median_step / r["ties"]
        lines.append(
            f"| {n:,} | {r['ties']:,} | {steps} × {repeats} runs | {r['construction_s']:.1f} "
            f"| {np.median(r['run_s']):.2f} "
            f"| {ms(median_step)} / {ms(per_step.min())} / {ms(per_step.max())} "
            f"| {ms(np.median(tail))} | {ms(draw)} | {np.median(tail) / draw:.2f} "
            f"| {ms(full)} | {ms(floor)} | {full / floor:.2f} | {ms(scipy_full)} "
            f"| {scipy_full / full:.2f} | {per_tie[n] * 1e9:.2f} "
            f"| {r['result_s']:.2f} | {r['peak_mb']:.0f} |"
        )
    lines.append("")
    lines.append(
        f"stable tail: {tail_label}; full-tie step: the engine's pass over every tie "
        "(kernels.gather_pressure; floor: its bytes ÷ bandwidth), beside scipy's "
        "by_source.T @ adopted."
    )
    small, large = sizes
    lines.append(
        f"per-tie cost {large:,} ÷ {small:,}: {per_tie[large] / per_tie[small]:.2f} "
        "(median step ÷ ties)"
    )
    lines.append("")

    for regime, (low, high) in REGIMES.items():
        lines += compare_table(compare_n, compare_steps, regime, low, high)
    return "\n".join(lines)


def compare_table(n: int, steps: int, regime: str, low: float, high: float) -> list[str]:
    """One comparison run: vectorized, agents and NDlib on one graph, as table lines."""
    c = spawn("compare", str(n), str(steps), "vectorized,agents,ndlib", regime)
    lines = [
        f"Fractional threshold rule, {regime} regime (thresholds uniform in [{low}, {high}]): "
        f"Erdős–Rényi graph, {c['cities']:,} cities, {c['ties']:,} ties, {steps} synchronous "
        "steps from the same 1% pioneers:",
        "",
    ]
    lines.append(
        "| engine | set-up s | per step ms: mean / median / min / max | adopters after "
        "| time ÷ vectorized's |"
    )
    lines.append("|---|---|---|---|---|")
    base = float(np.mean(c["vectorized"]["per_step_s"]))
    for name in ("vectorized", "agents", "ndlib"):
        e = c.get(name, {})
        if "error" in e or not e:
            lines.append(f"| {name} | – | {e.get('error', 'not run')} | – | – |")
            continue
        t = np.array(e["per_step_s"])
        lines.append(
            f"| {name} | {e['init_s']:.2f} | {ms(t.mean())} / {ms(np.median(t))} / {ms(t.min())} "
            f"/ {ms(t.max())} | {e['adopters']:,} | {t.mean() / base:.0f}× |"
        )
    counts = {c[k]["adopters"] for k in ("vectorized", "agents", "ndlib") if "adopters" in c[k]}
    lines.append("")
    lines.append(
        "same final adopter count on every engine: "
        + ("yes" if len(counts) == 1 else f"NO ({sorted(counts)})")
    )
    lines.append("")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small worlds, under a minute")
    parser.add_argument("--repeats", type=int, default=None, help="runs per world size")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        kind, *rest = args.worker
        if kind == "synthetic":
            result = worker_synthetic(int(rest[0]), int(rest[1]), int(rest[2]))
        elif kind == "compare":
            result = worker_compare(int(rest[0]), int(rest[1]), rest[2].split(","), rest[3])
        else:
            raise SystemExit(f"unknown worker {kind}")
        print(json.dumps(result))
        return
    repeats = args.repeats or (1 if args.quick else 3)
    print(report(args.quick, repeats))


if __name__ == "__main__":
    main()
