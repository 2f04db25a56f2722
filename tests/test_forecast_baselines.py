"""The forecast's baselines against known curves: Bass and logistic fits, their bootstrap bands."""

from __future__ import annotations

import numpy as np
import pytest

from diffusion_sim.studies.calibration.baselines import (
    BASS,
    LOGISTIC,
    bass,
    fit_curve,
    forecast_baseline,
    logistic,
)

T = np.arange(85, dtype=float)  # 2008-2014 in months, as the Covenant benchmark trains


@pytest.mark.parametrize(("p", "q", "m"), [(0.003, 0.05, 3000.0), (0.01, 0.02, 800.0)])
def test_bass_fitted_to_an_exact_bass_series_recovers_p_q_m(p, q, m):
    """Noise-free counts: p, q, m within 1% (least squares has an exact zero)."""
    params, _ = fit_curve(BASS, T, bass(T, p, q, m), ceiling=10_000)
    assert params == pytest.approx([p, q, m], rel=0.01)


def test_logistic_fitted_to_an_exact_logistic_series_recovers_k_t0_m():
    params, _ = fit_curve(LOGISTIC, T, logistic(T, 0.08, 40.0, 1500.0), ceiling=10_000)
    assert params == pytest.approx([0.08, 40.0, 1500.0], rel=0.01)


def test_bass_on_poisson_counts_recovers_m_and_its_band_covers_the_end():
    """Monthly adoptions Poisson around a Bass curve past its peak: m within 10%, and the
    bootstrap's 90% band at month 199 holds the realised count in most of 12 series."""
    p, q, m = 0.004, 0.06, 2500.0
    full = np.arange(-1, 200, dtype=float)
    increments = np.diff(bass(full, p, q, m))
    rng = np.random.default_rng(5)
    inside = 0
    for _ in range(12):
        series = np.cumsum(rng.poisson(increments))
        result = forecast_baseline(BASS, series[:85], 199, ceiling=7609, rng=rng, bootstrap=40)
        assert result.parameters["m"] == pytest.approx(m, rel=0.10)
        low, median, high = result.band[:, -1]
        assert low <= median <= high
        inside += low <= series[-1] <= high
    assert inside >= 9, inside  # 90% intervals: 9 or more of 12 (binomial 5th percentile)


def test_bootstrap_band_widens_beyond_the_training_data():
    rng = np.random.default_rng(1)
    series = np.cumsum(rng.poisson(np.diff(bass(np.arange(-1, 85.0), 0.003, 0.05, 3000.0))))
    result = forecast_baseline(LOGISTIC, series, 190, ceiling=7609, rng=rng, bootstrap=60)
    width = result.band[2] - result.band[0]
    assert width[190] > width[100] > width[86] > 0  # the forecast starts at the last count
    assert "parametric bootstrap" in result.note and result.dispersion >= 1


def test_a_baseline_is_scored_on_its_fitted_curve_whatever_the_bootstrap_draws():
    """Two bootstraps of the same fit (different draws) move the band's median but not the
    score: RMSE and end error come from the fitted curve, the band only gives coverage."""
    from diffusion_sim.studies.calibration.forecast_report import MethodForecast, score

    rng = np.random.default_rng(3)
    series = np.cumsum(rng.poisson(np.diff(bass(np.arange(-1, 150.0), 0.003, 0.05, 3000.0))))
    scores, medians = [], []
    for seed in (11, 12):
        fit = forecast_baseline(
            BASS, series[:85], 149, ceiling=7609, rng=np.random.default_rng(seed), bootstrap=30
        )
        method = MethodForecast("bass", fit.band, fit.note, point=fit.fitted)
        assert np.array_equal(method.central, bass(np.arange(150.0), *fit.parameters.values()))
        scores.append(score(method, series.astype(float), 85))
        medians.append(fit.band[1])
    assert not np.array_equal(medians[0], medians[1])  # the bootstraps differ
    assert scores[0].rmse == scores[1].rmse and scores[0].end_error == scores[1].end_error
    held = series[85:] - bass(np.arange(85, 150.0), *fit.parameters.values())
    assert scores[0].rmse == pytest.approx(np.sqrt(np.mean(held**2)))
