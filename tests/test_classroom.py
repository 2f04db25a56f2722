"""The classroom parts of the dashboard: inputs from the schema's own rules, the lesson,
downloads, links that reopen the same settings, and the folders it writes.

Plain Python (no browser): test_dashboard_browser.py drives the served page.
"""

from __future__ import annotations

import pytest

import diffusion_sim as ds
from diffusion_sim.app.learn import built_in_classroom
from diffusion_sim.app.params import parameter_specs
from diffusion_sim.scenario.keys import bounds, field_at

# ------------------------------------------------------------- inputs (issue 20)


@pytest.mark.parametrize("scenario", [ds.Scenario(), built_in_classroom()], ids=["default", "cls"])
def test_inputs_take_their_bounds_from_the_schema_keys(scenario):
    """Every numeric input's range is scenario/keys.bounds of the field its key names."""
    specs = [s for group in parameter_specs(scenario).values() for s in group]
    numeric = [s for s in specs if s["type"] == "InputText"]
    assert numeric
    for spec in numeric:
        field = field_at(ds.Scenario, spec["key"])
        assert {k: spec[k] for k in ("ge", "gt", "le", "lt") if k in spec} == bounds(field)
    networks = {s["key"].split(".")[1] for s in specs if s["key"].startswith("networks.")}
    assert networks == set(scenario.networks)


# ------------------------------------------------------------------ the lesson


@pytest.fixture(scope="module")
def demonstrations():
    """The demonstration on every world the Learn tab offers (state.LEARN_WORLDS)."""
    from diffusion_sim.app import state
    from diffusion_sim.app.learn import run_demonstration

    return {
        name: run_demonstration(state.base_scenario(name), world_name=name)
        for name in state.LEARN_WORLDS
    }


def test_the_learn_tab_opens_on_the_world_the_lesson_is_written_for(demonstrations):
    from diffusion_sim.app import state
    from diffusion_sim.app.learn import LESSON_WORLD

    assert state.LEARN_WORLDS[0] == LESSON_WORLD == state.learn_world.value
    lesson = demonstrations[LESSON_WORLD]
    assert lesson.not_shown == []  # every claim of the lesson holds there
    assert lesson.claims["holds"].all() and (lesson.claims["low"] > lesson.claims["margin"]).all()
    assert "all 4 of the lesson's claims" in lesson.verdict


def test_every_learn_world_says_which_claims_it_shows_with_the_numbers(demonstrations):
    """A world that does not show a claim says so plainly, the claim and its numbers on screen."""
    for name, demo in demonstrations.items():
        missing = demo.claims.loc[~demo.claims["holds"], "claim"].tolist()
        assert demo.not_shown == missing
        for claim in missing:
            assert claim in demo.verdict and "NOT shown" in demo.verdict, name
        for row, sentence in zip(demo.claims.itertuples(), demo.sentences, strict=True):
            assert f"{row.difference:+.2f}" in sentence and f"{row.low:+.2f}" in sentence
            assert sentence.startswith(f"Kern: {row.claim}. ")
            assert ("Shown here" in sentence) == row.holds
        cells = demo.reach_table().set_index("type")
        for mode, row in demo.ensemble.iterrows():  # means with their intervals
            low, high = row["share_laggards_low"], row["share_laggards_high"]
            assert cells.loc[mode, "laggards"] == (
                f"{row['share_laggards']:.0%} [{low:.0%}-{high:.0%}]"
            )


def test_the_demonstration_reports_each_run_as_progress():
    from diffusion_sim.app.learn import demonstration_runs, progress_text, run_demonstration

    done = []
    run_demonstration(built_in_classroom(), replicates=2, on_progress=done.append)
    assert done == list(range(1, demonstration_runs(2) + 1)) and done[-1] == 4 * 3
    assert progress_text(5, 2).startswith("running the demonstration: 5 of 12 runs done")


solara = pytest.importorskip("solara")


def test_the_learn_world_survives_opening_the_live_view():
    """Choose a world, open it in the live view, come back: the menu still shows it."""
    import ipyvuetify as v

    from diffusion_sim.app import state
    from diffusion_sim.app.learn_tab import LearnTab

    if "classroom" not in state.CATALOG:
        pytest.skip("scenarios/classroom.toml is not in the catalog")
    _, rc = solara.render(LearnTab(), handle_error=False)
    rc.find(v.Select).widget.v_model = "classroom"
    rc.find(v.Btn, children=["Open it in the live view"]).widget.click()
    assert state.scenario_key.value == "classroom" and state.tab.value == 0
    rc.close()
    _, again = solara.render(LearnTab(), handle_error=False)
    assert again.find(v.Select).widget.v_model == "classroom"
    state.learn_world.set(state.LEARN_WORLDS[0])


# ------------------------------------------------------- docs/teaching.md's figures


def _teaching_script():
    import importlib.util

    from tests.conftest import ROOT

    path = ROOT / "docs" / "make_teaching_figures.py"
    spec = importlib.util.spec_from_file_location("make_teaching_figures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_teaching_md_holds_the_figures_the_app_computes_now():
    """Every figure of the lesson is what the Learn tab computes (python docs/make_teaching_...)."""
    script = _teaching_script()
    text = script.TEACHING.read_text(encoding="utf-8")
    values = script.figures()
    assert script.fill(text, values) == text, "run python docs/make_teaching_figures.py"
    for name in ("world", "seeds", "hook", "table", "pioneers", "networks", "real"):
        assert f"<!-- fig:{name} -->{values[name]}<!-- /fig -->" in text
    assert "5 of 60" not in text and "about two thirds" not in text  # the figures issue 23 found


def test_the_lessons_what_ifs_name_inputs_the_parameters_tab_has():
    """'**Section** → label = value' in teaching.md: that section, that input, a value it takes."""
    import re

    from diffusion_sim.app.params import parse_input
    from tests.conftest import ROOT

    text = (ROOT / "docs" / "teaching.md").read_text(encoding="utf-8")
    found = re.findall(r"\*\*([^*]+)\*\* → ([^=\n]+?) = ([^\s;.()]+)", text)
    assert len(found) >= 4
    groups = parameter_specs(built_in_classroom())
    for section, label, value in found:
        assert section in groups, section
        spec = next((s for s in groups[section] if s["label"] == label), None)
        assert spec is not None, f"{section} has no input {label!r}"
        parse_input(spec, value)  # raises if the screen would refuse it


# ------------------------------------------------------------------ downloads


def _set_up_on_screen(key: str) -> None:
    """A session as a student leaves it: a world, one value changed, one switch off, a seed."""
    from diffusion_sim.app import state

    state.choose_scenario(key)
    assert state.page_error.value is None, state.page_error.value
    assert state.commit_parameter("mechanisms.horizontal.strength", 0.3) is None
    state.switch_mechanism("vertical", False)
    state.seed.set(12345)
    state.rebuild("test")


@pytest.mark.parametrize("key", ["classroom (built in)", "classroom"])
def test_the_scenario_download_reproduces_the_dashboards_run_with_the_cli(key, tmp_path):
    """The TOML of the settings on screen, run by ``diffusion-sim run``: the same tables."""
    import re

    import pandas as pd

    from diffusion_sim.app import state
    from diffusion_sim.app.downloads import scenario_toml
    from diffusion_sim.cli import main

    if key not in state.KEYS:
        pytest.skip(f"{key} is not in the catalog")
    _set_up_on_screen(key)
    run = state.live.value
    run.step(run.steps)
    text = scenario_toml(state.current_scenario(), state.seed.value, state.engine.value)
    command = re.search(r"# Reproduce the run: diffusion-sim (run .+)", text)[1].split()
    path = tmp_path / command[1]
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "results"
    assert main([*command[:1], str(path), *command[2:], "--out", str(out), "--quiet"]) == 0
    (folder,) = out.iterdir()
    saved = ds.Result.load(folder)
    shown = run.result()
    assert saved.manifest["engine"] == state.engine.value
    assert len(shown.events) > 0
    for name in ds.Result.TABLES:
        pd.testing.assert_frame_equal(getattr(saved, name), getattr(shown, name), obj=name)


def test_tables_and_charts_download_as_files_a_laptop_opens():
    import io
    import zipfile

    import pandas as pd

    from diffusion_sim.app.downloads import chart, table_csv, tables_zip

    run = ds.app.session.LiveRun(built_in_classroom().with_overrides({"run.steps": 12}), seed=4)
    run.step(12)
    result = run.result()
    cities = pd.read_csv(io.BytesIO(table_csv(result, "cities")))
    assert len(cities) == run.world.n_cities
    pd.testing.assert_series_equal(
        cities["adopted"].astype(bool), result.cities["adopted"].astype(bool)
    )
    with zipfile.ZipFile(io.BytesIO(tables_zip(result, "run"))) as archive:
        names = set(archive.namelist())
        assert names == {f"run/{t}.csv" for t in ds.Result.TABLES} | {"run/manifest.json"}
        series = pd.read_csv(archive.open("run/timeseries.csv"))
    assert series["adopters"].tolist() == result.timeseries["adopters"].tolist()
    assert chart(result, "png")[:8] == b"\x89PNG\r\n\x1a\n"
    svg = chart(result, "svg")
    assert b"<svg" in svg[:500] and b"</svg>" in svg[-100:]


# ------------------------------------------------------- a link to the same settings


def test_settings_survive_the_round_trip_through_the_url():
    """Settings -> query -> settings, and the page opened from it runs the same run."""
    from diffusion_sim.app import state
    from diffusion_sim.app.links import current_settings, read_query, settings_query

    _set_up_on_screen("classroom (built in)")
    assert state.commit_parameter("governments.nation", "hostile") is None
    assert state.commit_parameter("mechanisms.abandonment.enabled", True) is None
    before = current_settings(state)
    assert before.overrides and not before.switches["vertical"]
    query = settings_query(before)
    assert read_query("?" + query, state.KEYS, state.base_scenario) == before
    expected = state.live.value
    expected.step(expected.steps)
    state.choose_scenario(state.KEYS[0])  # the page somewhere else ...
    state.open_page("?" + query)  # ... then opened from the link
    assert current_settings(state) == before and state.page_error.value is None
    assert "opened from a link" in state.notice.value
    reopened = state.live.value
    reopened.step(reopened.steps)
    assert reopened.engine_name == expected.engine_name
    for name in ds.Result.TABLES:
        assert getattr(reopened.result(), name).equals(getattr(expected.result(), name)), name


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("scenario=../../etc/passwd", "is not one of"),
        ("scenario=classroom+(built+in)&seed=-1", "seed must be an integer"),
        ("scenario=classroom+(built+in)&engine=gpu", "engine 'gpu' is not one of"),
        ("scenario=classroom+(built+in)&on=horizontal,teleport", "switches on teleport"),
        ("scenario=classroom+(built+in)&set=mechanisms.horizontal.strength=7", "out of range"),
        ("scenario=classroom+(built+in)&set=run.seed=1", "not a parameter"),
        ("scenario=classroom+(built+in)&set=mechanisms.abandonment.enabled=yes", "true or false"),
        ("scenario=classroom+(built+in)&colour=red", "the link has colour"),
    ],
)
def test_a_bad_link_is_refused_with_a_message_naming_the_part(query, message):
    from diffusion_sim.app import state
    from diffusion_sim.app.links import read_query
    from diffusion_sim.errors import InputError

    with pytest.raises(InputError, match=message):
        read_query(query, state.KEYS, state.base_scenario)
    state.open_page("?" + query)  # the page opens anyway, and says what was wrong
    assert message.split("'")[0].split(" ")[0] in state.page_error.value
    assert state.live.value is not None


def test_a_page_without_settings_in_its_url_opens_as_before():
    from diffusion_sim.app import state
    from diffusion_sim.app.links import read_query

    assert read_query("", state.KEYS, state.base_scenario) is None
    assert (
        read_query("?kernelid=abc&solara-no-close-beacon", state.KEYS, state.base_scenario) is None
    )


def test_the_export_tab_offers_each_download_and_the_link():
    import ipyvuetify as v

    from diffusion_sim.app import state
    from diffusion_sim.app.export_tab import ExportTab
    from diffusion_sim.app.links import current_settings, settings_query

    _set_up_on_screen("classroom (built in)")
    _, rc = solara.render(ExportTab(state.live.value), handle_error=False)
    labels = {b.widget.children[-1] for b in rc.find(v.Btn)}
    for label in ("All tables (CSV, zip)", "Chart (PNG)", "Chart (SVG)", "Scenario (TOML)"):
        assert label in labels, labels
    link = settings_query(current_settings(state)).replace("&", "&amp;")
    assert any(
        f'href="?{link}"' in (w.unsafe_innerHTML or "")
        for w in rc.find(solara.widgets.HTML).widgets
    )


# ------------------------------------------------------- folders with the user's modes


@pytest.mark.parametrize(
    ("umask", "folder_mode", "file_mode"), [(0o022, 0o755, 0o644), (0o002, 0o775, 0o664)]
)
def test_save_to_results_makes_folders_and_files_with_the_users_umask(
    tmp_path, umask, folder_mode, file_mode
):
    """Every folder "Save to results/" creates is 0o777 less the umask, never drwx------."""
    import os
    import stat

    from diffusion_sim.app.session import LiveRun, export_run

    run = LiveRun(built_in_classroom().with_overrides({"run.steps": 5}), seed=2)
    run.step(5)
    root = tmp_path / "new" / "results"  # neither exists yet
    previous = os.umask(umask)
    try:
        folder = export_run(run, "lesson", root)
    finally:
        os.umask(previous)
    for made in (tmp_path / "new", root, folder):
        assert stat.S_IMODE(made.stat().st_mode) == folder_mode, made
    files = list(folder.iterdir())
    assert {p.name for p in files} >= {"manifest.json", "adoption.png", "cities.parquet"}
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == file_mode, path
    assert [p.name for p in root.iterdir()] == ["lesson"]  # no staging left beside it
