"""World seeds mixed into one posterior; the warnings that say when a fit is not to be trusted."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import diffusion_sim as ds
from diffusion_sim.studies.calibration import calibrate
from diffusion_sim.studies.calibration.abc import Posterior
from diffusion_sim.studies.calibration.checks import best_fit_disagreement
from diffusion_sim.studies.calibration.keys import Prior
from diffusion_sim.studies.calibration.report import Interval, summarise
from diffusion_sim.studies.calibration.worlds import default_world_seeds, mixture
from tests.conftest import SCENARIOS

PRIOR = Prior("loguniform", 1e-4, 1.0)  # four decades: a third is 1.33 decades


def posterior(values, weights=None, world_seed=None) -> Posterior:
    values = np.asarray(values, dtype=float).reshape(-1, 1)
    n = len(values)
    return Posterior(
        keys=["mechanisms.horizontal.strength"],
        priors=[PRIOR],
        values=values,
        weights=np.ones(n) if weights is None else np.asarray(weights, dtype=float),
        channels=np.tile([0.5, 0.5, 0.0, 0.0], (n, 1)),
        curves=np.zeros((n, 1, 3)),
        vertical=np.zeros((n, 1, 3)),
        evaluations=n,
        generations=1,
        world_seed=None if world_seed is None else np.full(n, world_seed),
    )


def test_mixture_gives_each_world_seed_equal_weight():
    """Seed 1: three particles at 0.01 (weights 1, 1, 2); seed 2: one at 0.1 (weight 5).
    Mixed, each seed carries half: 0.01 with 1/2, 0.1 with 1/2, whatever the counts."""
    mixed = mixture(
        [posterior([0.01, 0.01, 0.01], [1, 1, 2], world_seed=1), posterior([0.1], [5], 2)]
    )
    w = mixed.weights / mixed.weights.sum()
    assert w == pytest.approx([0.125, 0.125, 0.25, 0.5])
    assert list(mixed.world_seed) == [1, 1, 1, 2]
    assert mixed.ess == pytest.approx(1 / np.sum(w**2))
    interval = summarise(mixed).intervals["mechanisms.horizontal.strength"]
    assert interval.low == pytest.approx(0.01) and interval.high == pytest.approx(0.1)


def test_default_world_seeds_are_three_on_a_real_world_one_on_a_synthetic():
    assert default_world_seeds(ds.load_scenario(SCENARIOS / "eu_covenant.toml")) == 3
    assert default_world_seeds(ds.load_scenario(SCENARIOS / "embedded.toml")) == 1


def test_wide_posterior_warns_beyond_a_third_of_the_log_prior_only():
    rng = np.random.default_rng(0)
    narrow = np.exp(rng.uniform(np.log(1e-3), np.log(1e-3) + 1.0, 400))  # ~0.24 of the prior
    wide = np.exp(rng.uniform(np.log(1e-3), np.log(1e-3) + 4.5, 400))  # ~0.44 of it
    assert not any("not identified" in w for w in summarise(posterior(narrow)).warnings)
    warned = [w for w in summarise(posterior(wide)).warnings if "not identified" in w]
    assert warned and "of its prior" in warned[0]


def test_best_fit_disagreement_fires_and_stays_silent():
    key = "k"
    observed = np.linspace(0, 0.3, 20)
    close = observed + 0.001
    inside = {key: Interval(0.02, 0.01, 0.03)}
    quiet = best_fit_disagreement([key], {key: 0.02}, inside, observed, close, close, 0.01, 1000)
    assert quiet == []
    outside = best_fit_disagreement([key], {key: 0.05}, inside, observed, close, close, 0.01, 1000)
    assert len(outside) == 1 and "outside the posterior's 90% interval" in outside[0]
    assert "fitted.toml is written from the best fit" in outside[0]
    far = observed + 0.05  # the predictive median misses by 0.05, five times one run's noise
    missed = best_fit_disagreement([key], {key: 0.02}, inside, observed, close, far, 0.01, 1000)
    assert len(missed) == 1 and "about 50 cities" in missed[0]
    within = observed + 0.008  # worse than the best fit by less than the noise: silent
    args = (observed, close, within, 0.01, 1000)
    assert best_fit_disagreement([key], {key: 0.02}, inside, *args) == []


def test_calibrate_on_two_world_seeds_says_which_it_covers(tmp_path):
    overrides = {
        "world.n_cities": 200,
        "world.seed": 8,
        "run.steps": 20,
        "mechanisms.innovation.rate": 0.005,
        "mechanisms.horizontal.rule": "contagion",
        "mechanisms.vertical.enabled": False,
        "mechanisms.hierarchical.enabled": False,
        "mechanisms.abandonment.enabled": False,
    }
    scenario = ds.load_scenario(SCENARIOS / "embedded.toml").with_overrides(overrides)
    key = "mechanisms.horizontal.strength"
    run = ds.simulate(scenario.with_overrides({key: 0.03}), seed=3)
    adopters = run.cities[run.cities["first_adoption_step"] >= 0]
    dates = pd.Period("2000-01", freq="M") + adopters["first_adoption_step"].to_numpy()
    csv = tmp_path / "d.csv"
    pd.DataFrame({"city": adopters["name"], "date": [d.start_time.date() for d in dates]}).to_csv(
        csv, index=False
    )
    fit = calibrate(
        scenario,
        csv,
        [key],
        start="2000-01",
        seed=2,
        replicates=1,
        max_evaluations=4,
        priors=[f"{key}=loguniform:0.001:0.2"],
        population=12,
        generations=2,
        world_seeds=2,
        database=tmp_path / "abc.db",
    )
    assert fit.world_seeds == [8, 9] and set(fit.world_best) == {8, 9}
    assert "intervals cover world seeds 8, 9" in fit.summary()
    assert sorted(set(fit.posterior.world_seed)) == [8, 9]
    seeds = fit.posterior.world_seed
    w = fit.posterior.weights / fit.posterior.weights.sum()
    assert w[seeds == 8].sum() == pytest.approx(0.5)
    folder = fit.save(tmp_path / "fit")
    names = {p.name for p in folder.iterdir()}
    assert {"abc.db", "abc-world9.db", "posterior.csv"} <= names
    assert set(pd.read_csv(folder / "posterior.csv")["world_seed"]) == {8, 9}
