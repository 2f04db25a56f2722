"""Do the 95% intervals of ``estimate`` contain the truth 95% of the time? (issue 14, section 3)

Simulates the synthetic 5,000-city world (``embedded`` with the contagion rule,
strength 0.02; every mechanism and abandonment on, so cities drop and are at
risk again) with known parameters on many seeds, estimates them from each run's
own events, and prints per parameter how often the 95% interval held the true
value, with the mean estimate, the spread of the estimates across seeds and the
mean standard error (they should agree when the observed information is right).
Two sets of parameters:

- rates: innovation rate, horizontal strength, top-down rate;
- layers: innovation rate, top-down rate and a beta for proximity, twinning and
  all networks (one), the layers' weights identified as strength x weight.

Then layer identification on one seed each: only the network layers active
(proximity and twinning weights 0), and only proximity. Prints, asserts nothing.

    python benchmarks/estimation_coverage.py [--seeds 30] [--cities 5000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import diffusion_sim as ds
from diffusion_sim.studies.estimation import estimate

BASE = {
    "mechanisms.horizontal.rule": "contagion",
    "mechanisms.horizontal.strength": 0.02,
}
SETS = {
    "rates": (["innovation.rate", "horizontal.strength", "vertical.top_down_rate"], []),
    "layers": (
        ["innovation.rate", "vertical.top_down_rate"],
        ["proximity", "twinning", "networks"],
    ),
}
WEIGHTS = {
    "proximity": "mechanisms.horizontal.proximity_weight",
    "twinning": "mechanisms.horizontal.twinning_weight",
    "networks": "mechanisms.horizontal.network_weight",
}


def coverage(scenario: ds.Scenario, world: ds.World, seeds: int, params, layers) -> None:
    rows, began = [], time.perf_counter()
    for k in range(seeds):
        result = ds.simulate(scenario, seed=1000 + k, world=world)
        fit = estimate(scenario, result, params, layers, world=world, layer_tests=False, draws=0)
        rows.append(fit.parameters())
    keys = rows[0]["key"].tolist()
    value = np.array([r["estimate"] for r in rows])
    se = np.array([r["se"] for r in rows])
    truth = rows[0]["scenario_value"].to_numpy()
    inside = np.array([(r["lower95"] < truth) & (truth < r["upper95"]) for r in rows])
    print(
        f"  {seeds} seeds in {time.perf_counter() - began:.0f} s; {'parameter':<34} "
        f"{'truth':>8} {'covered':>9} {'mean':>9} {'sd':>9} {'mean se':>9}"
    )
    for j, key in enumerate(keys):
        print(
            f"  {'':>18}{key:<34} {truth[j]:8.4g} {inside[:, j].mean():8.0%} "
            f"{value[:, j].mean():9.4g} {value[:, j].std(ddof=1):9.3g} {np.nanmean(se[:, j]):9.3g}"
        )


def identification(base: ds.Scenario, world: ds.World, active: str) -> None:
    off = {WEIGHTS[name]: 0.0 for name in WEIGHTS if name != active}
    scenario = base.with_overrides(off)
    result = ds.simulate(scenario, seed=77, world=world)
    fit = estimate(scenario, result, ["innovation.rate"], list(WEIGHTS), world=world, draws=0)
    table = fit.parameters()
    print(f"  only {active} active:")
    for row in table.itertuples(index=False):
        if row.key.startswith("layers."):
            print(
                f"    {row.key:<18} {row.estimate:8.4f}  95% [{row.lower95:8.4f}, "
                f"{row.upper95:8.4f}]  truth {row.scenario_value:.4f}"
            )
    tests = fit.layer_table
    for row in tests.itertuples(index=False):
        if row.model.startswith("without"):
            print(f"    {row.model:<18} LR {row.lr:9.2f}  p {row.p_value:.3g}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--cities", type=int, default=5000)
    parser.add_argument("--steps", type=int, default=120)
    args = parser.parse_args()
    scenario = ds.load_scenario("embedded").with_overrides(
        {**BASE, "world.n_cities": args.cities, "run.steps": args.steps}
    )
    world = ds.build_world(scenario)
    print(
        f"embedded, contagion (strength 0.02), {args.cities} cities x {args.steps} steps; "
        f"95% Wald intervals (log scale for rates, natural for layers)"
    )
    for name, (params, layers) in SETS.items():
        print(f"{name}:")
        coverage(scenario, world, args.seeds, params, layers)
    print("layer identification (one seed each):")
    for active in ("networks", "proximity"):
        identification(scenario, world, active)


if __name__ == "__main__":
    main()
