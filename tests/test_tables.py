"""The timeseries' adopters by channel: what the dashboard stacks and the CLI saves."""

from __future__ import annotations

import numpy as np
import pytest

import diffusion_sim as ds
from diffusion_sim.mechanisms.registry import ADOPTION_CHANNELS
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def dropping_run():
    """A horizontal run with abandonment: cities adopt, drop and adopt again."""
    scenario = ds.load_scenario(ROOT / "scenarios" / "horizontal.toml").with_overrides(
        {"world.n_cities": 1500, "run.steps": 60, "mechanisms.abandonment.enabled": True}
    )
    return ds.simulate(scenario, seed=5)


def test_adopters_by_channel_add_up_to_adopters_at_every_step(dropping_run):
    ts = dropping_run.timeseries
    stacked = ts[[f"adopters_{c}" for c in ADOPTION_CHANNELS]].sum(axis=1)
    assert (stacked == ts["adopters"]).all()
    assert (ts[[f"adopters_{c}" for c in ADOPTION_CHANNELS]] >= 0).all().all()
    drops = ts[[c for c in ts.columns if c.startswith("drop_")]].to_numpy().sum()
    assert drops > 0, "the run must drop adoptions for this test to mean anything"


def test_adopters_by_channel_follow_each_city_from_its_events(dropping_run):
    """Against the definition: at each step, each adopted city counted under the channel
    of its latest adoption, read city by city from the events table."""
    events, ts = dropping_run.events, dropping_run.timeseries
    for step in (0, 10, 30, 60):
        upto = events[events["step"] <= step]
        last = upto.groupby("city").tail(1)  # each city's latest change by then
        adopted = last[last["kind"] == "adopt"]
        counts = adopted["channel"].value_counts()
        for channel in ADOPTION_CHANNELS:
            assert ts.loc[step, f"adopters_{channel}"] == counts.get(channel, 0), (step, channel)


def test_the_last_step_equals_the_run_outcomes(dropping_run):
    last = dropping_run.timeseries.iloc[-1]
    outcomes = dropping_run.outcomes()
    for channel in ADOPTION_CHANNELS:
        assert last[f"adopters_{channel}"] == outcomes[f"adopters_{channel}"]
    assert np.isclose(last["share_cities"], outcomes["share_cities"])
