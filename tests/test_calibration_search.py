"""The point fit's search: boxes the data centre, widening that moves on, edges reported.

Issue 12: Bass curves with p = 0.03 ended with the innovation rate at 0.06, the upper
edge of the first box (the scenario's 0.002 x 30), inside the widened box and without
a warning. Unit tests drive ``point_fit`` with a stand-in model (a Bass curve in
closed form, milliseconds); one test fits that curve with the real model.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import diffusion_sim as ds
from diffusion_sim.simulation import build_world
from diffusion_sim.studies.calibration import calibrate, fit_key, observed_curve, read_adoptions
from diffusion_sim.studies.calibration.keys import (
    FitKey,
    Prior,
    default_prior,
    innovation_centre,
    search_centres,
)
from diffusion_sim.studies.calibration.model import Evaluation
from diffusion_sim.studies.calibration.point import Targets, design, point_fit, search_box, spread
from tests.conftest import SCENARIOS

STEPS = 36
RATE = "mechanisms.innovation.rate"
STRENGTH = "mechanisms.horizontal.strength"
CEILING = "mechanisms.opposition_leaning"


def bass(p: float, q: float, m: float, steps: int = STEPS) -> np.ndarray:
    f = np.zeros(steps + 1)
    for t in range(steps):
        f[t + 1] = f[t] + (p + q * f[t]) * (m - f[t])
    return f


class BassModel:
    """A stand-in evaluator: the Bass curve of (p, q, 1 - c) for keys (p, q, c)."""

    def __init__(self, keys: list[FitKey]) -> None:
        self.keys = keys

    def __call__(self, values):
        p, q, c = values
        curve = bass(p, q, 1.0 - c)[None, :]
        return Evaluation(curve, np.zeros_like(curve), np.ones(4))


def bass_keys(p_start: float = 0.002) -> tuple[list[FitKey], list[Prior]]:
    keys = [
        FitKey("p", False, 0.0, 1.0, p_start),
        FitKey("q", False, 0.0, 1.0, 0.1),
        FitKey("c", False, 0.0, 1.0, 0.0),
    ]
    return keys, [default_prior(k) for k in keys]


# ------------------------------------------------------------------ widening


def test_a_value_beyond_the_first_box_is_found_not_left_at_its_edge():
    """The truth p = 0.2 lies beyond the first box (0.002 x 30 = 0.06). Before the widened
    search also started from where the first one ended, this fit stopped at p = 0.06
    (R² 0.91), inside the widened box and without a warning."""
    keys, priors = bass_keys()
    target = bass(0.2, 0.05, 1.0)
    fit = point_fit(BassModel(keys), priors, Targets(target))
    first_high = math.exp(fit.first[0][1])
    assert first_high == pytest.approx(0.06)
    assert math.exp(fit.boxes[0][1]) > first_high  # the box was widened on that side
    assert fit.values[0] == pytest.approx(0.2, rel=0.05), fit.values
    assert 1 - fit.sse / np.sum((target - target.mean()) ** 2) > 0.999
    assert not [w for w in fit.warnings if w.startswith(("p = ", "q = "))], fit.warnings


def test_a_value_left_at_the_edge_of_its_box_is_reported():
    """No widening allowed: the best p sits at the box's upper edge, and the fit says so."""
    keys, priors = bass_keys()
    fit = point_fit(BassModel(keys), priors, Targets(bass(0.2, 0.05, 0.6)), widen=0)
    assert fit.values[0] == pytest.approx(0.06, rel=0.05)
    assert any(
        w.startswith("p = ") and "upper edge of its search box" in w for w in fit.warnings
    ), fit.warnings


def test_a_value_at_the_schema_bound_is_reported():
    """The curve wants a rate above the schema's upper bound 1: the fit ends there, and says so."""
    keys = [FitKey("p", False, 0.0, 1.0, 0.5)]

    class Exponential:
        """F(t) = 1 - exp(-3 p t); the data are that curve for p = 2."""

        def __init__(self) -> None:
            self.keys = keys

        def __call__(self, values):
            curve = (1 - np.exp(-3 * values[0] * np.arange(STEPS + 1)))[None, :]
            return Evaluation(curve, np.zeros_like(curve), np.ones(4))

    target = 1 - np.exp(-6 * np.arange(STEPS + 1))
    fit = point_fit(Exponential(), [Prior("uniform", 0.0, 1.0)], Targets(target))
    assert fit.values[0] == pytest.approx(1.0, abs=0.02)
    assert any("p = " in w and "the schema's upper bound" in w for w in fit.warnings), fit.warnings


def test_a_value_at_zero_says_either_unneeded_or_less_than_none():
    """A curve without a ceiling (c = 0): the fit ends at 0 and says what that can mean."""
    keys, priors = bass_keys()
    target = bass(0.01, 0.3, 1.0)
    # Centred as calibrate centres the innovation rate: on the first step's adoptions.
    fit = point_fit(BassModel(keys), priors, Targets(target), centres=[target[1], None, None])
    assert fit.values[0] == pytest.approx(0.01, rel=0.1)
    assert fit.values[2] == pytest.approx(0.0, abs=0.02)
    message = [w for w in fit.warnings if w.startswith("c = ")]
    assert message and "lower bound (0, none of it)" in message[0], fit.warnings
    assert "does not allow" not in message[0]


def test_the_search_finds_every_bass_shape_of_the_benchmark():
    """The 27 shapes of benchmarks/calibration_bass.py, fitted with the stand-in model
    (which can match each exactly): a grid first stage with three keys left some in a
    wrong basin (worst R² 0.93 before the data-centred box, 0.987 after); Sobol points
    and non-neighbouring starts find them all."""
    worst = 1.0
    for p, q, m in itertools.product((0.002, 0.01, 0.03), (0.1, 0.3, 0.6), (0.6, 0.8, 1.0)):
        keys, priors = bass_keys()
        target = bass(p, q, m)
        centre = target[1] if target[1] > 0 else None  # the first step, as calibrate does
        fit = point_fit(BassModel(keys), priors, Targets(target), centres=[centre, None, None])
        worst = min(worst, 1 - fit.sse / np.sum((target - target.mean()) ** 2))
    assert worst > 0.995


def test_the_first_stage_is_reproducible_and_spread():
    three = design(3, 5)
    assert three.shape == (128, 3)  # the power of two at least 5 ** 3
    assert np.array_equal(three, design(3, 5))  # a fixed seed: the same data, the same fit
    assert all(len(np.unique(np.round(column, 6))) == 128 for column in three.T)
    assert np.array_equal(design(1, 7)[:, 0], np.linspace(0, 1, 7))
    tried = sorted(
        [(float(np.sum((u - 0.3) ** 2)), u, u) for u in three], key=lambda entry: entry[0]
    )
    chosen = spread(tried, 3, 0.25)
    assert chosen[0] is tried[0]  # the best point always starts
    for i, a in enumerate(chosen):
        for b in chosen[i + 1 :]:
            assert np.max(np.abs(a[1] - b[1])) > 0.25  # no two starts are neighbours


# ------------------------------------------------------------------ the box the data centre


def bass_scenario() -> ds.Scenario:
    """The set-up of benchmarks/calibration_bass.py: own initiative and contagion only."""
    return ds.load_scenario(SCENARIOS / "embedded.toml").with_overrides(
        {
            "world.n_cities": 400,
            "world.seed": 42,
            "run.steps": STEPS,
            "pioneers.count": 0,
            "mechanisms.horizontal.rule": "contagion",
            "mechanisms.horizontal.prestige_alpha": 0.0,
            "mechanisms.vertical.enabled": False,
            "mechanisms.hierarchical.enabled": False,
            "mechanisms.abandonment.enabled": False,
        }
    )


def bass_file(tmp_path: Path, p: float, q: float, m: float, n: int = 400) -> Path:
    counts = np.round(bass(p, q, m) * n).astype(int)
    months = np.repeat(np.arange(STEPS + 1), np.diff(counts, prepend=0))
    dates = [(pd.Period("2000-01", freq="M") + int(t)).start_time.date() for t in months]
    csv = tmp_path / f"bass-{p}-{q}-{m}.csv"
    # names of the world's cities ("City 1" ...): calibrate warns about names the world lacks
    pd.DataFrame({"city": [f"City {i + 1}" for i in range(len(dates))], "date": dates}).to_csv(
        csv, index=False
    )
    return csv


@pytest.mark.parametrize("p", [0.002, 0.01, 0.03])
@pytest.mark.parametrize("m", [0.6, 1.0])
def test_the_first_box_holds_the_innovation_rate_of_a_bass_curve(tmp_path, p, m):
    """The model's rate for a Bass p is p / mean(capacity x leaning) (the hazard scales
    with both), up to 3x that when a ceiling leaves only the keener cities: inside the
    first box for p up to 0.03, where the scenario's start (0.002 x 30 = 0.06) fell short."""
    scenario = bass_scenario()
    world = build_world(scenario, seed=1)
    observed = observed_curve(
        read_adoptions(bass_file(tmp_path, p, 0.3, m)), scenario, world, start="2000-01"
    )
    keys = [fit_key(scenario, key) for key in (RATE, STRENGTH, CEILING)]
    centres = search_centres(scenario, world, keys, observed.share)
    assert centres[1:] == [None, None]
    prior = default_prior(keys[0])
    low, high = (math.exp(z) for z in search_box(keys[0], prior, 30.0, centres[0]))
    rate = p / float(np.mean(world.capacity * world.leaning))
    assert low <= rate and 3 * rate <= high, (low, rate, high)


def test_the_centre_recovers_a_model_generated_innovation_rate():
    """Own initiative alone at rate 0.2 (beyond 0.002 x 30): the first step gives it back.

    About 51 of 2,000 cities adopt in step 1 (sd 7), so the mean of 8 runs is used.
    """
    scenario = bass_scenario().with_overrides(
        {"mechanisms.horizontal.enabled": False, "world.n_cities": 2000, "run.steps": 1}
    )
    truth = 0.2
    world = build_world(scenario, seed=1)
    runs = [
        ds.simulate(scenario.with_overrides({RATE: truth}), seed=seed, world=world)
        for seed in range(8)
    ]
    share = np.mean([run.timeseries["share_cities"].to_numpy() for run in runs], axis=0)
    assert innovation_centre(scenario, world, share) == pytest.approx(truth, rel=0.15)


def test_no_centre_without_first_step_adoptions_or_innovation():
    scenario = bass_scenario()
    world = build_world(scenario, seed=1)
    flat = np.array([0.0, 0.0, 0.01])
    assert innovation_centre(scenario, world, flat) is None
    off = scenario.with_overrides({"mechanisms.innovation.enabled": False})
    assert innovation_centre(off, world, np.array([0.0, 0.05])) is None


# ------------------------------------------------------------------ the real model


def test_the_bass_curve_that_stuck_at_the_box_edge_now_fits(tmp_path):
    """p 0.03, q 0.1, m 0.6 ended at rate 0.06 (R² 0.956); its rate lies near 0.15."""
    fit = calibrate(
        bass_scenario(),
        bass_file(tmp_path, 0.03, 0.1, 0.6),
        [RATE, STRENGTH, CEILING],
        method="point",
        start="2000-01",
        replicates=2,
        seed=1,
    )
    assert fit.r2 >= 0.97, fit.summary()
    assert fit.values[RATE] > 0.08, fit.values
    assert not fit.all_warnings, fit.all_warnings
    boxes = fit.manifest["search_boxes"][RATE]
    assert boxes["first"][0] < fit.values[RATE] < boxes["first"][1]
