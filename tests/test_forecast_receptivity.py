"""Country receptivity in calibrate and forecast: read from the fit's rows, its exponent chosen
by where the adopters are.

- a round trip: data made by the model on a world with strong country contrasts choose
  an exponent above 0, whose best fit misplaces far fewer adopters than without;
- a forecast's receptivity reads no row after --train-until (rows rewritten after the
  cut leave the whole forecast bit for bit);
- the flag on a generic file is refused, naming it (by both commands with exit 2:
  tests/test_forecast_coordinators.py).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import diffusion_sim as ds
from diffusion_sim.errors import InputError
from diffusion_sim.simulation import build_world
from diffusion_sim.studies.calibration import read_adoptions
from diffusion_sim.studies.calibration.forecast import split_data
from diffusion_sim.studies.calibration.receptivity import adopters_by_country
from tests.conftest import ROOT

COVENANT = ROOT.parent / "shared" / "data" / "covenant_of_mayors_signatories_2024.csv"
needs_file = pytest.mark.skipif(
    not COVENANT.is_file(), reason="the JRC file is reference data outside the repository"
)
KEYS = ["mechanisms.innovation.rate", "mechanisms.horizontal.strength"]
FAST = dict(method="point", replicates=1, max_evaluations=6, world_seeds=1)


def _small_real(**overrides) -> ds.Scenario:
    """Four countries of the real world, 600 cities, innovation and contagion only."""
    return ds.load_scenario("eu_covenant").with_overrides(
        {
            "world.countries": ["IT", "ES", "BE", "PL"],
            "world.max_cities": 600,
            "world.seed": 4,
            "mechanisms.vertical.enabled": False,
            "mechanisms.hierarchical.enabled": False,
            "mechanisms.abandonment.enabled": False,
            "events": [],
            "run.steps": 83,
            **overrides,
        }
    )


def _jrc_file(path, world, steps: np.ndarray) -> None:
    """The adopters of one run as a JRC file (one row per city that adopted, by month)."""
    adopted = np.flatnonzero(steps >= 0)
    months = pd.Period("2008-01", freq="M") + steps[adopted]
    codes = np.asarray(world.meta["country_codes"])[world.country[adopted]]
    pd.DataFrame(
        {
            "organisation_name": np.asarray(world.city_names)[adopted],
            "date_of_adhesion": [f"{m.start_time:%Y-%m}-15" for m in months],
            "country_code": [c.lower() for c in codes],
            "population_adhesion": world.population[adopted],
        }
    ).to_csv(path, index=False)


def test_model_made_data_with_country_contrasts_choose_an_exponent_above_zero(tmp_path):
    scenario = _small_real(
        **{"mechanisms.innovation.rate": 0.02, "mechanisms.horizontal.strength": 0.002}
    )
    world = build_world(scenario)
    names = list(world.country_names)
    factor = {"Italy": 1.0, "Spain": 0.3, "Belgium": 0.08, "Poland": 0.02}
    truth = replace(
        world, receptivity=np.array([factor[names[c]] for c in world.country], dtype=float)
    )
    run = ds.simulate(scenario, seed=11, world=truth)
    data = tmp_path / "made.csv"
    _jrc_file(data, world, run.cities["first_adoption_step"].to_numpy())
    fit = ds.calibrate(scenario, data, KEYS, start="2008-01", receptivity=True, seed=3, **FAST)
    chosen = fit.manifest["receptivity"]
    exponent = chosen["exponent_by_world_seed"]["4"]
    assert exponent >= 0.5, chosen["note"]
    assert f"exponent {exponent:g}, chosen" in chosen["note"]
    assert f"world: {chosen['note']}" in fit.summary()
    # the note's table: at the chosen exponent far fewer adopters are in the wrong country
    misplaced = {
        float(k): float(v.split(" ")[0])
        for k, v in (
            part.split(": ", 1) for part in chosen["note"].split("best fit: ")[1].split(", ")
        )
    }
    assert misplaced[exponent] < 0.5 * misplaced[0.0]


def _late_rows_moved(tmp_path) -> object:
    """The JRC file with every row after 2014 in Italy, Spain or Belgium moved to Poland."""
    raw = pd.read_csv(COVENANT, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    late = (pd.to_datetime(raw["date_of_adhesion"], format="mixed") > "2014-12-31").to_numpy()
    late = late & raw["country_code"].str.lower().isin(["it", "es", "be"]).to_numpy()
    raw.loc[late, "country_code"] = "pl"
    path = tmp_path / "late.csv"
    raw.to_csv(path, index=False)
    return path


@needs_file
def test_a_forecast_with_receptivity_reads_no_row_after_train_until(tmp_path):
    scenario = ds.load_scenario("eu_covenant").with_overrides(
        {"world.countries": ["IT", "ES", "BE", "PL"], "world.max_cities": 600}
    )
    late = _late_rows_moved(tmp_path)
    world = build_world(scenario, seed=1)

    def adopters(path, cut):
        rows = read_adoptions(path)
        if cut:
            rows = split_data(rows, "month", cut, None, "2008-01")[0]
        return adopters_by_country(rows, scenario, world)

    pd.testing.assert_series_equal(adopters(COVENANT, "2014-12"), adopters(late, "2014-12"))
    assert adopters(late, None)["Poland"] > adopters(COVENANT, None)["Poland"]
    options = dict(train_until="2014-12", start="2008-01", draws=10, receptivity=True, **FAST)
    first = ds.forecast(scenario, COVENANT, ["mechanisms.innovation.rate"], **options)
    second = ds.forecast(scenario, late, ["mechanisms.innovation.rate"], **options)
    for a, b in zip(first.methods, second.methods, strict=True):
        np.testing.assert_array_equal(a.band, b.band)
    assert first.calibration.manifest["receptivity"] == second.calibration.manifest["receptivity"]


def test_receptivity_needs_the_jrc_file_on_a_real_world(tmp_path):
    data = tmp_path / "a.csv"
    data.write_text("city,date\nCity 1,2001-03-01\nCity 2,2002-05-01\n", encoding="utf-8")
    scenario = ds.load_scenario("embedded").with_overrides(
        {"world.n_cities": 200, "mechanisms.horizontal.rule": "contagion", "run.steps": 36}
    )
    with pytest.raises(InputError, match="--receptivity: needs the JRC"):
        ds.calibrate(scenario, data, ["mechanisms.innovation.rate"], receptivity=True, **FAST)
