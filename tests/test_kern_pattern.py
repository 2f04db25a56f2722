"""The shipped modes show Kern's pattern on their full 5,000-city world.

Kern (2019): horizontal upscaling reaches mostly leaders, vertical adds
followers, hierarchical reaches the laggards, embedded reaches furthest. The
shares are means over three seeds; the margins below are about four times the
spread seen between seeds.
"""

from __future__ import annotations

import numpy as np
import pytest

import diffusion_sim as ds
from tests.conftest import SCENARIOS

MODES = ("horizontal", "vertical", "hierarchical", "embedded")


@pytest.fixture(scope="module")
def reach() -> dict[str, dict[str, float]]:
    out = {}
    for mode in MODES:
        scenario = ds.load_scenario(SCENARIOS / f"{mode}.toml")
        runs = [ds.simulate(scenario, seed=seed).outcomes() for seed in (1, 2, 3)]
        out[mode] = {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}
    return out


def test_horizontal_reaches_mostly_leaders(reach):
    h = reach["horizontal"]
    assert h["share_leaders"] > h["share_followers"] + 0.15 > h["share_laggards"] + 0.15
    assert h["share_laggards"] < 0.2


def test_vertical_reaches_down_the_ladder_more_evenly(reach):
    def evenness(mode: str) -> float:
        return reach[mode]["share_followers"] / reach[mode]["share_leaders"]

    assert evenness("vertical") > evenness("horizontal") + 0.2
    assert reach["vertical"]["adopters_vertical"] > reach["vertical"]["adopters_innovation"]


def test_adding_vertical_to_horizontal_adds_followers():
    scenario = ds.load_scenario(SCENARIOS / "horizontal.toml")
    both = scenario.with_overrides({"mechanisms.vertical.enabled": True})
    alone = np.mean([ds.simulate(scenario, seed=s).outcomes()["share_followers"] for s in (1, 2)])
    added = np.mean([ds.simulate(both, seed=s).outcomes()["share_followers"] for s in (1, 2)])
    assert added > alone + 0.1


def test_hierarchical_reaches_laggards(reach):
    hier = reach["hierarchical"]
    assert hier["share_laggards"] > 0.6
    assert hier["share_laggards"] > reach["vertical"]["share_laggards"] + 0.2
    assert hier["share_laggards"] > reach["horizontal"]["share_laggards"] + 0.4


def test_embedded_reaches_furthest(reach):
    for mode in ("horizontal", "vertical", "hierarchical"):
        assert reach["embedded"]["share_cities"] > reach[mode]["share_cities"]
        assert reach["embedded"]["share_laggards"] >= reach[mode]["share_laggards"]
