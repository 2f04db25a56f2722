"""compare: common random numbers, intervals that shrink, zero difference with itself."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import diffusion_sim as ds
from diffusion_sim.comparison import compare, compare_modes, t_interval
from tests.conftest import SCENARIOS, small


@pytest.fixture(scope="module")
def base() -> ds.Scenario:
    # Mid-diffusion (20 steps) so that replicates differ.
    return small(ds.load_scenario(SCENARIOS / "embedded.toml"), cities=200, steps=15)


def width(table: pd.DataFrame, label: str, outcome: str, lo="ci_low", hi="ci_high") -> float:
    row = table[(table["scenario"] == label) & (table["outcome"] == outcome)].iloc[0]
    return float(row[hi] - row[lo])


def test_t_interval_matches_the_textbook_value():
    mean, _, high, n = t_interval(np.array([1.0, 2.0, 3.0, 4.0, np.nan]))
    assert (mean, n) == (2.5, 4)
    # t(0.975, 3) = 3.182446; sd = 1.290994; half-width = 3.182446 x 1.290994 / 2
    assert high - mean == pytest.approx(3.182446 * 1.290994 / 2, rel=1e-5)
    assert np.isnan(t_interval(np.array([1.0]))[1])


def test_a_scenario_compared_with_itself_differs_by_exactly_zero(base):
    comparison = compare([base, base], replicates=4, seed=3)
    assert comparison.labels == [base.name, f"{base.name}#2"]
    table = comparison.table
    second = table[table["scenario"] == comparison.labels[1]]
    finite = second["diff"].notna()
    assert finite.sum() > 20
    assert (second.loc[finite, "diff"] == 0).all()
    # An interval needs two paired replicates (t_interval: NaN below two); then it is 0.
    paired = second["n_diff"] >= 2
    assert paired.sum() > 20
    assert (second.loc[paired, ["diff_low", "diff_high"]] == 0).all().all()
    assert second.loc[finite & ~paired, ["diff_low", "diff_high"]].isna().all().all()
    first = table[table["scenario"] == comparison.labels[0]].set_index("outcome")
    assert first.loc["share_cities", "ci_high"] > first.loc["share_cities", "ci_low"]


def test_intervals_shrink_with_more_replicates(base):
    # Expected ratio of widths: (t(.975, 11) / 12**.5) / (t(.975, 2) / 3**.5) = 0.26; the sample
    # sd varies, so the test allows up to 0.75.
    pair = {"base": base, "other": base.with_overrides({"mechanisms.vertical.top_down_rate": 0.2})}
    few = compare(pair, replicates=3, seed=5).table
    many = compare(pair, replicates=12, seed=5).table
    for outcome in ("share_cities", "share_population"):
        assert width(many, "base", outcome) < 0.75 * width(few, "base", outcome)
        assert width(many, "other", outcome, "diff_low", "diff_high") < 0.75 * width(
            few, "other", outcome, "diff_low", "diff_high"
        )


def test_common_seeds_pair_replicates(base):
    other = base.with_overrides({"mechanisms.vertical.top_down_rate": 0.06})
    comparison = compare({"base": base, "other": other}, replicates=4, seed=9)
    ensemble = ds.simulate_ensemble(base, replicates=4, seed=9)
    ours = comparison.runs[comparison.runs["scenario"] == "base"]["share_cities"].to_numpy()
    np.testing.assert_array_equal(ours, [r.outcomes()["share_cities"] for r in ensemble.results])
    # Pairing removes the shared noise: the difference is tighter than either mean.
    table = comparison.table
    diff_width = width(table, "other", "share_cities", "diff_low", "diff_high")
    assert diff_width < width(table, "other", "share_cities")


def test_modes_put_kern_typology_on_one_world(base):
    comparison = compare_modes(base, replicates=3, seed=2)
    assert comparison.labels == ["horizontal", "vertical", "hierarchical", "embedded"]
    runs = comparison.runs.set_index("scenario")
    assert (runs.loc["horizontal", "adopters_vertical"] == 0).all()
    assert (runs.loc["vertical", "adopters_horizontal"] == 0).all()
    assert (runs.loc["hierarchical", "adopters_horizontal"] == 0).all()
    assert (runs.loc["embedded", "adopters_horizontal"] > 0).all()


def test_save_and_cli(tmp_path, base, capsys):
    comparison = compare([base, base], replicates=2, seed=1)
    folder = comparison.save(tmp_path / "cmp")
    for name in ("outcomes", "runs", "curves"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(folder / f"{name}.parquet"),
            pd.read_csv(folder / f"{name}.csv"),
            check_dtype=False,
            check_categorical=False,
        )
    assert (folder / "curves.png").stat().st_size > 10_000
    assert (folder / "manifest.json").is_file()

    from diffusion_sim.cli import main

    code = main(
        [
            "compare",
            "horizontal",
            "vertical",
            "--replicates",
            "2",
            "--steps",
            "5",
            "--set",
            "world.n_cities=200",
            "--out",
            str(tmp_path / "cli"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "share_cities" in out and "Δ" in out
    (made,) = (tmp_path / "cli").iterdir()
    table = pd.read_csv(made / "outcomes.csv")
    assert set(table["scenario"]) == {"horizontal", "vertical"}
    assert main(["compare", "horizontal", "vertical", "--modes"]) == 2
