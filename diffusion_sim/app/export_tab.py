"""The Export tab: the run in the browser (tables, chart, scenario, a link) and in results/.

Downloads go to the student's own machine (solara.FileDownload): the tables as
CSV, the chart as PNG and SVG, the scenario with the current settings as TOML
(``diffusion-sim run`` on it gives the same run), and a link that reopens the
page with the same settings. **Save to results/** writes on the machine that
serves the page, in the format of ``diffusion-sim run``, never over a folder.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import solara

from diffusion_sim.app import state
from diffusion_sim.app.components import md
from diffusion_sim.app.downloads import (
    chart,
    scenario_filename,
    scenario_toml,
    table_csv,
    tables_zip,
)
from diffusion_sim.app.links import current_settings, settings_query
from diffusion_sim.app.session import LiveRun, export_run, sanitize_run_name
from diffusion_sim.errors import InputError
from diffusion_sim.record.storage import timestamp


def _downloads(run: LiveRun, stem: str) -> list[tuple[str, str, str, Callable[[], bytes | str]]]:
    """(label, file name, MIME type, what makes the bytes) of each download, for this run."""
    scenario = state.current_scenario()
    seed, engine = state.seed.value, state.engine.value
    return [
        ("All tables (CSV, zip)", f"{stem}-tables.zip", "application/zip",
         lambda: tables_zip(run.result(), stem)),
        ("Timeseries (CSV)", f"{stem}-timeseries.csv", "text/csv",
         lambda: table_csv(run.result(), "timeseries")),
        ("Cities (CSV)", f"{stem}-cities.csv", "text/csv",
         lambda: table_csv(run.result(), "cities")),
        ("Chart (PNG)", f"{stem}-adoption.png", "image/png", lambda: chart(run.result(), "png")),
        ("Chart (SVG)", f"{stem}-adoption.svg", "image/svg+xml",
         lambda: chart(run.result(), "svg")),
        ("Scenario (TOML)", scenario_filename(scenario), "application/toml",
         lambda: scenario_toml(scenario, seed, engine)),
    ]  # fmt: skip


@solara.component
def ExportTab(run: LiveRun):
    """Downloads of the run so far, a link to these settings, and Save to results/."""
    name, set_name = solara.use_state(f"{run.scenario.name}-dashboard-{timestamp()}")
    message, set_message = solara.use_state(None)
    error, set_error = solara.use_state(None)
    root = state.results_root()
    stem = sanitize_run_name(f"{run.scenario.name}-seed{run.seed}-step{run.step_count}")
    # Stable per run and step: FileDownload starts over whenever its data changes.
    downloads = solara.use_memo(
        lambda: _downloads(run, stem),
        [id(run), state.version.value, state.seed.value, state.engine.value],
    )
    query = settings_query(current_settings(state))

    def save() -> None:
        try:
            folder = export_run(run, name, root)
        except InputError as exc:
            set_error(str(exc))
            set_message(None)
            return
        set_error(None)
        wanted = sanitize_run_name(name)
        taken = f"{wanted}/ already exists (kept as it is); " if folder.name != wanted else ""
        set_message(f"{taken}saved {run.step_count} steps to {folder.name}/ under {root}/")

    md(
        f"**Download to this computer** the run as it stands (step {run.step_count} of "
        f"{run.steps}): its tables, its chart, and the scenario with the settings on screen; "
        f"`diffusion-sim run {scenario_filename(state.current_scenario())}` gives the same "
        f"run, all {run.steps} steps."
    )
    with solara.Row(gap="8px", style={"flex-wrap": "wrap"}, classes=["ds-downloads"]):
        for label, filename, mime, data in downloads:
            solara.FileDownload(data, filename=filename, label=label, mime_type=mime)
    solara.HTML(
        tag="p",
        unsafe_innerHTML=(
            f'<a class="ds-settings-link" href="?{html.escape(query)}">Link to these settings'
            "</a>: opens the dashboard with this scenario, seed, engine, switches and changed "
            "parameters (copy it, bookmark it, or send it)."
        ),
    )
    md(
        "**Save to results/** on the machine that serves the page (tables as Parquet, "
        "adoption.png, manifest.json, as `diffusion-sim run` writes them). The name may use "
        "letters, digits, '.', '_' and '-'; anything else is replaced. An existing folder is "
        "never replaced: the run then goes to name-2, name-3, ..."
    )
    solara.InputText("Run name", value=name, on_value=set_name, continuous_update=True)
    solara.Button("Save to results/", on_click=save, color="primary")
    if message:
        solara.Success(message, classes=["ds-export-ok"])
    if error:
        solara.Error(error)
