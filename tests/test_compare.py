"""compare: common random numbers, honest intervals, censored times, a table that fits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import diffusion_sim as ds
from diffusion_sim.record.outcomes import outcome_names
from diffusion_sim.record.statistics import bootstrap_interval
from diffusion_sim.studies.comparison import Comparison, compare, compare_modes
from diffusion_sim.studies.modes import MODES
from tests.conftest import SCENARIOS, small


@pytest.fixture(scope="module")
def base() -> ds.Scenario:
    # Mid-diffusion (about half the cities by step 5) so that replicates differ.
    return small(ds.load_scenario(SCENARIOS / "embedded.toml"), cities=200, steps=5)


def width(table: pd.DataFrame, label: str, outcome: str, lo="ci_low", hi="ci_high") -> float:
    row = table[(table["scenario"] == label) & (table["outcome"] == outcome)].iloc[0]
    return float(row[hi] - row[lo])


def test_bootstrap_interval_of_a_share_stays_within_0_and_1():
    rng = np.random.default_rng(0)
    values = np.array([0.0, 0.0, 0.0, 0.0, 0.5, np.nan])
    mean, low, high, n = bootstrap_interval(values, rng)
    assert (mean, n) == (0.1, 5)
    # A t-interval would be 0.1 -/+ 2.776 x 0.2236 / sqrt(5) = [-0.178, 0.378].
    assert 0.0 <= low < mean < high <= 0.5
    again = bootstrap_interval(values, np.random.default_rng(0))
    assert again == (mean, low, high, n)  # a fixed Generator: the same interval
    assert np.isnan(bootstrap_interval(np.array([0.3]), rng)[1])
    assert bootstrap_interval(np.array([0.2, 0.2, 0.2]), rng)[1:3] == (0.2, 0.2)


def test_a_scenario_compared_with_itself_differs_by_exactly_zero(base):
    comparison = compare([base, base], replicates=4, seed=3)
    assert comparison.labels == [base.name, f"{base.name}#2"]
    table = comparison.table
    second = table[table["scenario"] == comparison.labels[1]]
    finite = second["diff"].notna()
    assert finite.sum() > 20
    assert (second.loc[finite, "diff"] == 0).all()
    # An interval needs two paired replicates (NaN below two); then it is 0.
    paired = second["n_diff"] >= 2
    assert paired.sum() > 20
    assert (second.loc[paired, ["diff_low", "diff_high"]] == 0).all().all()
    assert second.loc[finite & ~paired, ["diff_low", "diff_high"]].isna().all().all()
    first = table[table["scenario"] == comparison.labels[0]].set_index("outcome")
    assert first.loc["share_cities", "ci_high"] > first.loc["share_cities", "ci_low"]


def test_intervals_shrink_with_more_replicates(base):
    # Bootstrap widths shrink like 1/sqrt(n): expected ratio about sqrt(3/20) x t(.975, 19) /
    # (t(.975, 2) x 1.22) = 0.15 (the expanded levels widen small samples most); the sample sd
    # varies, so the test allows up to 0.75.
    pair = {"base": base, "other": base.with_overrides({"mechanisms.vertical.top_down_rate": 0.2})}
    few = compare(pair, replicates=3, seed=5).table
    many = compare(pair, replicates=20, seed=5).table
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


def test_modes_put_kern_typology_on_one_world():
    base = small(ds.load_scenario(SCENARIOS / "embedded.toml"), cities=200, steps=40)
    comparison = compare_modes(base, replicates=3, seed=2)
    assert comparison.labels == ["horizontal", "vertical", "hierarchical", "embedded"]
    runs = comparison.runs.set_index("scenario")
    assert (runs.loc["horizontal", "adopters_vertical"] == 0).all()
    assert (runs.loc["vertical", "adopters_horizontal"] == 0).all()
    assert (runs.loc["hierarchical", "adopters_horizontal"] == 0).all()
    assert (runs.loc["embedded", "adopters_horizontal"] > 0).all()
    # Hierarchical mode: governments harmonize on their own (default government_rate > 0)
    # and their mandates bring cities in, although vertical pressure is off.
    assert base.mechanisms.hierarchical.government_rate > 0
    assert (runs.loc["hierarchical", "governments_region"] > 0).all()
    assert (runs.loc["hierarchical", "adopters_hierarchical"] > 0).all()
    text = comparison.format()
    for mode in MODES:
        assert f"{mode.name}: {mode.describe()}" in text.replace("\n    ", " ")


def test_share_intervals_stay_within_0_and_1():
    base = small(ds.load_scenario(SCENARIOS / "embedded.toml"), cities=200, steps=40)
    table = compare_modes(base, replicates=6, seed=4).table
    shares = table[table["outcome"].str.startswith("share_")].dropna(subset=["ci_low"])
    assert len(shares) > 20
    assert (shares["ci_low"] >= 0).all() and (shares["ci_high"] <= 1).all()
    assert (shares["ci_low"] <= shares["mean"]).all() and (
        shares["mean"] <= shares["ci_high"]
    ).all()


def fake_comparison(times: dict[str, list[float]], labels: list[str]) -> Comparison:
    """A Comparison over made-up outcomes: every outcome 0.5 but time_to_50pct (horizon 30)."""
    rows = []
    for label in labels:
        for i, t in enumerate(times[label]):
            rows.append({"scenario": label, "replicate": i, **dict.fromkeys(outcome_names(), 0.5)})
            rows[-1]["time_to_50pct"] = t
    horizons = dict.fromkeys(labels, 30)
    return Comparison(labels, pd.DataFrame(rows), pd.DataFrame(), 0, 4, horizons=horizons)


def test_times_are_kaplan_meier_medians_with_the_share_that_never_got_there():
    nan = float("nan")
    labels = ["a", "b", "c"]
    times = {"a": [10.0, 12, 14, 16], "b": [20.0, nan, nan, nan], "c": [nan] * 4}
    comparison = fake_comparison(times, labels)
    table = comparison.table.set_index(["scenario", "outcome"])
    a, b, c = (table.loc[(label, "time_to_50pct")] for label in labels)
    # a: no censoring; S falls to 1/2 at 12 (the median: the first time S <= 1/2).
    assert a["median"] == 12 and a["never"] == 0 and np.isnan(a["mean"])
    # b: S = 3/4 after 20, then three censored at 30: S never reaches 1/2, no median.
    assert np.isinf(b["median"]) and b["never"] == 0.75 and b["censored_at"] == 30
    assert np.isinf(c["median"]) and c["never"] == 1
    assert table.loc[("a", "share_cities"), "mean"] == 0.5
    text = comparison.format(["share_cities", "time_to_50pct"])
    assert "nan" not in text
    assert "12 [10,16]" in text and "> 30 (never 3/4)" in text and "> 30 (never 4/4)" in text
    assert "Kaplan-Meier median" in text
    assert table.loc[("b", "time_to_50pct"), "p"] < 0.05  # log-rank: b is slower than a


def test_the_table_fits_100_columns_with_long_names():
    labels = ["europe_embedded-hierarchical-with-a-long-name", "europe_embedded-vertical", "x", "y"]
    comparison = fake_comparison({k: [10.0, 11, 12, 13] for k in labels}, labels)
    comparison.legend = {labels[0]: "innovation+hierarchical on"}
    text = comparison.format()
    assert max(len(line) for line in text.splitlines()) <= 100
    assert f"A = {labels[0]}: innovation+hierarchical on" in text
    assert f"B = {labels[1]}" in text
    assert "ad_ = adopters_" in text  # abbreviated outcome names are explained


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
