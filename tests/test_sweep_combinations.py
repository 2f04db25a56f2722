"""``analyze`` of a grid: every combination's outcomes with intervals, printed and saved."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from diffusion_sim.cli import main
from diffusion_sim.record.survival import time_to_level
from diffusion_sim.studies.sweep.analyze import analyze
from diffusion_sim.studies.sweep.data import censored, horizon_of, load
from diffusion_sim.studies.sweep.runner import read_results, run_sweep
from diffusion_sim.studies.sweep.spec import sweep_from_dict
from tests.conftest import SCENARIOS

GRID = {
    "name": "grid_table",
    "scenario": str(SCENARIOS / "embedded.toml"),
    "seed": 8,
    "replicates": 4,
    "outcomes": ["share_cities", "share_laggards", "time_to_50pct", "adopters_hierarchical"],
    "constants": {"world.n_cities": 250, "run.steps": 14},
    "levers": [
        {"key": "mechanisms.hierarchical.enabled", "name": "mandates", "values": [True, False]},
        {"key": "mechanisms.horizontal.thresholds.mean", "name": "peer", "values": [0.1, 0.4]},
    ],
}


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    folder = tmp_path_factory.mktemp("grid") / "out"
    assert run_sweep(sweep_from_dict(GRID), folder, workers=1, progress=False).complete
    return folder


def test_each_combination_has_its_replicates_mean_interval_and_km_median(grid):
    analysis = analyze(grid)
    table = analysis.combinations
    results = read_results(grid)
    assert len(table) == 4 and set(table["runs"]) == {4}
    assert sorted(zip(table["mandates"], table["peer"], strict=True)) == [
        (False, 0.1),
        (False, 0.4),
        (True, 0.1),
        (True, 0.4),
    ]
    for row in table.itertuples():
        runs = results[results["point"] == row.point]
        assert (runs["mandates"] == row.mandates).all() and (runs["peer"] == row.peer).all()
        for name in ("share_cities", "share_laggards", "adopters_hierarchical"):
            assert getattr(row, name) == pytest.approx(runs[name].mean(), abs=1e-12)
            low, high = getattr(row, f"{name}_low"), getattr(row, f"{name}_high")
            assert runs[name].min() <= low <= getattr(row, name) <= high <= runs[name].max()
        # a time: the Kaplan-Meier median censored at the run's end, and who never got there
        km = time_to_level(runs["time_to_50pct"].to_numpy(), 14)
        assert (row.time_to_50pct, row.time_to_50pct_never) == (km.median, km.never)
        assert row.time_to_50pct_never == runs["time_to_50pct"].isna().mean()
    # the peer threshold decides whether half the cities get there in 14 steps
    assert (table.loc[table["peer"] == 0.4, "time_to_50pct_never"] > 0).all()
    assert (table.loc[table["peer"] == 0.1, "time_to_50pct_never"] == 0).all()
    # saved as CSV, numbers unchanged; the report has the table; the same table twice
    saved = pd.read_csv(grid / "combinations.csv")
    assert np.allclose(saved["share_cities_low"], table["share_cities_low"])
    assert "## Outcomes per combination" in (grid / "report.md").read_text(encoding="utf-8")
    pd.testing.assert_frame_equal(analyze(grid).combinations, table)


def test_analyze_prints_the_combinations_and_refuses_an_unknown_show(grid, capsys):
    assert main(["analyze", str(grid), "--show", "time_to_50pct"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    head = lines.index("outcomes per combination: mean [95% interval] over its replicates")
    assert lines[head + 1].split() == ["mandates", "peer", "runs", "time_to_50pct"]
    assert "never" in lines[head + 2] and len(lines[head + 2 : head + 6]) == 4
    assert main(["analyze", str(grid), "--show", "share_city"]) == 2
    assert "--show 'share_city': not an outcome this sweep recorded" in capsys.readouterr().err


def test_a_times_horizon_is_the_sweeps_window(grid):
    data = load(grid)
    assert horizon_of(data, 14) == 14
    data.plan["spec"]["at"] = 9
    assert horizon_of(data, 14) == 9
    never = data.ok["time_to_50pct"].isna()
    assert never.any() and (censored(data, data.ok)["time_to_50pct"][never] == 10).all()
