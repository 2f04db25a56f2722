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
        (
            "[[events]]\nstep = 2\nkind = 'earthquake'\n",
            "key 'events[0].kind' (line 3): unknown event kind 'earthquake'; allowed kinds: stance",
        ),
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
    from diffusion_sim.model.setup import build_setup

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


def test_lines_are_found_by_the_full_key_path():
    from diffusion_sim.scenario import line_of

    text = (
        "[[events]]\nstep = 1\nkind = 'summit'\n\n[[events]]\nstep = 2\n\n"
        "[run]\nseed = 1\nsteps = 5\n\n[[events]]\nstep = 3\n[[events]]\nstep = 4\n"
    )
    assert line_of(text, ("run", "steps")) == 10  # not the first event's 'step'
    assert line_of(text, ("run", "seed")) == 9
    assert line_of(text, ("events", 1, "step")) == 6
    assert line_of(text, ("events", 3, "step")) == 15  # inside the fourth [[events]]
    assert line_of(text, ("events", 3, "boost")) == 14  # a missing key: its block
    assert line_of("[world]\nbbox = [\n  1,\n  2,\n]\nseed = 3\n", "world.seed") == 6


def test_toml_integers_are_floats_where_floats_are_meant_but_nothing_else_coerces():
    scenario = ds.Scenario().with_overrides({"mechanisms.innovation.rate": 1})
    assert scenario.mechanisms.innovation.rate == 1.0
    for key, value in [
        ("run.steps", True),
        ("mechanisms.innovation.enabled", "yes"),
        ("mechanisms.innovation.enabled", 1),
        ("world.n_cities", "5000"),
        ("world.n_cities", 50.0),
        ("mechanisms.innovation.rate", float("nan")),
    ]:
        with pytest.raises(ds.InputError, match=key.replace(".", r"\.")):
            ds.Scenario().with_overrides({key: value})


def test_extends_reads_relative_toml_paths_only(tmp_path):
    (tmp_path / "bases").mkdir()
    (tmp_path / "bases" / "base.toml").write_text("[world]\nn_cities = 77\n")
    (tmp_path / "sub").mkdir()
    child = tmp_path / "sub" / "child.toml"
    child.write_text('extends = "../bases/base.toml"\n')
    assert ds.load_scenario(child).world.n_cities == 77
    child.write_text(f'extends = "{tmp_path / "bases" / "base.toml"}"\n')
    with pytest.raises(ds.InputError, match="not an absolute path"):
        ds.load_scenario(child)


def test_a_value_from_a_base_file_is_never_printed(tmp_path):
    (tmp_path / "base.toml").write_text('[world]\nn_cities = "SECRET"\n')
    (tmp_path / "child.toml").write_text('extends = "base.toml"\n')
    with pytest.raises(ds.InputError) as info:
        ds.load_scenario(tmp_path / "child.toml")
    assert "world.n_cities" in str(info.value) and "SECRET" not in str(info.value)


def test_a_typo_in_a_network_name_does_not_create_a_network():
    scenario = ds.load_scenario(SCENARIOS / "embedded.toml")
    with pytest.raises(ds.InputError, match="no network 'c4O'; did you mean 'c40'"):
        scenario.with_overrides({"networks.c4O.size": 10})
    added = scenario.with_overrides({"networks.new": {"rule": "open", "size": 3}})
    assert added.networks["new"].size == 3


def test_shortening_a_run_keeps_later_events_but_a_file_may_not_have_them(tmp_path):
    hierarchical = ds.load_scenario(SCENARIOS / "hierarchical.toml")
    assert hierarchical.with_overrides({"run.steps": 5}).run.steps == 5  # --steps 5
    path = tmp_path / "late.toml"
    path.write_text("[run]\nsteps = 5\n[[events]]\nstep = 6\nkind = 'summit'\nboost = 2\n")
    with pytest.raises(ds.InputError, match=r"events\[0\]\.step' \(line 4\).*never happen"):
        ds.load_scenario(path)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"2005-13"', "no such day or month"),
        ('"2005-02-30"', "no such day or month"),
        ('"Feb 2005"', 'must be a date written "YYYY-MM-DD" or "YYYY-MM"'),
        ("2005", 'must be a date written "YYYY-MM-DD" or "YYYY-MM"'),
    ],
)
def test_a_run_start_must_be_a_real_iso_date(tmp_path, value, expected):
    path = tmp_path / "dated.toml"
    path.write_text(f"[run]\nsteps = 5\nstart = {value}\n")
    with pytest.raises(ds.InputError) as info:
        ds.load_scenario(path)
    message = str(info.value)
    assert str(path) in message and "run.start" in message and "line 3" in message
    assert expected in message


def test_a_run_start_is_optional_and_needs_a_calendar_unit(tmp_path):
    assert ds.Scenario().run.start is None
    assert "start" not in ds.Scenario().to_dict()["run"]  # manifests stay as they were
    dated = ds.Scenario().with_overrides({"run.start": "2017-06"})
    assert dated.run.start == "2017-06" and dated.to_dict()["run"]["start"] == "2017-06"
    path = tmp_path / "toml_date.toml"
    path.write_text("[run]\nstart = 2005-02-16\n")  # a TOML date, taken as its ISO text
    assert ds.load_scenario(path).run.start == "2005-02-16"
    with pytest.raises(ds.InputError, match="step_unit to be one of day, week, month"):
        ds.Scenario().with_overrides({"run.start": "2017-06", "run.step_unit": "generation"})
