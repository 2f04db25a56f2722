"""How long ``estimate`` takes on the European world: 7,609 cities x 192 monthly steps.

Simulates ``eu_covenant`` (contagion rule, every mechanism on, January 2008 to
December 2023: steps 0..191) once, then times :func:`diffusion_sim.studies.estimation.estimate`
on the run's own events with four parameters (innovation rate, horizontal
strength, top-down rate, deterrence): reading the histories, building the cells
and exposure, the fit with its standard errors, and the attribution of every
adoption to channels and layers with 200 parameter draws. Prints, asserts nothing;
the target (issue 14) is under one minute on the project's 2-core machine.

    python benchmarks/estimation_speed.py [--seed 1] [--repeat 1]
"""

from __future__ import annotations

import argparse
import os
import time

import diffusion_sim as ds
from diffusion_sim.studies.estimation import estimate

PARAMS = [
    "innovation.rate",
    "horizontal.strength",
    "vertical.top_down_rate",
    "vertical.deterrence",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    scenario = ds.load_scenario("eu_covenant")
    world = ds.build_world(scenario)
    began = time.perf_counter()
    result = ds.simulate(scenario, seed=args.seed, world=world)
    simulated = time.perf_counter() - began
    print(
        f"eu_covenant: {world.n_cities:,} cities x {scenario.run.steps + 1} steps, "
        f"{int((result.events['kind'] == 'adopt').sum()):,} adoptions, "
        f"{int((result.events['kind'] == 'drop').sum()):,} drops (simulated in {simulated:.1f} s); "
        f"{os.cpu_count()} cores, shared"
    )
    for _ in range(args.repeat):
        began = time.perf_counter()
        fit = estimate(scenario, result, PARAMS, world=world)
        total = time.perf_counter() - began
        parts = ", ".join(f"{k[:-2]} {v:.1f} s" for k, v in fit.timings.items())
        print(
            f"estimate, {len(PARAMS)} parameters: {total:.1f} s ({parts}); "
            f"{fit.fit.evaluations} likelihood evaluations over {fit.n_cells:,} city-steps "
            f"at risk ({fit.n_runs:,} runs of alike steps evaluated; {fit.n_adoptions:,} "
            "adoptions)"
        )
    print(fit.summary())


if __name__ == "__main__":
    main()
