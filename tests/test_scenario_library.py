"""The scenario library: each issue-3 scenario ships, asks its question, cites a source, runs."""

from __future__ import annotations

import re

import numpy as np
import pytest

import diffusion_sim as ds
from tests.conftest import SCENARIOS, SHIPPED, small

LIBRARY = {
    "europe_horizontal": "Kern's four modes on real Europe",
    "europe_vertical": "",
    "europe_hierarchical": "",
    "europe_embedded": "",
    "eu_covenant": "EU climate governance",
    "us_paris_withdrawal": "2017 withdrawal",
    "us_kyoto_2005": "2005 Kyoto",
    "sanctuary_cities": "preemption and decoupling",
    "club_exclusive": "exclusive versus open",
    "club_open": "",
    "fragmented_networks": "fragmentation",
    "consolidated_networks": "",
    "mechelen_global": "Mechelen to the global level",
    "classroom": "classroom world",
    "covenant_fitted": "calibrated",
    "covenant_novelty": "novelty fades",
}
REAL = sorted(p for p in SHIPPED if ds.load_scenario(p).world.generator == "real")


def test_every_library_scenario_ships():
    assert set(LIBRARY) <= {p.stem for p in SHIPPED}


@pytest.mark.parametrize("name", sorted(LIBRARY))
def test_header_asks_names_mechanisms_and_rests_on_a_source(name):
    text = (SCENARIOS / f"{name}.toml").read_text()
    header = [line for line in text.splitlines() if line.startswith("#")]
    assert header[0].rstrip().endswith("?")
    body = "\n".join(header)
    assert "Mechanisms:" in body
    assert re.search(r"Rests on|Fitted|fitted", body)
    assert re.search(r"domain\.md|Kern|JRC|\d{4}", body)


@pytest.mark.parametrize("path", REAL, ids=lambda p: p.stem)
def test_real_world_scenarios_run_small(path):
    scenario = small(ds.load_scenario(path), cities=300, steps=24)
    result = ds.simulate(scenario, seed=1)
    outcomes = result.outcomes()
    assert 0 < outcomes["share_cities"] <= 1
    assert 2 <= result.cities.shape[0] <= 300


def test_scenarios_command_lists_the_questions(capsys):
    from diffusion_sim.cli import main

    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out
    for name in LIBRARY:
        line = next(line for line in out.splitlines() if line.startswith(name + " "))
        assert line.rstrip().endswith("?") and "invalid" not in line


def test_us_withdrawal_turns_the_nation_hostile_and_cities_leapfrog():
    scenario = small(ds.load_scenario(SCENARIOS / "us_paris_withdrawal.toml"), 600, 36)
    result = ds.simulate(scenario, seed=2)
    nation = result.governments.set_index("name").loc["United States"]
    assert nation["stance"] == "hostile" and not nation["adopted"]
    assert result.outcomes()["leapfrogging"] > 0
    ts = result.timeseries
    assert ts["adopters"].iloc[17] - ts["adopters"].iloc[16] >= 150  # the pledges within days


def test_mechelen_reaches_the_global_level_only_from_below():
    scenario = small(ds.load_scenario(SCENARIOS / "mechelen_global.toml"), 600, 36)
    adopted = []
    for seed in range(4):
        gov = ds.simulate(scenario, seed=seed).governments
        adopted.append(bool(gov.loc[gov["level"] == "global", "adopted"].iloc[0]))
    quiet = scenario.with_overrides({"mechanisms.vertical.enabled": False})
    gov = ds.simulate(quiet, seed=0).governments
    assert not gov.loc[gov["level"] == "global", "adopted"].iloc[0]
    assert any(adopted)


def test_europe_modes_follow_kern():
    """Embedded reaches furthest; horizontal alone reaches leaders more than laggards."""
    from diffusion_sim.studies.comparison import compare_modes

    base = small(ds.load_scenario(SCENARIOS / "europe_embedded.toml"), 1500, 60)
    table = compare_modes(base, replicates=2, seed=1).table.set_index(["scenario", "outcome"])
    share = {
        m: table.loc[(m, "share_cities"), "mean"]
        for m in ("horizontal", "vertical", "hierarchical", "embedded")
    }
    assert share["embedded"] >= max(share.values()) - 1e-12
    assert (
        table.loc[("horizontal", "share_leaders"), "mean"]
        > table.loc[("horizontal", "share_laggards"), "mean"]
    )
    assert np.isfinite(list(share.values())).all()
