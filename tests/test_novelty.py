"""Novelty (Wu & Huberman 2007): every voluntary hazard times exp(-(t - launch) / tau).

- the rule against its definition;
- in the engine, a city's innovation hazard at steps t1 < t2 after the launch has
  ratio exp(-(t2 - t1) / tau), and is undecayed up to the launch;
- pure innovation: the ensemble's mean curve against the analytic one,
  E N(t) = pioneers + sum_i [1 - prod_{s<=t} (1 - h_i g(s))], and its ceiling
  below the pool;
- both engines agree event for event with it on (every channel, both rules);
- the likelihood's hazard at every cell is the engine's with it on.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import diffusion_sim as ds
from diffusion_sim.mechanisms import compose, novelty
from diffusion_sim.mechanisms.innovation import innovation_hazard
from diffusion_sim.model.setup import build_setup
from diffusion_sim.simulation import build_world, make_engine
from tests.conftest import only
from tests.test_engines import assert_same_run

TAU, LAUNCH = 15.0, 4


def with_novelty(scenario: ds.Scenario, tau: float = TAU, launch: int = LAUNCH) -> ds.Scenario:
    return scenario.with_overrides(
        {
            "mechanisms.novelty.enabled": True,
            "mechanisms.novelty.tau": tau,
            "mechanisms.novelty.launch": launch,
        }
    )


def test_the_rule_is_its_definition():
    assert novelty.novelty_rule(0.0, 0.0, 10.0) == 1.0
    assert novelty.novelty_rule(3.0, 4.0, 10.0) == 1.0  # before the launch: undecayed
    assert novelty.novelty_rule(14.0, 4.0, 10.0) == pytest.approx(math.exp(-1.0), rel=1e-15)
    steps = np.arange(5.0, 60.0)
    g = novelty.novelty_factor(steps, 4.0, 10.0)
    np.testing.assert_allclose(g[1:] / g[:-1], math.exp(-0.1), rtol=1e-12)


def test_off_by_default_and_the_factor_is_not_applied_when_off():
    assert ds.Scenario().mechanisms.novelty.enabled is False
    params = compose.params_of(ds.Scenario().mechanisms, np.ones(1))
    assert compose.voluntary_now(params, 500, 0.3) == 0.3  # untouched, whatever the step
    on = params._replace(novelty=True, novelty_tau=10.0, novelty_launch=0.0)
    assert compose.voluntary_now(on, 10, 0.3) == 0.3 * math.exp(-1.0)


@pytest.fixture
def innovation_only(embedded):
    return only(embedded, "innovation").with_overrides(
        {"mechanisms.innovation.rate": 0.2, "run.steps": 40}
    )


def test_the_engine_hazard_falls_by_exp_of_minus_the_elapsed_steps_over_tau(innovation_only):
    scenario = with_novelty(innovation_only)
    world = build_world(scenario)
    rng = np.random.default_rng(3)
    setup = build_setup(scenario, world, rng)
    engine = make_engine("vectorized", setup, rng)
    hazards = {}
    for t in range(1, 31):
        engine.step(t)
        hazards[t] = (engine.full_hazard(t).copy(), engine.city_adopted().copy())
    rate = scenario.mechanisms.innovation.rate
    base = innovation_hazard(world.capacity, world.leaning, rate) * setup.susceptibility
    for t, (hazard, adopted) in hazards.items():
        at_risk = ~adopted  # a non-adopter's hazard at step t: its innovation channel alone
        expected = base * (1.0 if t <= LAUNCH else math.exp(-(t - LAUNCH) / TAU))
        # rtol 1e-9: the combined hazard 1 - (1 - x) loses about 2^-53 / x of x's precision
        np.testing.assert_allclose(hazard[at_risk], expected[at_risk], rtol=1e-9)
    h10, _ = hazards[10]
    h25, adopted25 = hazards[24]
    keep = ~adopted25 & (base > 0)
    np.testing.assert_allclose(h25[keep] / h10[keep], math.exp(-14 / TAU), rtol=1e-9)
    h1, h4 = hazards[1][0], hazards[LAUNCH][0]
    keep = ~hazards[LAUNCH][1]
    np.testing.assert_array_equal(h1[keep], h4[keep])  # undecayed up to the launch


def test_pure_innovation_mean_curve_is_the_analytic_one(innovation_only):
    """30 runs: the mean count at every step within 4 standard errors of
    pioneers + sum_i [1 - prod_{s=1..t} (1 - h_i g(s))]; the runs without novelty lie
    far above it, and the analytic ceiling (t -> infinity) is below the pool."""
    scenario = with_novelty(innovation_only)
    world = build_world(scenario)
    steps = scenario.run.steps
    rate = scenario.mechanisms.innovation.rate
    setup = build_setup(scenario, world, np.random.default_rng(0))
    h = innovation_hazard(world.capacity, world.leaning, rate) * setup.susceptibility
    g = novelty.novelty_factor(np.arange(1.0, steps + 1), float(LAUNCH), TAU)
    far = novelty.novelty_factor(np.arange(1.0, 5001), float(LAUNCH), TAU)  # t -> infinity
    counts, analytic, plain, ceilings = [], [], [], []
    for seed in range(30):
        run = ds.simulate(scenario, seed=seed, world=world)
        pioneers = (run.cities["first_adoption_step"] == 0).to_numpy()
        survive = np.cumprod(1.0 - np.outer(h[~pioneers], g), axis=1)  # (cities, steps)
        analytic.append(pioneers.sum() + (1.0 - survive).sum(axis=0))
        never = np.exp(np.log1p(-np.outer(h[~pioneers], far)).sum(axis=1))
        ceilings.append(pioneers.sum() + (1.0 - never).sum())
        counts.append(run.timeseries["adopters"].to_numpy()[1:])
        if seed < 5:
            off = scenario.with_overrides({"mechanisms.novelty.enabled": False})
            plain.append(ds.simulate(off, seed=seed, world=world).timeseries["adopters"])
    counts, analytic = np.array(counts, dtype=float), np.array(analytic)
    se = counts.std(axis=0, ddof=1) / math.sqrt(len(counts))
    gap = np.abs(counts.mean(axis=0) - analytic.mean(axis=0))
    assert np.all(gap <= 4 * np.maximum(se, 0.5)), (gap / se).max()
    assert np.mean([p.iloc[-1] for p in plain]) > 1.3 * counts[:, -1].mean()
    # the ceiling pioneers + sum_i [1 - prod_{s>=1} (1 - h_i g(s))]: a finite pool, within
    # 10% of the count at step 40 (2.4 tau after the launch), far below the world's cities
    ceiling = np.mean(ceilings)
    assert analytic.mean(axis=0)[-1] <= ceiling <= 1.1 * analytic.mean(axis=0)[-1]
    assert ceiling < 0.6 * world.n_cities


@pytest.mark.parametrize("rule", ["threshold", "contagion"])
@pytest.mark.parametrize("launch", [0, 12])
def test_engines_agree_event_for_event_with_novelty_on(embedded, rule, launch):
    scenario = with_novelty(
        only(embedded, "innovation", "horizontal", "vertical", "hierarchical", abandonment=True),
        tau=10.0,
        launch=launch,
    ).with_overrides(
        {"mechanisms.horizontal.rule": rule, "mechanisms.hierarchical.government_rate": 0.02}
    )
    vectorized = ds.simulate(scenario, seed=5)
    agents = ds.simulate(scenario, seed=5, engine="agents")
    assert len(vectorized.events) > 0
    assert_same_run(vectorized, agents)
    plain = ds.simulate(scenario.with_overrides({"mechanisms.novelty.enabled": False}), seed=5)
    assert not vectorized.events.equals(plain.events)  # it does something


def test_the_likelihood_is_the_engines_hazard_with_novelty_on(monkeypatch):
    from diffusion_sim.studies.estimation import prepare
    from diffusion_sim.studies.estimation.likelihood import Likelihood
    from diffusion_sim.studies.estimation.parameters import Parametrisation, resolve
    from tests.test_estimation import RATES, contagion, engine_run

    scenario = with_novelty(
        contagion(400, 40, **{"mechanisms.horizontal.strength": 0.05}), tau=12.0, launch=3
    )
    world, result, seen = engine_run(scenario, 3, monkeypatch)
    prepared = prepare(scenario, result, world=world)
    cells = prepared.cells
    parametrisation = Parametrisation(
        scenario, prepared.exposure, resolve(scenario, RATES, prepared.exposure)
    )
    likelihood = Likelihood(
        prepared.setup, cells, prepared.exposure, parametrisation, fixed_point=True
    )
    mine = likelihood.cell_hazards(parametrisation.truth)
    independent = 0.0
    for t in range(1, scenario.run.steps + 1):
        hazard, _ = seen[t]
        at = cells.step == t
        np.testing.assert_array_equal(mine[at], hazard[cells.city[at]])
        y, h = cells.adopted[at], hazard[cells.city[at]]
        independent += np.log(h[y]).sum() + np.log1p(-h[~y]).sum()
    assert likelihood.loglik(parametrisation.truth) == pytest.approx(independent, rel=1e-12)
