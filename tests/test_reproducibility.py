"""Same seed, same numbers; other seed, other numbers; replicates from one SeedSequence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import diffusion_sim as ds
from tests.conftest import SHIPPED, small


def test_same_seed_gives_identical_results(embedded):
    a = ds.simulate(embedded, seed=21)
    b = ds.simulate(embedded, seed=21)
    pd.testing.assert_frame_equal(a.events, b.events)
    pd.testing.assert_frame_equal(a.timeseries, b.timeseries)


def test_other_seed_gives_other_results(embedded):
    a = ds.simulate(embedded, seed=21).events
    b = ds.simulate(embedded, seed=22).events
    assert not a.equals(b)


def test_replicates_share_the_world_and_differ_in_dynamics(embedded):
    ensemble = ds.simulate_ensemble(embedded, replicates=3, seed=5)
    populations = [r.cities["population"].tolist() for r in ensemble.results]
    assert populations[0] == populations[1] == populations[2]
    events = [r.events for r in ensemble.results]
    assert not events[0].equals(events[1])
    children = np.random.SeedSequence(5).spawn(3)
    for result, child in zip(ensemble.results, children, strict=True):
        assert result.manifest["seed"] == {"entropy": 5, "spawn_key": list(child.spawn_key)}
        again = ds.simulate(embedded, child)
        pd.testing.assert_frame_equal(again.events, result.events)


def test_ensemble_band_brackets_the_mean(embedded):
    band = ds.simulate_ensemble(embedded, replicates=6, seed=1).band
    assert (band["share_cities_p5"] <= band["share_cities_mean"] + 1e-12).all()
    assert (band["share_cities_mean"] <= band["share_cities_p95"] + 1e-12).all()
    assert len(band) == embedded.run.steps + 1


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_invariants_on_every_shipped_scenario(path):
    result = ds.simulate(small(ds.load_scenario(path)), seed=3)
    ts = result.timeseries
    share_columns = [c for c in ts if c.startswith("share_")]
    assert ((ts[share_columns] >= 0) & (ts[share_columns] <= 1)).all().all()
    new = ts[[c for c in ts if c.startswith("new_")]].sum(axis=1)
    drops = ts[[c for c in ts if c.startswith("drop_")]].sum(axis=1)
    assert (ts["adopters"].diff().iloc[1:] == (new - drops).iloc[1:]).all()
    assert ts["adopters"].iloc[-1] == result.cities["adopted"].sum()
    # The channels of the adopters at the end add up to the adopters.
    assert sum(result.summary()["adopters_by_channel"].values()) == ts["adopters"].iloc[-1]
    outcomes = result.outcomes()
    assert outcomes["share_cities"] == ts["share_cities"].iloc[-1]
