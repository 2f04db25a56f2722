"""Fixes of issue 15 that had no test: the networks warning and the first progress ETA."""

from __future__ import annotations

import warnings

import pytest

import diffusion_sim as ds
from diffusion_sim.simulation import build_world

SMALL = {"world.n_cities": 200, "run.steps": 3}


def test_a_world_with_other_networks_than_the_scenario_says_so():
    """A world that brings its own networks keeps them, with a warning naming both sets."""
    scenario = ds.load_scenario("embedded").with_overrides(SMALL)
    world = build_world(scenario)  # c40, eurocities, covenant, associations
    other = scenario.with_overrides({"networks.c40.size": 10}).model_copy(
        update={"networks": {"pledge": scenario.networks["covenant"]}}
    )
    with pytest.warns(
        UserWarning,
        match=r"brings its own networks \(.*c40.*\); the scenario's "
        r"\(pledge\) are not used",
    ):
        result = ds.simulate(other, seed=1, world=world)
    assert result.manifest  # the run goes on, on the world's networks
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same networks, or none asked: no warning
        ds.simulate(scenario, seed=1, world=world)
        ds.simulate(scenario.model_copy(update={"networks": {}}), seed=1, world=world)


def test_the_first_eta_leaves_out_the_slow_first_step(monkeypatch):
    """The first step (set-up, compiling) is not timed with the rest: after a first step of
    100 s and two of 1 s, 7 steps of 1 s remain, not minutes."""
    import tqdm.std

    from diffusion_sim.cli.text import progress_bar

    clock = [0.0]
    monkeypatch.setattr(tqdm.std, "time", lambda: clock[0])
    progress = progress_bar(10, "run")
    clock[0] = 100.0
    progress.step()  # the first step ends at 100 s
    for _ in range(2):
        clock[0] += 1.0
        progress.step()
    bar = progress.bar
    shown = bar.format_meter(**bar.format_dict)
    progress.close()
    assert "3/10" in shown and "<00:07" in shown, shown
