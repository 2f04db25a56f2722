"""The dashboard's tabs: Run, Parameters and Compare (Governments is a view; Learn is in
learn_tab.py, Export in export_tab.py).

Each tab reads and changes the state in :mod:`diffusion_sim.app.state`; the
page (:mod:`diffusion_sim.app.page`) puts the selected one under the tab bar.
"""

from __future__ import annotations

import html

import solara
import solara.lab

from diffusion_sim.app import layout, state
from diffusion_sim.app.components import (
    CityView,
    ClickableImage,
    CurvesView,
    InspectorView,
    ParameterInput,
    data_url,
    md,
)
from diffusion_sim.app.figures import compare_figure
from diffusion_sim.app.layout import Look, smallest_text_px
from diffusion_sim.app.params import apply_overrides, parameter_specs, parse_input
from diffusion_sim.app.session import (
    MECHANISMS,
    LiveRun,
    Snapshot,
    with_switches,
)
from diffusion_sim.app.views import png_of
from diffusion_sim.app.widgets import ProgressText
from diffusion_sim.errors import InputError
from diffusion_sim.scenario import Scenario


@solara.component
def RunTab(run: LiveRun, snapshot: Snapshot):
    """The map (or network), the adoption curves and the city inspector."""
    unit = run.scenario.run.step_unit
    selected = state.selected_city.value
    details = run.inspect(selected) if selected is not None else None
    find_error, set_find_error = solara.use_state(None)

    def find(name: str) -> None:
        wanted = name.strip().lower()
        if not wanted:
            return
        names = [str(n).lower() for n in run.world.city_names]
        if wanted in names:
            state.selected_city.set(names.index(wanted))
            set_find_error(None)
        else:
            set_find_error(f"no city named {name.strip()[:40]!r}")

    with solara.Div(classes=["ds-run"]):
        with solara.Div(classes=["ds-run-map"]):
            CityView(
                run,
                snapshot,
                kind=state.view_kind.value,
                colour_by=state.colour_by.value,
                on_city=state.selected_city.set,
                selected=selected,
            )
        with solara.Div(classes=["ds-run-curves"]):
            CurvesView(snapshot, unit)
        with solara.Card("City inspector", classes=["ds-run-inspector"]):
            solara.InputText(
                "Find a city by name",
                on_value=find,
                error=find_error or False,
                message=find_error,
                classes=["ds-find"],
            )
            InspectorView(details)


@solara.component
def ParametersTab():
    """Every scenario parameter as an input, generated from the schema, grouped by section."""
    base = state.base_scenario(state.scenario_key.value)
    scenario = apply_overrides(base, state.overrides.value)
    md(
        "Change a value and press Enter: the run resets with it. Out-of-range or non-numeric "
        "values are refused with a message under the input. "
        f"Changed from the file: {html.escape(', '.join(state.overrides.value)) or 'nothing'}."
    )
    if state.overrides.value:
        solara.Button(
            "Back to the file's values",
            on_click=lambda: (
                state.overrides.set({}),
                state.guarded(state.rebuild)("run reset: file values"),
            ),
        )
    for title, specs in parameter_specs(scenario).items():
        with solara.Details(summary=title, expand=title.startswith("Horizontal: peer")):
            for spec in specs:
                ParameterInput(spec, spec["value"], state.commit_parameter).key(
                    f"{state.scenario_key.value}:{spec['key']}"
                )


@solara.lab.task
def compare_task(
    a: Scenario,
    b: Scenario,
    labels: tuple[str, str],
    replicates: int,
    seed_value: int,
    look: Look | None = None,
) -> tuple[bytes, float]:
    """Both settings over the replicates on one world: a PNG of their bands, its text size."""
    from diffusion_sim.app.session import cached_world
    from diffusion_sim.simulation import simulate_ensemble

    bands = {}
    compare_task.progress = 0.0
    for i, (label, scenario) in enumerate(zip(labels, (a, b), strict=True)):
        world = cached_world(scenario, seed_value)

        def done(n: int, before: int = i * replicates) -> None:
            compare_task.progress = 100.0 * (before + n) / (2 * replicates)

        ensemble = simulate_ensemble(scenario, replicates, seed_value, world=world, progress=done)
        bands[label] = ensemble.band
    figure = compare_figure(bands, unit=a.run.step_unit, look=look)
    return png_of(figure), smallest_text_px(figure)


@solara.component
def CompareTab():
    """Two settings side by side over replicates, with 5-95% bands."""
    on = state.switches.value
    options = [f"current, {m} {'off' if on.get(m) else 'on'}" for m in MECHANISMS]
    options += [f"scenario {k}" for k in state.KEYS if k != state.scenario_key.value]
    other, set_other = solara.use_state(options[0])
    runs, set_runs = solara.use_state(0)
    replicates_text, set_replicates_text = solara.use_state("5")
    error, set_error = solara.use_state(None)
    spec = {"key": "replicates", "type": "InputText", "kind": "int", "ge": 1, "le": 50}
    spec["allowed"] = "a whole number ≥ 1 and ≤ 50"

    def start() -> None:
        try:
            if other not in options:
                raise InputError(f"choose B from the list, not {str(other)[:40]!r}")
            replicates = int(parse_input(spec, replicates_text))
            a = state.current_scenario()
            if other.startswith("current, "):
                name, setting = other.removeprefix("current, ").split(" ")
                b = with_switches(a, {name: setting == "on"})
            else:
                b = state.base_scenario(other.removeprefix("scenario "))
        except InputError as exc:
            set_error(str(exc))
            return
        set_error(None)
        labels = (f"A: {state.scenario_key.value} (current)", f"B: {other}")
        set_runs(2 * replicates)
        width = layout.look_of("curves").width  # the main column's width
        look = layout.look_of("curves", (width, int(width * 0.42)))
        compare_task(a, b, labels, replicates, state.seed.value, look)

    md(
        "**A** is the scenario as set now. Pick **B**, the number of replicates, and run both "
        "on the same world with the same seeds: the bands show what chance alone does, the gap "
        "between them what the setting does."
    )
    with solara.Row(gap="12px", style={"align-items": "center", "flex-wrap": "wrap"}):
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
        ProgressText(compare_task.progress, runs, "runs of A and B")
    elif compare_task.error:
        solara.Error(f"comparison failed: {compare_task.exception}")
    elif compare_task.value is not None:
        ClickableImage(
            src=data_url(compare_task.value[0]),
            alt="comparison of A and B: mean share adopted with 5-95% bands",
            css_class="ds-compare",
            clickable=False,
            text_px=compare_task.value[1],
        )
