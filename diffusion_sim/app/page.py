"""The dashboard page: state, controls and layout (served by ``diffusion-sim dashboard``).

State lives in Solara reactive variables, one set per browser tab (Solara
scopes module-level reactives to the connection). Following Mesa's SolaraViz
conventions, the run is rebuilt from its parameters (scenario, overrides,
mechanism switches, seed, engine) on reset, and Reset / Play / Step drive it;
unlike SolaraViz's generic controller, a change of any parameter resets the
run at once, so what is on screen always matches the inputs.

Only keys of the scenario catalog travel from the browser, never paths;
typed values are parsed as numbers or allowed words, never evaluated.
"""

from __future__ import annotations

import html
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import solara
import solara.lab

from diffusion_sim.app.components import (
    CityView,
    CurvesView,
    DemonstrationView,
    GovernmentsView,
    InspectorView,
    ParameterInput,
    StatusLine,
    md,
)
from diffusion_sim.app.learn import KERN_TYPES, built_in_classroom, run_demonstration
from diffusion_sim.app.params import apply_overrides, parameter_specs, parse_input, parse_seed
from diffusion_sim.app.session import (
    MECHANISMS,
    LiveRun,
    cached_world,
    default_engine,
    export_run,
    mechanism_switches,
    open_scenario,
    scenario_catalog,
    with_switches,
)
from diffusion_sim.app.views import COLOUR_MODES, NETWORK_VIEW_MAX_CITIES, compare_figure, png_of
from diffusion_sim.errors import InputError
from diffusion_sim.results import timestamp
from diffusion_sim.scenario import Scenario

log = logging.getLogger("diffusion_sim.dashboard")

START_ENV = "DIFFUSION_SIM_DASHBOARD_SCENARIO"
"""The scenario file named on the command line (set by ``diffusion-sim dashboard``)."""
RESULTS_ENV = "DIFFUSION_SIM_DASHBOARD_RESULTS"
"""Where exports go (default: ./results, as for ``diffusion-sim run``)."""
BUILT_IN_CLASSROOM = "classroom (built in)"
TABS = ("Run", "Parameters", "Governments", "Compare", "Learn", "Export")

CATALOG: dict[str, Path] = scenario_catalog(os.environ.get(START_ENV) or None)
KEYS: list[str] = [*CATALOG, BUILT_IN_CLASSROOM]


def _initial_key() -> str:
    if os.environ.get(START_ENV):
        return KEYS[0]
    return "embedded" if "embedded" in CATALOG else KEYS[0]


scenario_key = solara.reactive(_initial_key())
overrides: solara.Reactive[dict[str, Any]] = solara.reactive({})
switches: solara.Reactive[dict[str, bool]] = solara.reactive({})
seed = solara.reactive(0)
engine = solara.reactive("vectorized")
live: solara.Reactive[LiveRun | None] = solara.reactive(None)
version = solara.reactive(0)
playing = solara.reactive(False)
speed = solara.reactive(4)
view_kind = solara.reactive("map")
colour_by = solara.reactive("channel")
selected_city: solara.Reactive[int | None] = solara.reactive(None)
notice: solara.Reactive[str | None] = solara.reactive(None)
page_error: solara.Reactive[str | None] = solara.reactive(None)
demo = solara.reactive(None)
tab = solara.reactive(0)


def base_scenario(key: str) -> Scenario:
    """The scenario behind a catalog key (or the built-in classroom world)."""
    if key == BUILT_IN_CLASSROOM:
        return built_in_classroom()
    return open_scenario(key, CATALOG)


def guarded(action: Callable[..., Any]) -> Callable[..., Any]:
    """Run a browser action; bad input becomes a message on the page, never a traceback."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return action(*args, **kwargs)
        except InputError as exc:
            page_error.set(str(exc))
        except Exception as exc:  # keep the page alive; details go to the server log
            log.exception("dashboard action failed")
            page_error.set(f"something went wrong ({type(exc).__name__}): {exc}")
        return None

    return wrapper


def current_scenario(extra: dict[str, Any] | None = None) -> Scenario:
    """The scenario on screen: file, overrides, then mechanism switches (validated)."""
    scenario = apply_overrides(
        base_scenario(scenario_key.value), {**overrides.value, **(extra or {})}
    )
    return with_switches(scenario, switches.value) if switches.value else scenario


def rebuild(reason: str | None = None) -> None:
    """A new run from the current parameters, at step 0 (the world is reused from the cache)."""
    playing.set(False)
    run = LiveRun(current_scenario(), seed.value, engine=engine.value)
    live.set(run)
    selected_city.set(None)
    version.set(version.value + 1)
    page_error.set(None)
    notice.set(reason)


@guarded
def choose_scenario(key: str) -> None:
    if key not in KEYS:
        raise InputError(f"unknown scenario {key!r}")
    base = base_scenario(key)
    n_cities = cached_world(base, base.run.seed).n_cities  # real worlds: known once built
    scenario_key.set(key)
    overrides.set({})
    switches.set(mechanism_switches(base))
    seed.set(base.run.seed)
    engine.set(default_engine(n_cities))
    view_kind.set("map" if n_cities > NETWORK_VIEW_MAX_CITIES else "network")
    demo.set(None)
    rebuild(f"opened {key}: {n_cities:,} cities, {base.run.steps} {base.run.step_unit}s")


@guarded
def switch_mechanism(name: str, on: bool) -> None:
    switches.set({**switches.value, name: bool(on)})
    rebuild(f"run reset: {name} switched {'on' if on else 'off'}")


def commit_parameter(key: str, value: Any) -> str | None:
    """Apply a valid value and reset the run; return the scenario's objection otherwise."""
    proposed = {**overrides.value, key: value}
    try:
        apply_overrides(base_scenario(scenario_key.value), proposed)
    except InputError as exc:
        return str(exc).replace("invalid scenario:", "").strip()
    overrides.set(proposed)
    guarded(rebuild)(f"run reset: {key} = {value}")
    return None


@guarded
def step_run(count: int = 1) -> None:
    run = live.value
    if run is not None and run.step(count):
        version.set(version.value + 1)


@solara.component
def Controls():
    """Scenario picker, Kern's switches, seed, engine, and Reset / Play / Step with speed."""
    seed_text, set_seed_text = solara.use_state(str(seed.value))
    seed_error, set_seed_error = solara.use_state(None)
    run = live.value

    def on_seed(text: str) -> None:
        set_seed_text(text)
        try:
            value = parse_seed(text)
        except InputError as exc:
            set_seed_error(str(exc))
            return
        set_seed_error(None)
        seed.set(value)
        guarded(rebuild)(f"run reset: seed {value}")

    solara.use_effect(lambda: set_seed_text(str(seed.value)), [seed.value])

    def play_loop(cancel) -> None:
        while playing.value and not cancel.is_set():
            current = live.value
            if current is None or current.finished:
                playing.set(False)
                return
            started = time.perf_counter()
            step_run(1)
            delay = 1.0 / max(speed.value, 1) - (time.perf_counter() - started)
            if delay > 0:
                cancel.wait(delay)

    solara.use_thread(play_loop, dependencies=[playing.value, id(run)], intrusive_cancel=False)

    solara.Select(
        label="Scenario",
        value=scenario_key.value,
        values=KEYS,
        on_value=choose_scenario,
        classes=["ds-scenario"],
    )
    md("**Kern's mechanisms** (embedded = all on)")
    for name in MECHANISMS:
        solara.Switch(
            label=name,
            value=bool(switches.value.get(name, False)),
            on_value=lambda on, name=name: switch_mechanism(name, on),
            color="primary",
            classes=[f"ds-switch-{name}"],
        )
    solara.InputText(
        label="Seed",
        value=seed_text,
        on_value=on_seed,
        error=seed_error or False,
        message=seed_error or "a whole number ≥ 0; same seed, same run",
        classes=["ds-seed"],
    )
    solara.Select(
        label="Engine",
        value=engine.value,
        values=["vectorized", "agents"],
        classes=["ds-engine"],
        on_value=lambda value: (engine.set(value), guarded(rebuild)(f"run reset: engine {value}")),
    )
    finished = run is None or run.finished
    with solara.Row(gap="6px"):
        solara.Button("Reset", on_click=lambda: guarded(rebuild)("run reset"), color="primary")
        solara.Button(
            "Pause" if playing.value else "Play",
            on_click=lambda: playing.set(not playing.value),
            disabled=finished and not playing.value,
            color="primary",
        )
        solara.Button(
            "Step",
            on_click=lambda: step_run(1),
            disabled=finished or playing.value,
            color="primary",
        )
    solara.SliderInt("Speed (steps per second)", value=speed, min=1, max=20)
    md("**View**")
    if run is not None and run.world.n_cities <= NETWORK_VIEW_MAX_CITIES:
        solara.ToggleButtonsSingle(value=view_kind, values=["map", "network"])
    solara.Select(label="Colour by", value=colour_by, values=list(COLOUR_MODES))


@solara.component
def RunTab(run: LiveRun, snapshot):
    unit = run.scenario.run.step_unit
    details = None
    if selected_city.value is not None:
        details = run.inspect(selected_city.value)
    find_error, set_find_error = solara.use_state(None)

    def find(name: str) -> None:
        wanted = name.strip().lower()
        if not wanted:
            return
        names = [str(n).lower() for n in run.world.city_names]
        if wanted in names:
            selected_city.set(names.index(wanted))
            set_find_error(None)
        else:
            set_find_error(f"no city named {name.strip()[:40]!r}")

    with solara.Columns([3, 2]):
        with solara.Column():
            CityView(
                run,
                snapshot,
                kind=view_kind.value,
                colour_by=colour_by.value,
                on_city=selected_city.set,
            )
        with solara.Card("City inspector"):
            solara.InputText(
                "Find a city by name",
                on_value=find,
                error=find_error or False,
                message=find_error,
            )
            InspectorView(details)
    CurvesView(snapshot, unit)


@solara.component
def ParametersTab():
    """Every scenario parameter as an input, generated from the schema, grouped by section."""
    base = base_scenario(scenario_key.value)
    scenario = apply_overrides(base, overrides.value)
    md(
        "Change a value and press Enter: the run resets with it. Out-of-range or non-numeric "
        "values are refused with a message under the input. "
        f"Changed from the file: {html.escape(', '.join(overrides.value)) or 'nothing'}."
    )
    if overrides.value:
        solara.Button(
            "Back to the file's values",
            on_click=lambda: (overrides.set({}), guarded(rebuild)("run reset: file values")),
        )
    for title, specs in parameter_specs(scenario).items():
        with solara.Details(summary=title, expand=title.startswith("Horizontal: peer")):
            for spec in specs:
                ParameterInput(spec, spec["value"], commit_parameter).key(
                    f"{scenario_key.value}:{spec['key']}"
                )


@solara.lab.task
def compare_task(
    a: Scenario, b: Scenario, labels: tuple[str, str], replicates: int, seed_value: int
):
    from diffusion_sim.app.session import cached_world
    from diffusion_sim.simulation import simulate_ensemble

    bands = {}
    for label, scenario in zip(labels, (a, b), strict=True):
        world = cached_world(scenario, seed_value)
        ensemble = simulate_ensemble(scenario, replicates, seed_value, world=world)
        bands[label] = ensemble.band
    return png_of(compare_figure(bands))


@solara.component
def CompareTab():
    """Two settings side by side over replicates, with 5-95% bands."""
    on = switches.value
    options = [f"current, {m} {'off' if on.get(m) else 'on'}" for m in MECHANISMS]
    options += [f"scenario {k}" for k in KEYS if k != scenario_key.value]
    other, set_other = solara.use_state(options[0])
    replicates_text, set_replicates_text = solara.use_state("5")
    error, set_error = solara.use_state(None)
    spec = {"key": "replicates", "type": "InputText", "kind": "int", "ge": 1, "le": 50}
    spec["allowed"] = "a whole number ≥ 1 and ≤ 50"

    def start() -> None:
        try:
            if other not in options:
                raise InputError(f"choose B from the list, not {str(other)[:40]!r}")
            replicates = int(parse_input(spec, replicates_text))
            a = current_scenario()
            if other.startswith("current, "):
                name, state = other.removeprefix("current, ").split(" ")
                b = with_switches(a, {name: state == "on"})
            else:
                b = base_scenario(other.removeprefix("scenario "))
        except InputError as exc:
            set_error(str(exc))
            return
        set_error(None)
        compare_task(
            a, b, (f"A: {scenario_key.value} (current)", f"B: {other}"), replicates, seed.value
        )

    md(
        "**A** is the scenario as set now. Pick **B**, the number of replicates, and run both "
        "on the same world with the same seeds: the bands show what chance alone does, the gap "
        "between them what the setting does."
    )
    with solara.Row(gap="12px", style={"align-items": "center"}):
        solara.Select("B", value=other, values=options, on_value=set_other)
        solara.InputText(
            "Replicates",
            value=replicates_text,
            on_value=set_replicates_text,
            continuous_update=True,
            error=error or False,
            message=error or spec["allowed"],
        )
        solara.Button(
            "Run comparison", on_click=start, disabled=compare_task.pending, color="primary"
        )
    if compare_task.pending:
        solara.ProgressLinear(True)
        solara.Text("running replicates...")
    elif compare_task.error:
        solara.Error(f"comparison failed: {compare_task.exception}")
    elif compare_task.value is not None:
        from diffusion_sim.app.components import ClickableImage, data_url

        ClickableImage(
            src=data_url(compare_task.value),
            alt="comparison",
            css_class="ds-compare",
            clickable=False,
        )


@solara.component
def LearnTab():
    """Kern's four types explained, and the one-click demonstration on the classroom world."""
    md(
        "Kristine Kern (2019) describes four ways a local experiment spreads and rises to "
        "higher levels. The demonstration runs the **classroom world** four times with the "
        "same seed, switching only the mechanism, and marks each city as a **leader** "
        "(triangle), **follower** (circle) or **laggard** (square): see how far down the "
        "ladder each type reaches."
    )
    with solara.Row(style={"flex-wrap": "wrap", "gap": "8px"}):
        for info in KERN_TYPES.values():
            with solara.Card(info["title"], style={"width": "320px"}):
                md(info["text"])

    worlds = (["classroom"] if "classroom" in CATALOG else []) + [BUILT_IN_CLASSROOM]
    world_key, set_world_key = solara.use_state(worlds[0])

    @guarded
    def show() -> None:
        demo.set(run_demonstration(base_scenario(world_key)))

    @guarded
    def open_classroom() -> None:
        choose_scenario(world_key)

    with solara.Row(gap="8px", style={"align-items": "center"}):
        solara.Select("Classroom world", value=world_key, values=worlds, on_value=set_world_key)
        solara.Button("Show the demonstration", on_click=show, color="primary")
        solara.Button("Open it in the live view", on_click=open_classroom)
    if demo.value is not None:
        DemonstrationView(demo.value)


@solara.component
def ExportTab(run: LiveRun):
    """Save the run so far to results/ in the format of ``diffusion-sim run``."""
    name, set_name = solara.use_state(f"{run.scenario.name}-dashboard-{timestamp()}")
    message, set_message = solara.use_state(None)
    error, set_error = solara.use_state(None)
    root = Path(os.environ.get(RESULTS_ENV) or "results")

    def save() -> None:
        try:
            folder = export_run(run, name, root)
        except InputError as exc:
            set_error(str(exc))
            set_message(None)
            return
        set_error(None)
        set_message(f"saved {run.step_count} steps to {folder.name}/ under {root}/")

    md(
        "Saves the run as it stands (tables as Parquet, adoption.png, manifest.json) into a "
        "folder under results/. The name may use letters, digits, '.', '_' and '-'; anything "
        "else is replaced."
    )
    solara.InputText("Run name", value=name, on_value=set_name, continuous_update=True)
    solara.Button("Save to results/", on_click=save, color="primary")
    if message:
        solara.Success(message, classes=["ds-export-ok"])
    if error:
        solara.Error(error)


@solara.component
def Page():
    solara.Title("diffusion_sim dashboard")
    solara.use_effect(
        lambda: choose_scenario(scenario_key.value) if live.value is None else None, []
    )
    run = live.value
    snapshot = solara.use_memo(
        lambda: run.snapshot() if run is not None else None, [id(run), version.value]
    )
    with solara.Sidebar():
        Controls()
    with solara.Column(style={"padding": "8px"}):
        if page_error.value:
            solara.Error(page_error.value, classes=["ds-error"])
        if notice.value:
            solara.Info(notice.value, dense=True, classes=["ds-notice"])
        if run is None:
            solara.Text("building the world...")
            return
        StatusLine(snapshot, run.scenario.run.step_unit)
        # Tab headers only: with Vuetify 3, solara.lab.Tabs puts tab content inside the
        # scrolling header row, so the selected view is rendered below it instead.
        with solara.lab.Tabs(value=tab):
            for title in TABS:
                solara.lab.Tab(title)
        with solara.Column():
            selected = TABS[tab.value]
            if selected == "Run":
                RunTab(run, snapshot)
            elif selected == "Parameters":
                ParametersTab()
            elif selected == "Governments":
                GovernmentsView(snapshot)
            elif selected == "Compare":
                CompareTab()
            elif selected == "Learn":
                LearnTab()
            else:
                ExportTab(run)
