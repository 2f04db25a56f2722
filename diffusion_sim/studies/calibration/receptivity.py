"""Choosing the receptivity exponent from where the data's adopters are (``--receptivity``).

The country receptivity (:mod:`diffusion_sim.world.receptivity`) has one free number,
the exponent beta. The adoption curve barely constrains it (on the Covenant
2008-2014 the best fit's curve RMSE is 31, 32, 35 and 69 cities at beta 0.25,
0.5, 0.75 and 1), but the *map* does: the model's contagion and common top-down
support blur the country contrasts (beta < 1 undershoots them, as at 0 the model
puts 289 of its adopters in Germany against the data's 61) or, amplified by
horizontal spread within a country, overshoots them (beta = 1). So for each beta
of :data:`EXPONENTS` the rates are fitted to the curve as usual, and beta is the
one whose best fit puts the adopters in the data's countries most closely, by
the share of adopters that would have to move country (total variation
distance between the two distributions over countries). Both targets are the
rows the fit is given, so a forecast's beta comes from its training rows only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from diffusion_sim.errors import InputError
from diffusion_sim.scenario import Scenario
from diffusion_sim.studies.calibration.data import Adoptions
from diffusion_sim.studies.calibration.keys import apply_values
from diffusion_sim.studies.calibration.model import Evaluator
from diffusion_sim.studies.calibration.universe import (
    first_adoptions,
    in_universe,
    universe_floor,
)
from diffusion_sim.studies.calibration.worlds import WorldFit
from diffusion_sim.world import World
from diffusion_sim.world.receptivity import with_receptivity

EXPONENTS = (0.0, 0.25, 0.5, 0.75, 1.0)
"""The exponents tried: none, a quarter ... the data's contrasts in full."""


def adopters_by_country(adoptions: Adoptions, scenario: Scenario, world: World) -> pd.Series:
    """The data's adopters per country name of the world (its universe, one row per city)."""
    floor = universe_floor(adoptions.format, scenario, world)
    if floor is None:
        raise InputError(
            "--receptivity: needs the JRC Covenant of Mayors file (its country_code) on a "
            "real world (world.generator = 'real'), whose cities have countries",
            source=adoptions.source,
        )
    table = in_universe(first_adoptions(adoptions.table)[0], floor, world)
    name_of = dict(zip(world.meta["country_codes"], world.country_names, strict=True))
    return table["country"].map(name_of).value_counts()


def misplaced_share(model: pd.Series, data: pd.Series) -> float:
    """Share of adopters that would have to change country to match: 1/2 sum |m_c - d_c|."""
    both = pd.concat([model, data], axis=1).fillna(0.0).astype(float)
    shares = both / both.sum(axis=0).replace(0.0, 1.0)
    return 0.5 * float(np.abs(shares.iloc[:, 0] - shares.iloc[:, 1]).sum())


def model_by_country(evaluator: Evaluator, values: Sequence[float]) -> pd.Series:
    """Mean adopters per country at the fit's last step, over the evaluator's seeds."""
    from diffusion_sim.record.tables import final_state
    from diffusion_sim.simulation import run_trajectory

    scenario = apply_values(evaluator.scenario, evaluator.keys, values)
    world = evaluator.world
    total = np.zeros(len(world.country_names))
    for seq in evaluator.seeds:
        fresh = np.random.SeedSequence(seq.entropy, spawn_key=seq.spawn_key)
        _, trajectory = run_trajectory(scenario, fresh, world=world, steps=evaluator.steps)
        adopted = final_state(trajectory, world.n_cities)[0] & (world.country >= 0)
        total += np.bincount(world.country[adopted], minlength=len(total))
    return pd.Series(total / len(evaluator.seeds), index=list(world.country_names))


@dataclass
class ReceptivityChoice:
    """The exponent chosen, its world, and what each exponent gave."""

    exponent: float
    world: World
    table: pd.DataFrame
    """Per exponent: the best fit's curve RMSE (cities) and its misplaced share."""

    def note(self) -> str:
        rows = ", ".join(
            f"{r.exponent:g}: {r.misplaced:.3f} (curve RMSE {r.curve_rmse:.0f})"
            for r in self.table.itertuples()
        )
        return (
            f"country receptivity (world/receptivity.py), exponent {self.exponent:g}, chosen "
            f"by the share of adopters in the wrong country at the best fit: {rows}"
        )


def choose_exponent(
    world: World,
    adopters: pd.Series,
    fit_at: Callable[[World], WorldFit],
    share: np.ndarray,
    denominator: int,
    exponents: Sequence[float] = EXPONENTS,
) -> tuple[ReceptivityChoice, WorldFit]:
    """For each exponent, ``fit_at(world)`` fits the curve ``share``; keep the least misplaced.

    Returns the choice and the chosen exponent's fit. Ties go to the smaller exponent
    (the simpler model)."""
    rows, fits = [], []
    for exponent in exponents:
        fit = fit_at(with_receptivity(world, adopters, exponent))
        error = fit.evaluation.mean[: len(share)] - share
        rows.append(
            {
                "exponent": float(exponent),
                "curve_rmse": float(np.sqrt(np.mean(error**2))) * denominator,
                "misplaced": misplaced_share(
                    model_by_country(fit.evaluator, fit.best.values), adopters
                ),
            }
        )
        fits.append(fit)
    table = pd.DataFrame(rows)
    best = int(np.argmin(table["misplaced"].to_numpy()))
    choice = ReceptivityChoice(float(table["exponent"][best]), fits[best].evaluator.world, table)
    return choice, fits[best]
