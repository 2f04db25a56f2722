"""Each mechanism's formula against its definition, on arrays and on one city."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diffusion_sim.mechanisms import (
    abandonment,
    hierarchical,
    horizontal,
    innovation,
    vertical,
)
from diffusion_sim.mechanisms.embedded import choose_channel, combined_hazard

probabilities = st.floats(0.0, 1.0, allow_nan=False)


def test_threshold_boundary_is_exact():
    # 7 of 100 equal ties against 0.07: adopt. 6 of 100: not. Same on one city.
    pressure = np.array([7.0, 6.0, 7.0]) * 2**20
    total = np.array([100.0, 100.0, 0.0]) * 2**20
    threshold = np.array([0.07, 0.07, 0.0])
    assert horizontal.threshold_hazard(pressure, total, threshold).tolist() == [1.0, 0.0, 0.0]
    assert horizontal.threshold_hazard(7.0, 100.0, 0.07) == 1.0
    assert horizontal.threshold_hazard(6.0, 100.0, 0.07) == 0.0
    # 1 of 3 against 1/3 (not representable in binary) still adopts.
    assert horizontal.threshold_hazard(1.0, 3.0, 1 / 3) == 1.0


def test_contagion_matches_independent_persuasion():
    # k adopting neighbours, each persuading with probability p: h = 1 - (1 - p)^k.
    import scipy.sparse as sp

    ties = sp.csr_array(np.ones((1, 1)))
    for p in (0.05, 0.3, 0.9):
        weights = horizontal.log_escape_weights(ties, np.ones(1), p)
        for k in (1, 3, 10):
            h = horizontal.contagion_hazard(k * weights.data[0])
            assert h == pytest.approx(1 - (1 - p) ** k, abs=1e-5)


def test_influence_weights_are_integers_and_scale_with_prestige():
    import scipy.sparse as sp

    ties = sp.csr_array(np.array([[0, 1.0, 1.0], [1.0, 0, 0], [1.0, 0, 0]]))
    prestige = horizontal.prestige(np.array([100, 400, 100]), alpha=1.0)
    by_source = horizontal.influence_weights(ties, prestige).toarray()
    assert np.all(by_source == np.round(by_source))
    # City 1 (4x the population) influences city 0 four times as much as city 2 does.
    assert by_source[1, 0] == pytest.approx(4 * by_source[2, 0], rel=1e-5)
    assert np.all(horizontal.prestige(np.array([1, 10, 1000]), 0.0) == 1.0)


@given(st.lists(probabilities, min_size=1, max_size=5), probabilities)
@settings(max_examples=300, deadline=None)
def test_one_city_and_arrays_choose_the_same_channel(hazards, u):
    vector = choose_channel(np.array([u]), [np.array([h]) for h in hazards])[0]
    assert choose_channel(u, hazards) == vector
    total = combined_hazard(hazards)
    assert (vector >= 0) == (u < total)


def test_channels_are_chosen_in_proportion_to_their_hazards():
    rng = np.random.default_rng(0)
    n = 200_000
    hazards = [np.full(n, 0.1), np.full(n, 0.3), np.full(n, 0.0), np.full(n, 0.2)]
    channel = choose_channel(rng.random(n), hazards)
    total = 1 - 0.9 * 0.7 * 0.8
    assert (channel >= 0).mean() == pytest.approx(total, abs=4 * np.sqrt(total / n))
    fired = channel[channel >= 0]
    shares = np.bincount(fired, minlength=4) / len(fired)
    assert shares == pytest.approx([1 / 6, 3 / 6, 0, 2 / 6], abs=0.01)


def test_compliance_times_are_uniform_over_the_horizon():
    horizon = 6
    survival = 1.0
    for k in range(horizon):
        h = hierarchical.compliance_hazard(k, horizon)
        # P(comply at k) = survival x h = 1/H for every k.
        assert survival * h == pytest.approx(1 / horizon)
        survival *= 1 - h
    assert survival == pytest.approx(0.0, abs=1e-12)
    assert hierarchical.compliance_hazard(-1, horizon) == 0.0
    assert hierarchical.compliance_hazard(np.array([-5, 0, 5, 9]), horizon).tolist() == [
        0.0,
        1 / 6,
        1.0,
        1.0,
    ]


def test_vertical_formulas():
    assert vertical.government_hazard(0.5, 0.2, 1.0, 0.1, 0.5) == pytest.approx(0.1 * 0.6)
    assert vertical.government_hazard(1.0, 1.0, 1.0, 1.0, 5.0) == 1.0
    assert vertical.support(vertical.SUPPORTIVE, True) == 2
    assert vertical.support(vertical.HOSTILE, True) == 0
    assert vertical.support(vertical.NEUTRAL, True) == 1
    assert vertical.deterrence_factors(0.5, 3).tolist() == [1.0, 0.5, 0.25, 0.125]
    assert vertical.top_down_hazard(2.0, 0.5, 0.1) == pytest.approx(0.1)


def test_network_voice_grows_with_members_up_to_saturation():
    assert vertical.network_voice(60, 0) == vertical.VOICE_UNITS
    assert vertical.network_voice(60, 360) == round(vertical.VOICE_UNITS / 6)
    assert vertical.network_voice(500, 360) == vertical.VOICE_UNITS
    assert vertical.network_voice(1, 10**9) == 1  # never silent


def test_innovation_abandonment_preemption_formulas():
    assert innovation.innovation_hazard(0.5, 0.4, 0.01) == pytest.approx(0.002)
    top = innovation.top_pioneers(np.array([0.1, 0.9, 0.5]), np.array([1.0, 1.0, 1.0]), 2)
    assert top.tolist() == [1, 2]
    assert abandonment.abandonment_hazard(np.array([True, False]), 0.1, 0.7).tolist() == (
        pytest.approx([0.03, 0.1])
    )
    assert hierarchical.preemption_hazard(True, False, 0.8) == 0.8
    assert hierarchical.preemption_hazard(True, True, 0.8) == 0.0
    assert hierarchical.harmonization_hazard(np.array([-1, 0, 1]), 0.1).tolist() == [0, 0.05, 0.1]


def test_thresholds_follow_readiness_and_distribution():
    u = np.full(3, 0.5)
    readiness = np.array([0.1, 0.5, 0.9])
    theta = horizontal.draw_thresholds(u, readiness, "normal", 0.3, 0.1, 0.5)
    assert theta == pytest.approx([0.5, 0.3, 0.1])
    fixed = horizontal.draw_thresholds(
        np.random.default_rng(0).random(5), np.full(5, 0.5), "fixed", 0.4, 0.2, 1.0
    )
    assert np.all(fixed == 0.4)
