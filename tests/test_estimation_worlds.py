"""World uncertainty in estimate (Rubin's rules over world seeds) and the comparison with a
calibration's channel shares (warned when their intervals do not overlap)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import diffusion_sim as ds
from diffusion_sim.cli import main
from diffusion_sim.studies.estimation import (
    estimate,
    histories_from_result,
    histories_to_csv,
    prepare,
)
from diffusion_sim.studies.estimation.crosscheck import compare, read_calibration
from diffusion_sim.studies.estimation.worlds import estimate_worlds, rubin, world_seeds


def test_rubin_combination_equals_the_hand_computation():
    q = [0.10, 0.14, 0.12]
    u = [0.0004, 0.0009, 0.0005]
    c = rubin(q, u)
    # by hand: mean 0.12; W = (0.0004 + 0.0009 + 0.0005) / 3 = 0.0006
    # B = ((-0.02)^2 + 0.02^2 + 0) / 2 = 0.0004; T = 0.0006 + (4/3) 0.0004 = 0.00113333...
    # nu = 2 (1 + 0.0006 / 0.000533333)^2 = 2 x 2.125^2 = 9.03125
    assert c.mean == pytest.approx(0.12, abs=1e-15)
    assert c.within == pytest.approx(0.0006, rel=1e-12)
    assert c.between == pytest.approx(0.0004, rel=1e-12)
    assert c.total == pytest.approx(0.0006 + 4 / 3 * 0.0004, rel=1e-12)
    assert c.df == pytest.approx(9.03125, rel=1e-12)
    half = stats.t.ppf(0.975, 9.03125) * np.sqrt(0.0006 + 4 / 3 * 0.0004)
    assert (c.lower95, c.upper95) == pytest.approx((0.12 - half, 0.12 + half), rel=1e-12)
    same = rubin([0.2, 0.2], [0.01, 0.01])  # no spread between worlds: the normal interval
    assert same.df == np.inf and same.upper95 == pytest.approx(0.2 + 1.959964 * 0.1, rel=1e-6)


@pytest.fixture(scope="module")
def observed(tmp_path_factory):
    """A small run's adoptions as a city,date file (names are shared by every world seed)."""
    scenario = ds.load_scenario("embedded").with_overrides(
        {
            "world.n_cities": 400,
            "run.steps": 36,
            "mechanisms.horizontal.rule": "contagion",
            "mechanisms.horizontal.strength": 0.05,
            "mechanisms.innovation.rate": 0.01,
        }
    )
    result = ds.simulate(scenario, seed=4)
    setup = prepare(scenario, result).setup
    path = tmp_path_factory.mktemp("obs") / "adoptions.csv"
    histories_to_csv(histories_from_result(result), setup, "2000-01", "month").to_csv(
        path, index=False
    )
    return scenario, path


def test_fits_on_several_worlds_are_combined_and_say_which_seeds(observed):
    scenario, path = observed
    keys = ["innovation.rate", "horizontal.strength"]

    def fit_one(s):
        return estimate(s, path, keys, start="2000-01", unmatched="drop", draws=40)

    scenario = scenario.with_overrides({"world.seed": 11})
    seeds = world_seeds(scenario, 3)
    assert seeds == [11, 12, 13]
    combined = estimate_worlds(fit_one, scenario, seeds)
    table = combined.parameters().set_index("key")
    for key in table.index:
        row = table.loc[key]
        assert row.lower95 <= min(row.per_seed) and max(row.per_seed) <= row.upper95
        assert row.total_var >= row.within_var
    one = combined.fits[0].parameters().set_index("key")
    width = table["upper95"] - table["lower95"]
    assert (width >= one["upper95"] - one["lower95"] - 1e-12).all()  # never narrower
    assert "world seeds 11, 12, 13 (K = 3)" in combined.summary()
    assert "world seed 11 only" in combined.fits[0].summary()


def test_cli_world_seeds_default_and_refusal(observed, tmp_path, capsys):
    path = observed[1]
    sets = ["--set", "world.n_cities=400", "--set", "run.steps=36"]
    sets += ["--set", "mechanisms.horizontal.rule=contagion"]
    code = main(
        [
            "estimate",
            "embedded",
            "--data",
            str(path),
            "--start",
            "2000-01",
            "--params",
            "innovation.rate",
            "--draws",
            "0",
            "--world-seeds",
            "2",
            "--out",
            str(tmp_path),
            *sets,
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "(K = 2)" in out
    folder = next(tmp_path.glob("estimate-embedded-*"))
    manifest = json.loads((folder / "manifest.json").read_text())
    assert len(manifest["world_seeds"]) == 2 and len(manifest["per_seed"]) == 2
    assert (folder / "parameters_per_seed.csv").is_file()


def _shares(vertical: tuple[float, float, float]) -> pd.DataFrame:
    share, low, high = vertical
    return pd.DataFrame(
        {
            "kind": ["channel", "channel"],
            "name": ["innovation", "vertical"],
            "share": [0.3, share],
            "lower95": [0.2, low],
            "upper95": [0.4, high],
        }
    )


def test_the_calibration_comparison_warns_only_beyond_both_intervals(tmp_path):
    folder = tmp_path / "calibrate-x"
    folder.mkdir()
    manifest = {  # the keys calibrate writes (calibration/__init__.py)
        "channel_shares": {"innovation": 0.3, "vertical": 0.46},
        "posterior": {
            "channel_shares_90": {
                "innovation": {"median": 0.31, "low": 0.25, "high": 0.35},
                "vertical": {"median": 0.46, "low": 0.40, "high": 0.62},
            }
        },
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    calibration = read_calibration(folder)
    assert calibration["vertical"] == (0.46, 0.40, 0.62)
    lines, warnings = compare(_shares((0.61, 0.58, 0.63)), calibration)
    assert not warnings and any("vertical" in line for line in lines)  # overlap: silent
    lines, warnings = compare(_shares((0.70, 0.66, 0.74)), calibration)
    assert len(warnings) == 1 and "vertical share differs" in warnings[0]


def test_compare_calibration_refuses_a_folder_that_is_not_one(tmp_path, capsys):
    code = main(
        [
            "estimate",
            "embedded",
            "--data",
            "x.csv",
            "--compare-calibration",
            str(tmp_path),
            "--set",
            "mechanisms.horizontal.rule=contagion",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "--compare-calibration" in err and "Traceback" not in err
