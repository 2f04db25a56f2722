"""The dashboard page: controls beside the tabs (served by ``diffusion-sim dashboard``).

The state and its actions are in :mod:`diffusion_sim.app.state`, the tabs in
:mod:`diffusion_sim.app.tabs`. The page replaces Solara's default app layout
(:func:`Layout`): the controls are a column that is always on screen, beside
the map and the curves, from a 1024 x 768 classroom projector up (no drawer,
no app bar eating the height); its CSS is ``dashboard.css`` beside this file.
"""

from __future__ import annotations

from pathlib import Path

import solara
import solara.lab

from diffusion_sim.app import layout, state
from diffusion_sim.app.components import GovernmentsView, StatusLine
from diffusion_sim.app.export_tab import ExportTab
from diffusion_sim.app.learn_tab import LearnTab
from diffusion_sim.app.params import parse_seed
from diffusion_sim.app.play import Pacer, every_step_requested
from diffusion_sim.app.session import MECHANISMS
from diffusion_sim.app.tabs import CompareTab, ParametersTab, RunTab
from diffusion_sim.app.views import COLOUR_MODES, NETWORK_VIEW_MAX_CITIES
from diffusion_sim.app.widgets import PageFixes, SpeedSlider
from diffusion_sim.errors import InputError

CSS = Path(__file__).with_name("dashboard.css")

# Kept importable from here for callers that predate state.py.
TABS, KEYS, CATALOG = state.TABS, state.KEYS, state.CATALOG
play_pacer: solara.Reactive[Pacer | None] = solara.reactive(None)
"""The clock of the play in progress (its note is shown under the status line)."""


@solara.component
def Layout(children: list | None = None):
    """Solara's app layout replaced by a plain container: the page lays itself out."""
    solara.Column(children=children or [], gap="0px", style={"padding": "0"})


@solara.component
def Controls():
    """Scenario picker, Reset / Play / Step with speed, Kern's switches, seed, engine, view."""
    seed_text, set_seed_text = solara.use_state(str(state.seed.value))
    seed_error, set_seed_error = solara.use_state(None)
    run = state.live.value

    def on_seed(text: str) -> None:
        set_seed_text(text)
        try:
            value = parse_seed(text)
        except InputError as exc:
            set_seed_error(str(exc))
            return
        set_seed_error(None)
        state.seed.set(value)
        state.guarded(state.rebuild)(f"run reset: seed {value}")

    solara.use_effect(lambda: set_seed_text(str(state.seed.value)), [state.seed.value])

    def play_loop(cancel) -> None:
        """Steps on the clock; before each picture every step that is due (see play.py)."""
        skip = not every_step_requested()
        pacer = Pacer(state.speed.value, skip=skip)
        play_pacer.set(pacer)
        while state.playing.value and not cancel.is_set():
            current = state.live.value
            if current is None or current.finished:
                state.playing.set(False)
                return
            if pacer.speed != state.speed.value:  # the slider moved: a new clock
                pacer = Pacer(state.speed.value, skip=skip)
                play_pacer.set(pacer)
            count = pacer.due()
            if count == 0:
                cancel.wait(pacer.wait())
                continue
            with current.lock:  # a pause waits for this step; none starts after it
                if current.pause_requested or not state.playing.value:
                    return
                pacer.took(min(count, current.steps - current.step_count))
                state.step_run(count)  # draws once, with the note of the rates so far

    def toggle_play() -> None:
        """Play, or pause once the step in flight (if any) has landed: no step after Pause."""
        current = state.live.value
        if state.playing.value and current is not None:
            with current.lock:  # held by a step in flight: wait for it to land
                current.pause_requested = True
            state.playing.set(False)  # re-render outside the lock
        else:
            if current is not None:
                current.pause_requested = False
            play_pacer.set(None)  # no rates of an earlier play on screen
            state.playing.set(not state.playing.value)

    solara.use_thread(
        play_loop, dependencies=[state.playing.value, id(run)], intrusive_cancel=False
    )

    solara.HTML(tag="h1", unsafe_innerHTML="diffusion_sim", classes=["ds-title"])
    solara.Button(
        "Close controls",
        icon_name="mdi-close",
        on_click=lambda: layout.drawer_open.set(False),
        text=True,
        classes=["ds-drawer-close"],
    )
    solara.Switch(
        label="Presenter mode (large text)",
        value=layout.presenter,
        color="primary",
        classes=["ds-presenter-switch", "ds-switch"],
    )
    solara.Select(
        label="Scenario",
        value=state.scenario_key.value,
        values=state.KEYS,
        on_value=state.choose_scenario,
        dense=True,
        classes=["ds-scenario"],
    )
    finished = run is None or run.finished
    with solara.Row(gap="6px", classes=["ds-run-buttons"]):
        solara.Button(
            "Reset",
            icon_name="mdi-restart",
            on_click=lambda: state.guarded(state.rebuild)("run reset"),
            color="primary",
            outlined=True,
        )
        solara.Button(
            "Pause" if state.playing.value else "Play",
            icon_name="mdi-pause" if state.playing.value else "mdi-play",
            on_click=toggle_play,
            disabled=finished and not state.playing.value,
            color="primary",
        )
        solara.Button(
            "Step",
            icon_name="mdi-step-forward",
            on_click=lambda: state.step_run(1),
            disabled=finished or state.playing.value,
            color="primary",
            classes=["ds-step-button"],
        )
    SpeedSlider(
        value=state.speed.value, min=1, max=20, event_changed=lambda v: state.speed.set(int(v))
    )
    solara.HTML(tag="h2", unsafe_innerHTML="Kern's mechanisms", classes=["ds-h2"])
    solara.Text("embedded = all three on", classes=["ds-muted", "ds-small"])
    for name in MECHANISMS:
        solara.Switch(
            label=name,
            value=bool(state.switches.value.get(name, False)),
            on_value=lambda on, name=name: state.switch_mechanism(name, on),
            color="primary",
            classes=[f"ds-switch-{name}", "ds-switch"],
        )
    solara.InputText(
        label="Seed",
        value=seed_text,
        on_value=on_seed,
        error=seed_error or False,
        message=seed_error or "a whole number 0..2**63-1; same seed, same run",
        classes=["ds-seed"],
    )
    solara.Select(
        label="Engine",
        value=state.engine.value,
        values=["vectorized", "agents"],
        dense=True,
        classes=["ds-engine"],
        on_value=lambda value: (
            state.engine.set(value),
            state.guarded(state.rebuild)(f"run reset: engine {value}"),
        ),
    )
    solara.HTML(tag="h2", unsafe_innerHTML="View", classes=["ds-h2"])
    if run is not None and run.world.n_cities <= NETWORK_VIEW_MAX_CITIES:
        solara.ToggleButtonsSingle(value=state.view_kind, values=["map", "network"], dense=True)
    solara.Select(
        label="Colour by",
        value=state.colour_by,
        values=list(COLOUR_MODES),
        dense=True,
        classes=["ds-colour"],
    )


@solara.component
def DrawerButton():
    """On a phone the controls are a drawer: this button, always in view, opens and closes it."""
    is_open = layout.drawer_open.value
    with solara.Div(classes=["ds-drawer-bar"]):
        solara.Button(
            "Close controls" if is_open else "Controls",
            icon_name="mdi-close" if is_open else "mdi-menu",
            on_click=lambda: layout.drawer_open.set(not is_open),
            color="primary",
            classes=["ds-drawer-button"],
            attributes={"aria-expanded": str(is_open).lower(), "aria-controls": "ds-controls"},
        )
        solara.HTML(tag="h1", unsafe_innerHTML="diffusion_sim", classes=["ds-drawer-title"])


@solara.component
def Page():
    """Controls on the left, always visible; the status line, tabs and the selected tab."""
    solara.Title("diffusion_sim dashboard")
    solara.Style(CSS)
    PageFixes(
        drawer_open=layout.drawer_open.value,
        event_close_drawer=lambda _: layout.drawer_open.set(False),
    )
    search = solara.use_router().search  # a link's settings (state.open_page, links.py)
    solara.use_effect(lambda: state.open_page(search) if state.live.value is None else None, [])
    run = state.live.value
    snapshot = solara.use_memo(
        lambda: run.snapshot() if run is not None else None, [id(run), state.version.value]
    )
    app_classes = ["ds-app"]
    app_classes += ["ds-presenter"] if layout.presenter.value else []
    app_classes += ["ds-drawer-open"] if layout.drawer_open.value else []
    with solara.Div(classes=app_classes):
        with solara.v.Html(
            tag="aside",
            class_="ds-controls",
            attributes={"id": "ds-controls", "aria-label": "Controls"},
        ):
            Controls()
        with solara.v.Html(tag="main", class_="ds-main"):
            DrawerButton()
            if state.page_error.value:
                solara.Error(state.page_error.value, classes=["ds-error"])
            if state.notice.value:
                solara.Info(state.notice.value, dense=True, classes=["ds-notice"])
            if run is None:
                solara.Text("building the world...")
                return
            StatusLine(snapshot, run.scenario.run.step_unit)
            if state.playing.value and play_pacer.value is not None:
                solara.Text(play_pacer.value.note(), classes=["ds-play-note", "ds-muted"])
            # Tab headers only: with Vuetify 3, solara.lab.Tabs puts tab content inside the
            # scrolling header row, so the selected view is rendered below it instead.
            with solara.lab.Tabs(value=state.tab):
                for title in state.TABS:
                    solara.lab.Tab(title)
            selected = state.TABS[state.tab.value]
            with solara.Div(classes=["ds-tab", f"ds-tab-{selected.lower()}"]):
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
