"""Forecasts: calibrate on the data up to a date, project, score against Bass and logistic."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import diffusion_sim as ds
from diffusion_sim.studies.calibration.baselines import bass as bass_curve
from diffusion_sim.studies.calibration.forecast import forecast
from tests.conftest import SCENARIOS

SMALL = {
    "world.n_cities": 400,
    "world.seed": 8,
    "run.steps": 48,
    "mechanisms.innovation.rate": 0.002,
    "mechanisms.horizontal.rule": "contagion",
    "mechanisms.vertical.enabled": False,
    "mechanisms.hierarchical.enabled": False,
    "mechanisms.abandonment.enabled": False,
    "mechanisms.opposition_leaning": 0.4,  # a ceiling the training data have not reached
}
STRENGTH = "mechanisms.horizontal.strength"


def model_data(tmp_path, scenario, seed: int):
    """First adoptions of one run as the city,date file a user would bring."""
    run = ds.simulate(scenario, seed=seed)
    adopters = run.cities[run.cities["first_adoption_step"] >= 0]
    dates = pd.Period("2000-01", freq="M") + adopters["first_adoption_step"].to_numpy()
    csv = tmp_path / "model.csv"
    frame = {"city": adopters["name"], "date": [d.start_time.date() for d in dates]}
    pd.DataFrame(frame).to_csv(csv, index=False)
    return csv, run.timeseries["share_cities"].to_numpy()


@pytest.fixture(scope="module")
def scenario():
    return ds.load_scenario(SCENARIOS / "embedded.toml").with_overrides(SMALL)


def test_model_generated_data_the_model_forecasts_better_than_bass(tmp_path, scenario):
    """The data come from the model (strength 0.03); trained on 11 of 49 months, before the
    curve bends, the model (which knows the world and its ceiling) must beat a Bass curve
    fitted to the same months, and its 90% band must hold most held-out months."""
    csv, share = model_data(tmp_path, scenario.with_overrides({STRENGTH: 0.03}), seed=777)
    assert share[10] < 0.75 * share[-1]  # the training months stop well short of the ceiling
    result = forecast(
        scenario,
        csv,
        [STRENGTH],
        train_until="2000-11",
        start="2000-01",
        method="point",
        replicates=2,
        max_evaluations=10,
        draws=30,
    )
    scores = result.scores
    model, bass = scores[result.methods[0].name], scores["bass"]
    assert model.rmse < bass.rmse, result.summary()
    assert model.coverage >= 0.8, result.summary()
    assert result.n_train == 11 and len(result.observed) == 49
    assert result.calibration.values[STRENGTH] == pytest.approx(0.03, rel=0.25)
    text = result.summary()
    assert "beats the Bass curve" in text and "logistic" in text
    table = result.table()
    assert list(table["method"])[-2:] == ["bass", "logistic"]
    row = table.set_index("method").loc["bass"]
    held = result.observed[11:]
    # Bass is scored on its fitted curve (recomputed here from its parameters), not on
    # its bootstrap band's median; the band gives only the coverage.
    p, q, m = (result.methods[2].parameters[k] for k in ("p", "q", "m"))
    fitted = bass_curve(np.arange(49.0), p, q, m)[11:]
    assert row["rmse_cities"] == pytest.approx(np.sqrt(np.mean((fitted - held) ** 2)))
    assert row["end_error_cities"] == pytest.approx(fitted[-1] - held[-1])
    low, _, high = result.methods[2].band[:, 11:]
    assert row["coverage_90"] == pytest.approx(np.mean((low <= held) & (held <= high)))


def test_with_novelty_on_the_model_fits_its_decay_and_forecasts_better_than_bass(tmp_path):
    """Data from the model with novelty (tau 12 months) and no ceiling: the curve bends
    because every voluntary hazard fades, not because the pool empties. Trained on 11 of
    46 months, the fit of strength and tau recovers tau (within 35%) and the model's
    forecast beats a Bass curve fitted to the same months."""
    tau = "mechanisms.novelty.tau"
    base = ds.load_scenario(SCENARIOS / "embedded.toml").with_overrides(
        {**SMALL, "mechanisms.opposition_leaning": 0.0, "mechanisms.novelty.enabled": True}
    )
    csv, share = model_data(tmp_path, base.with_overrides({STRENGTH: 0.03, tau: 12.0}), 777)
    assert share[10] < 0.7 * share[-1] < 0.6  # far from done at the cut, and from every city
    result = forecast(
        base.with_overrides({tau: 60.0}),  # the fit starts far from the truth
        csv,
        [STRENGTH, tau],
        train_until="2000-11",
        start="2000-01",
        method="point",
        replicates=2,
        max_evaluations=60,
        draws=30,
    )
    model, bass = result.scores[result.methods[0].name], result.scores["bass"]
    assert result.calibration.values[tau] == pytest.approx(12.0, rel=0.35), result.summary()
    assert model.rmse < 0.5 * bass.rmse, result.summary()


def test_forecast_files_and_the_cli(tmp_path, scenario, capsys):
    from diffusion_sim.cli import main

    csv, _ = model_data(tmp_path, scenario.with_overrides({STRENGTH: 0.03}), seed=5)
    sets = [f"--set={k}={str(v).lower()}" for k, v in SMALL.items()]
    argv = ["forecast", "embedded", *sets, "--data", str(csv), "--train-until", "2001-06"]
    argv += ["--start", "2000-01", "--until", "2003-06", "--fit", STRENGTH, "--method"]
    argv += ["point", "--replicates", "1", "--max-evaluations", "4", "--draws", "10"]
    argv += ["--out", str(tmp_path / "res"), "--quiet"]
    assert main(argv) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "RMSE" in out and "bass" in out and "world seed 8 only" in out
    (folder,) = (tmp_path / "res").iterdir()
    names = {p.name for p in folder.iterdir()}
    assert {"forecast.csv", "forecast.parquet", "scores.csv", "forecast.png"} <= names
    assert {"manifest.json", "calibration"} <= names
    assert (folder / "calibration" / "fitted.toml").is_file()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["kind"] == "forecast" and manifest["until"] == "2003-06"
    assert manifest["world_seeds"] == [8]
    curves = pd.read_csv(folder / "forecast.csv")
    assert len(curves) == 42 and curves["training"].sum() == 18
    assert {"bass_low", "bass_median", "bass_high", "bass_point", "logistic_point"} <= set(curves)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--train-until", "1999-01"], "--train-until 1999-01: must lie"),
        (["--train-until", "2001-06", "--until", "2040-01"], "--until 2040-01: after"),
        (["--train-until", "soon"], "--train-until: not a date"),
    ],
)
def test_bad_dates_are_refused_with_exit_2(tmp_path, scenario, capsys, flags, message):
    from diffusion_sim.cli import main

    csv, _ = model_data(tmp_path, scenario, seed=5)
    argv = ["forecast", "horizontal", "--data", str(csv), "--fit", STRENGTH, "--start"]
    argv += ["2000-01", "--method", "point", "--out", str(tmp_path / "res"), *flags]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "res").exists() or not any((tmp_path / "res").iterdir())
