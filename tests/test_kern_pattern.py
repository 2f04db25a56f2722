"""Kern's ladder holds as an ensemble result, with 95% intervals over 20 replicates.

Kern (2019): horizontal upscaling reaches mostly leaders, vertical adds
followers, hierarchical reaches the laggards, embedded reaches furthest. Each
claim (diffusion_sim.studies.modes.CLAIMS) is a paired difference between modes run on
common seeds; it holds when its 95% interval lies above its margin. The modes
are the single definition in diffusion_sim.studies.modes, so this tests what
``compare --modes``, the Learn tab and the tutorial show. benchmarks/kern_ladder.py
prints the same table for every world into docs/ODD.md.
"""

from __future__ import annotations

import pandas as pd
import pytest

import diffusion_sim as ds
from diffusion_sim.app.learn import built_in_classroom
from diffusion_sim.studies.modes import (
    CLAIMS,
    MODE_NAMES,
    ladder_runs,
    ladder_sentences,
    ladder_table,
)
from tests.conftest import SCENARIOS

REPLICATES = 20
VERTICAL = CLAIMS[2].text
"""Vertical reaches more followers: not shown on the 60-month classroom worlds (ODD §1.1)."""


def claims_on(scenario: ds.Scenario) -> pd.DataFrame:
    _, claims = ladder_table(ladder_runs(scenario, REPLICATES, seed=2019))
    return claims.set_index("claim")


@pytest.fixture(scope="module")
def synthetic() -> pd.DataFrame:
    return claims_on(ds.load_scenario(SCENARIOS / "embedded.toml"))


@pytest.fixture(scope="module")
def classroom() -> pd.DataFrame:
    return claims_on(built_in_classroom())


@pytest.mark.parametrize("claim", [c.text for c in CLAIMS])
def test_every_claim_holds_on_the_synthetic_world(synthetic, claim):
    row = synthetic.loc[claim]
    assert row["holds"] and row["low"] > row["margin"]


@pytest.mark.parametrize("claim", [c.text for c in CLAIMS if c.text != VERTICAL])
def test_claims_hold_on_the_built_in_classroom(classroom, claim):
    row = classroom.loc[claim]
    assert row["holds"] and row["low"] > row["margin"]


def test_vertical_adds_followers_on_average_on_the_classroom(classroom):
    """The direction holds; the interval reaches 0 on a 60-month, 60-city world (ODD §1.1)."""
    row = classroom.loc[VERTICAL]
    assert row["difference"] > 0
    assert row["low"] <= row["difference"] <= row["high"]


def test_the_sentences_say_what_the_numbers_show(classroom):
    claims = classroom.reset_index()
    for sentence, row in zip(ladder_sentences(claims), claims.itertuples(), strict=True):
        assert f"{row.difference:+.2f}" in sentence
        assert ("Shown here" in sentence) == bool(row.holds)
        assert ("Not shown here" in sentence) == (not row.holds)


def test_modes_are_the_four_of_kern():
    assert MODE_NAMES == ("horizontal", "vertical", "hierarchical", "embedded")
