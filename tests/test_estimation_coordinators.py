"""Coordinators as world structure: the territory rule, the AUC against the held-out field,
and that the fitted rows' coordinator field never reaches the fit."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

import diffusion_sim as ds
from diffusion_sim.errors import InputError
from diffusion_sim.studies.estimation import estimate
from diffusion_sim.studies.estimation.coordination import auc_table
from diffusion_sim.world.coordinators import territories
from tests.conftest import ROOT

COVENANT = ROOT.parent / "shared" / "data" / "covenant_of_mayors_signatories_2024.csv"
needs_file = pytest.mark.skipif(
    not COVENANT.is_file(), reason="the JRC file is reference data outside the repository"
)


def test_a_city_is_under_the_coordinator_of_most_of_its_near_rows():
    # rows around (10, 45): three of "A", two uncoordinated; one "B" far away; one "C" abroad
    rows = pd.DataFrame(
        {
            "lon": [10.0, 10.01, 10.02, 10.03, 10.04, 12.0, 10.0],
            "lat": [45.0] * 5 + [45.0, 45.0],
            "country": ["IT"] * 6 + ["FR"],
            "coordinator": ["A", "A", "A", "", "", "B", "C"],
        }
    )
    lon = np.array([10.0, 10.0, 12.0, 20.0])
    lat = np.array([45.0, 45.0, 45.0, 45.0])
    country = np.array(["IT", "FR", "IT", "IT"], dtype=object)
    found = territories(lon, lat, country, rows)
    # 3 of 5 near rows are A's; in France only C's row; B's row is alone within 30 km
    # of (12, 45); nothing within 30 km of (20, 45)
    assert found.tolist() == ["A", "C", "B", ""]
    # two of five is not a majority
    rows.loc[2, "coordinator"] = ""
    assert territories(lon[:1], lat[:1], country[:1], rows).tolist() == [""]


def test_within_country_auc_pools_the_pairs_of_each_country():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "country": rng.choice(["IT", "ES", "PT"], size=60),
            "coordinated": rng.random(60) < 0.5,
            "p_vertical": rng.random(60),
        }
    )
    table = auc_table(frame, min_country=1).set_index("group")
    right = pairs = 0.0
    for _, part in frame.groupby("country"):
        pos = part.loc[part["coordinated"], "p_vertical"]
        neg = part.loc[~part["coordinated"], "p_vertical"]
        for a, b in itertools.product(pos, neg):
            right += (a > b) + 0.5 * (a == b)
            pairs += 1
    assert table.loc["within countries", "auc"] == pytest.approx(right / pairs, abs=1e-12)
    y, s = frame["coordinated"].to_numpy(), frame["p_vertical"].to_numpy()
    hand = np.mean([(a > b) + 0.5 * (a == b) for a in s[y] for b in s[~y]])
    assert table.loc["overall", "auc"] == pytest.approx(hand, abs=1e-12)


def test_coordinators_need_the_jrc_file_on_a_real_world(tmp_path):
    data = tmp_path / "a.csv"
    data.write_text("city,date\nCity 1,2001-03-01\n", encoding="utf-8")
    scenario = ds.load_scenario("embedded").with_overrides(
        {"world.n_cities": 200, "mechanisms.horizontal.rule": "contagion", "run.steps": 24}
    )
    with pytest.raises(InputError, match="--coordinators"):
        estimate(scenario, data, ["innovation.rate"], coordinators=True, start="2001-01")


def _small_covenant() -> ds.Scenario:
    return ds.load_scenario("eu_covenant").with_overrides(
        {
            "world.countries": ["IT", "ES", "BE", "PL"],
            "world.max_cities": 600,
            "governments.bloc": "neutral",
            "governments.overrides.Italy.stance": "neutral",
            "governments.overrides.Spain.stance": "neutral",
            "governments.overrides.Belgium.stance": "neutral",
        }
    )


def _fit(scenario, path):
    return estimate(
        scenario,
        path,
        ["innovation.rate", "vertical.top_down_rate"],
        start="2008-01",
        unmatched="drop",
        coordinators=True,
        layer_tests=False,
        draws=0,
    )


@needs_file
def test_the_fitted_rows_coordinator_field_never_reaches_the_fit(tmp_path):
    scenario = _small_covenant()
    raw = pd.read_csv(COVENANT, dtype=str, keep_default_na=False)
    population = pd.to_numeric(raw["population_adhesion"], errors="coerce")
    held = (population >= scenario.world.min_population).to_numpy()
    flipped = raw.copy()
    flipped.loc[held, "coordinator_name"] = np.where(
        raw.loc[held, "coordinator_name"].isin(["-", ""]), "Some province", "-"
    )
    flipped_path = tmp_path / "flipped.csv"
    flipped.to_csv(flipped_path, index=False)
    original, changed = _fit(scenario, COVENANT), _fit(scenario, flipped_path)
    # the fit is the same to the bit; only the score against the (flipped) field moves
    assert changed.fit.loglik == original.fit.loglik
    np.testing.assert_array_equal(changed.fit.values, original.fit.values)
    auc = original.validation.set_index("group")["auc"]
    flipped_auc = changed.validation.set_index("group")["auc"]
    assert flipped_auc["overall"] == pytest.approx(1 - auc["overall"], abs=1e-9)
    assert auc["overall"] > 0.6  # coordinators' territories do predict the held-out flag
    assert (original.adoptions["p_vertical"] > 0).any()
    assert any("coordinators as regional governments" in n for n in original.notes)

    # the structure rows do shape the world: without their coordinators, no territory
    blank = raw.copy()
    blank.loc[~held, "coordinator_name"] = "-"
    blank_path = tmp_path / "blank.csv"
    blank.to_csv(blank_path, index=False)
    none = _fit(scenario, blank_path)
    assert (none.adoptions["p_vertical"] == 0).all()
    assert none.fit.loglik != original.fit.loglik


def test_the_auc_is_the_share_of_pairs_ranked_right_ties_half():
    from diffusion_sim.studies.estimation.coordination import roc_auc_score

    # positives 0.9, 0.4; negatives 0.4, 0.1: pairs 1 + 1 + 0.5 (tie) + 1 of 4
    assert roc_auc_score([1, 1, 0, 0], [0.9, 0.4, 0.4, 0.1]) == 0.875
    assert roc_auc_score([1, 0], [0.1, 0.9]) == 0.0
