"""Scenario files: parsing, overrides, and every kind of bad input."""

from __future__ import annotations

import pytest

import diffusion_sim as ds
from diffusion_sim.scenario import explain, parse_value
from tests.conftest import SCENARIOS, SHIPPED


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_shipped_scenarios_validate_and_open_with_their_question(path):
    scenario = ds.load_scenario(path)
    assert scenario.name == path.stem
    first = path.read_text().splitlines()[0]
    assert first.startswith("# ") and first.rstrip().endswith("?")


def test_extends_merges_the_base_file():
    horizontal = ds.load_scenario(SCENARIOS / "horizontal.toml")
    assert horizontal.world.n_cities == 5000
    assert not horizontal.mechanisms.vertical.enabled
    assert "c40" in horizontal.networks


def test_overrides_by_dotted_key_are_validated():
    scenario = ds.Scenario().with_overrides({"mechanisms.horizontal.rule": "contagion"})
    assert scenario.mechanisms.horizontal.rule == "contagion"
    with pytest.raises(ds.InputError, match=r"mechanisms\.horizontal\.strength"):
        scenario.with_overrides({"mechanisms.horizontal.strength": 3})
    with pytest.raises(ds.InputError, match="did you mean 'strength'"):
        scenario.with_overrides({"mechanisms.horizontal.strenght": 0.3})


def test_scenario_is_frozen():
    scenario = ds.Scenario()
    with pytest.raises(Exception, match="frozen"):
        scenario.run.steps = 5  # type: ignore[misc]


def test_parse_value_reads_toml_scalars():
    assert parse_value("0.3") == 0.3
    assert parse_value("true") is True
    assert parse_value('["nation"]') == ["nation"]
    assert parse_value("contagion") == "contagion"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[run\nsteps = 3", "not valid TOML"),
        ("[run]\nstepz = 3\n", "key 'run.stepz' (line 2): unknown key; did you mean 'steps'?"),
        ("[run]\nsteps = 'many'\n", "key 'run.steps' (line 2)"),
        ("[run]\nsteps = -1\n", "greater than or equal to 1"),
        ("[mechanisms.horizontal]\nrule = 'osmosis'\n", "'threshold' or 'contagion'"),
        ("[[events]]\nstep = 2\nkind = 'earthquake'\n", "events.0"),
        ("extends = 'nowhere.toml'\n", "no such file 'nowhere.toml'"),
    ],
)
def test_bad_files_give_one_clear_message(tmp_path, text, expected):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ds.InputError) as info:
        ds.load_scenario(path)
    message = str(info.value)
    assert str(path) in message
    assert expected in message


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(ds.InputError, match="no such scenario file"):
        ds.load_scenario(tmp_path / "absent.toml")


def test_unknown_names_in_events_are_reported_with_a_suggestion(tmp_path):
    from diffusion_sim.setup import build_setup

    scenario = ds.Scenario().with_overrides(
        {
            "world.n_cities": 100,
            "events": [{"step": 2, "kind": "government_adopts", "government": "Nation 01"}],
        }
    )
    with pytest.raises(ds.InputError, match=r"events\[0\].government.*did you mean 'Nation 1'"):
        import numpy as np

        build_setup(scenario, ds.build_world(scenario), np.random.default_rng(0))


def test_explain_documents_every_parameter():
    rows = explain()
    keys = {row["key"] for row in rows}
    assert {"mechanisms.horizontal.strength", "run.steps", "world.n_cities"} <= keys
    assert all(row["meaning"] for row in rows if not row["key"].startswith("events"))
    strength = next(r for r in rows if r["key"] == "mechanisms.horizontal.strength")
    assert strength["allowed"] == ">= 0, <= 1"
