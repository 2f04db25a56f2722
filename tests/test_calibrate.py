"""Calibration: reading adoption files, recovering known parameters, fitting the Covenant curve."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import diffusion_sim as ds
from diffusion_sim.simulation import build_world, iter_replicates
from diffusion_sim.studies.calibration import calibrate, fit_key, read_adoptions
from tests.conftest import ROOT, SCENARIOS

COVENANT = ROOT.parent / "shared" / "data" / "covenant_of_mayors_signatories_2024.csv"


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# ------------------------------------------------------------------ reading


def test_generic_file_is_read(tmp_path):
    data = read_adoptions(write(tmp_path / "a.csv", "City,Date\nA,2010-01-05\nB,2010-03-01\n"))
    assert data.format == "generic"
    assert list(data.table["city"]) == ["A", "B"]
    assert data.table["date"].iloc[1] == pd.Timestamp("2010-03-01")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("city,date\nA,2010-01-05\nB,\n", r"column 'date': 1 missing or unparseable.*line\(s\) 3"),
        ("city,date\nA,2010-01-05\nB,soon\n", r"on line\(s\) 3;"),
        ("town,when\nA,2010-01-05\n", "expected the columns 'city' and 'date'"),
        ("city,date\n", "no rows"),
    ],
)
def test_bad_data_files_name_what_and_where(tmp_path, text, message):
    with pytest.raises(ds.InputError, match=message) as info:
        read_adoptions(write(tmp_path / "bad.csv", text))
    assert "bad.csv" in str(info.value)


def test_fit_keys_must_be_numbers():
    scenario = ds.load_scenario(SCENARIOS / "embedded.toml")
    key = fit_key(scenario, "mechanisms.innovation.rate")
    assert (key.lower, key.upper, key.start, key.integer) == (0.0, 1.0, 0.002, False)
    assert fit_key(scenario, "networks.covenant.size").integer
    for bad, message in [
        ("mechanisms.horizontal.rule", "not a number"),
        ("mechanisms.horizontal.enabled", "not a number"),
        ("mechanisms.innovation.rat", "did you mean 'rate'"),
        ("mechanisms.horizontal", "section"),
        ("networks.nope.size", "no 'nope'"),
        ("world.n_cities", "change the world"),
    ]:
        with pytest.raises(ds.InputError, match=message):
            fit_key(scenario, bad)


def test_cli_bad_input_exits_2_without_traceback(tmp_path, capsys):
    from diffusion_sim.cli import main

    bad = write(tmp_path / "d.csv", "city,date\nA,31/31/2010\n")
    for argv, message in [
        (["--data", str(bad), "--fit", "mechanisms.innovation.rate"], "unparseable"),
        (
            ["--data", str(tmp_path / "none.csv"), "--fit", "mechanisms.innovation.rate"],
            "no such data file",
        ),
        (["--data", str(bad), "--fit", "run.step_unit"], "not a number"),
    ]:
        assert main(["calibrate", "horizontal", *argv]) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err


# ------------------------------------------------------------------ recovery

TRUE_STRENGTH = 0.01
TOLERANCE = 0.15  # relative: a 2,000-city curve has little noise; the fit sees 4 other seeds


def test_recovers_a_known_parameter_from_a_model_generated_curve(tmp_path):
    """Adoption dates generated with horizontal.strength = 0.01, fitted back from 0.003."""
    scenario = ds.load_scenario(SCENARIOS / "embedded.toml").with_overrides(
        {
            "world.n_cities": 2000,
            "run.steps": 48,
            "mechanisms.innovation.rate": 0.01,
            "mechanisms.horizontal.rule": "contagion",
            "mechanisms.vertical.enabled": False,
            "mechanisms.hierarchical.enabled": False,
            "mechanisms.abandonment.enabled": False,  # the data are first adoptions
        }
    )
    key = "mechanisms.horizontal.strength"
    truth = ds.simulate(scenario.with_overrides({key: TRUE_STRENGTH}), seed=12345)
    adopters = truth.cities[truth.cities["first_adoption_step"] >= 0]
    dates = pd.Period("2000-01", freq="M") + adopters["first_adoption_step"].to_numpy()
    csv = tmp_path / "model.csv"
    pd.DataFrame({"city": adopters["name"], "date": [d.start_time.date() for d in dates]}).to_csv(
        csv, index=False
    )
    fit = calibrate(
        scenario.with_overrides({key: 0.003}),
        csv,
        [key],
        method="point",
        replicates=4,
        seed=1,
        max_evaluations=20,
        start="2000-01",
    )
    assert fit.values[key] == pytest.approx(TRUE_STRENGTH, rel=TOLERANCE)
    assert fit.r2 > 0.98
    assert fit.observed.denominator == 2000
    assert sum(fit.channel_shares.values()) == pytest.approx(1.0)
    assert fit.channel_shares["horizontal"] > 0.5
    fit.save(tmp_path / "fit")
    assert (tmp_path / "fit" / "fit.png").is_file()
    # The fitted values, with the overrides the fit ran with, are a valid scenario.
    overrides = {"world.n_cities": 2000, "mechanisms.horizontal.rule": "contagion"}
    text = fit.scenario_toml(name="again", overrides=overrides)
    again = ds.parse_scenario(tomllib.loads(text))
    assert again.name == "again" and again.world.n_cities == 2000
    assert again.mechanisms.horizontal.rule == "contagion"
    assert again.mechanisms.horizontal.strength == pytest.approx(fit.values[key], rel=1e-5)


# ------------------------------------------------------------------ Covenant


@pytest.mark.skipif(
    not COVENANT.is_file(),
    reason=f"the JRC Covenant of Mayors file is not at {COVENANT} (reference data kept "
    "outside the repository; see ../shared/data/README.md)",
)
def test_fits_the_covenant_of_mayors_curve(capsys):
    data = read_adoptions(COVENANT)
    assert data.format == "jrc" and len(data.table) == 11973
    assert data.table["coordinated"].mean() == pytest.approx(0.61, abs=0.01)
    # The shipped fit, re-fitted on the 1,500 largest cities (a quick check of the
    # pipeline on the real file; the full fit is in docs/calibration.md).
    scenario = ds.load_scenario(SCENARIOS / "covenant_fitted.toml").with_overrides(
        {"world.max_cities": 1500}
    )
    fit = calibrate(
        scenario,
        data,
        ["mechanisms.innovation.rate"],
        method="point",
        replicates=2,
        max_evaluations=8,
        start="2008-01",
    )
    print(f"Covenant fit on the 1,500 largest cities: {fit.summary()}")
    assert len(fit.curve) == 192  # January 2008 to December 2023
    assert fit.observed.count[-1] == fit.observed.used
    assert fit.r2 > 0.9, fit.summary()
    assert 0 < fit.values["mechanisms.innovation.rate"] < 1
    # The coordinator column is a second target, fitted with the curve by default.
    assert fit.targets == ["curve", "coordinated share"] and fit.r2_coordinated is not None
    assert "observed_coordinated" in fit.curve


# ------------------------------------------------------------------ posterior (ABC-SMC)

SMALL = {
    "world.n_cities": 300,
    "world.seed": 8,  # the data's world is the fit's, as a real world would be
    "run.steps": 30,
    "mechanisms.innovation.rate": 0.005,
    "mechanisms.horizontal.rule": "contagion",
    "mechanisms.vertical.enabled": False,
    "mechanisms.hierarchical.enabled": False,
    "mechanisms.abandonment.enabled": False,
}


def model_curve(tmp_path: Path, scenario, seed: int) -> Path:
    """First adoptions of one run, as the city,date file a user would bring."""
    run = ds.simulate(scenario, seed=seed)
    adopters = run.cities[run.cities["first_adoption_step"] >= 0]
    dates = pd.Period("2000-01", freq="M") + adopters["first_adoption_step"].to_numpy()
    csv = tmp_path / "model.csv"
    pd.DataFrame({"city": adopters["name"], "date": [d.start_time.date() for d in dates]}).to_csv(
        csv, index=False
    )
    return csv


def test_posterior_contains_the_truth_and_flags_a_key_the_data_cannot_see(tmp_path):
    """Strength 0.02 generated the curve; abandonment is off, so its rate changes nothing."""
    scenario = ds.load_scenario(SCENARIOS / "embedded.toml").with_overrides(
        {**SMALL, "world.n_cities": 250, "run.steps": 24}
    )
    strength, idle = "mechanisms.horizontal.strength", "mechanisms.abandonment.rate"
    csv = model_curve(tmp_path, scenario.with_overrides({strength: 0.02}), seed=777)
    fit = calibrate(
        scenario,
        csv,
        [strength, idle],
        start="2000-01",
        seed=3,
        replicates=1,
        max_evaluations=8,
        priors=[f"{strength}=loguniform:0.001:0.2", f"{idle}=loguniform:0.0001:0.1"],
        population=24,
        generations=3,
        database=tmp_path / "abc.db",
    )
    interval = fit.intervals[strength]
    assert interval.low <= 0.02 <= interval.high, fit.summary()
    assert interval.high / interval.low < 10  # informative: far narrower than its prior
    assert any(f"{idle} is not identified" in w for w in fit.all_warnings), fit.summary()
    assert not any(f"{strength} is not identified" in w for w in fit.all_warnings)
    shares = fit.posterior_summary.channels
    assert shares["horizontal"].median > 0.5 and shares["vertical"].high == 0
    assert {"predictive_p5", "predictive_p50", "predictive_p95"} <= set(fit.curve)
    band = fit.curve[["predictive_p5", "predictive_p95"]].to_numpy()
    assert (band[:, 0] <= band[:, 1]).all()
    text = fit.summary()
    assert "90% credible interval" in text and "posterior correlation" in text
    folder = fit.save(tmp_path / "fit")
    assert {"posterior.csv", "abc.db", "fitted.toml", "fit.png"} <= {
        p.name for p in folder.iterdir()
    }
    assert len(pd.read_csv(folder / "posterior.csv")) == 24


def test_point_fit_warns_when_a_value_ends_at_a_bound(tmp_path):
    scenario = ds.load_scenario(SCENARIOS / "embedded.toml").with_overrides(
        {**SMALL, "world.n_cities": 200, "run.steps": 20}
    )
    key = "mechanisms.horizontal.strength"
    csv = model_curve(tmp_path, scenario.with_overrides({key: 0.05}), seed=5)
    fit = calibrate(
        scenario,
        csv,
        [key],
        method="point",
        start="2000-01",
        replicates=1,
        max_evaluations=6,
        priors=[f"{key}=loguniform:1e-5:1e-3"],  # far below what the curve needs
    )
    assert fit.values[key] == pytest.approx(1e-3, rel=0.05)
    assert any("ends at the prior's upper bound" in w for w in fit.all_warnings), fit.summary()
    assert "WARNING" in fit.summary()


def test_fitted_toml_reruns_the_same_world_and_curve(tmp_path, capsys):
    from diffusion_sim.cli import main

    overrides = {**SMALL, "world.n_cities": 200, "run.steps": 24}
    scenario = ds.load_scenario(SCENARIOS / "embedded.toml").with_overrides(overrides)
    key = "mechanisms.horizontal.strength"
    csv = model_curve(tmp_path, scenario.with_overrides({key: 0.03}), seed=11)
    fit = calibrate(
        scenario,
        csv,
        [key],
        method="point",
        start="2000-01",
        seed=4,
        replicates=2,
        max_evaluations=6,
        overrides=overrides,
    )
    folder = fit.save(tmp_path / "results" / "fit")
    text = (folder / "fitted.toml").read_text()
    assert "extends = " in text and "run.steps" not in text  # relative, under [run]
    again = ds.load_scenario(folder / "fitted.toml")
    assert again.world == scenario.world and again.run.seed == 4 and again.run.replicates == 2
    assert build_world(again).cities_frame().equals(build_world(scenario, seed=4).cities_frame())
    mean = np.mean(
        [r.timeseries["share_cities"].to_numpy() for r in iter_replicates(again)], axis=0
    )
    assert np.allclose(mean, fit.curve["model_mean"].to_numpy())
    assert main(["run", str(folder / "fitted.toml"), "--out", str(tmp_path / "runs")]) == 0
    assert "200 cities, 24 steps" in capsys.readouterr().out


def test_write_scenario_is_loadable_from_elsewhere_and_replaces_only_with_force(tmp_path, capsys):
    """The written file extends the original by a relative path wherever it goes, and an
    existing file is refused before any work unless --force."""
    from diffusion_sim.cli import main

    (tmp_path / "mine").mkdir()
    original = tmp_path / "mine" / "small.toml"
    original.write_text(
        'extends = "'
        + str(Path(os.path.relpath(SCENARIOS, original.parent)) / "embedded.toml")
        + '"\nname = "small"\n[world]\nn_cities = 150\nseed = 8\n[run]\nsteps = 18\n'
    )
    csv = model_curve(tmp_path, ds.load_scenario(original), seed=3)
    target = tmp_path / "elsewhere" / "fitted.toml"
    target.parent.mkdir()
    target.write_text("precious = 1\n")
    fit = ["calibrate", str(original), "--data", str(csv), "--start", "2000-01"]
    fit += ["--fit", "mechanisms.horizontal.strength", "--method", "point"]
    fit += ["--max-evaluations", "2", "--replicates", "1", "--out", str(tmp_path / "res")]
    assert main([*fit, "--write-scenario", str(target)]) == 2
    err = capsys.readouterr().err
    assert "--write-scenario" in err and "--force" in err, err
    assert target.read_text() == "precious = 1\n" and not (tmp_path / "res").exists()
    assert main([*fit, "--write-scenario", str(target), "--force", "--quiet"]) == 0
    text = target.read_text()
    assert 'extends = "../mine/small.toml"' in text, text
    assert ds.load_scenario(target).world.n_cities == 150
