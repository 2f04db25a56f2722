"""What a student takes home from the dashboard, as bytes for the browser to download.

The run's tables as CSV (through record/csv_cells.write_csv, which makes text
cells inert for spreadsheets), its chart as PNG and SVG (record/plotting's
chart of ``diffusion-sim run``), and the scenario with the current settings as
TOML: ``diffusion-sim run`` on that file gives the dashboard's run, event for
event (same world, same seed, one replicate). Nothing here touches the server's
disk except a private temporary folder for the chart, removed at once.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from typing import Literal

import tomli_w

from diffusion_sim.record.csv_cells import write_csv
from diffusion_sim.record.plotting import chart_labels
from diffusion_sim.record.results import Result
from diffusion_sim.scenario import Scenario

Engine = Literal["vectorized", "agents"]


def table_csv(result: Result, name: str) -> bytes:
    """One of the run's tables (:attr:`Result.TABLES`) as CSV, UTF-8."""
    if name not in Result.TABLES:
        raise KeyError(f"no table {name!r}; tables: {', '.join(Result.TABLES)}")
    buffer = io.StringIO()
    write_csv(getattr(result, name), buffer, index=False)
    return buffer.getvalue().encode("utf-8")


def tables_zip(result: Result, stem: str) -> bytes:
    """Every table as ``<stem>/<table>.csv`` in one zip, with the run's manifest."""
    import json

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in Result.TABLES:
            archive.writestr(f"{stem}/{name}.csv", table_csv(result, name))
        manifest = json.dumps(result.manifest, indent=2, default=str)
        archive.writestr(f"{stem}/manifest.json", manifest)
    return buffer.getvalue()


def chart(result: Result, kind: Literal["png", "svg"]) -> bytes:
    """The run's chart (the adoption.png of ``diffusion-sim run``) as PNG or SVG."""
    from diffusion_sim.record.plotting import plot_channels

    if kind not in ("png", "svg"):
        raise ValueError(f"chart kind {kind!r}: png or svg")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"adoption.{kind}"
        plot_channels(result.timeseries, path, *chart_labels(result.manifest))
        return path.read_bytes()


def scenario_filename(scenario: Scenario) -> str:
    """The downloaded scenario's file name: the scenario's name, made safe for a file."""
    from diffusion_sim.app.session import sanitize_run_name

    return sanitize_run_name(scenario.name) + ".toml"


def scenario_toml(scenario: Scenario, seed: int, engine: Engine = "vectorized") -> str:
    """The scenario as set on screen, as a file ``diffusion-sim run`` reproduces exactly.

    The run's seed goes into ``run.seed`` and ``run.replicates`` is 1 (the
    dashboard runs one), so the file alone fixes the run; the header says how
    to run it, with the engine the dashboard used (both engines give the same
    events).
    """
    data = scenario.to_dict()
    data.pop("source", None)
    data["run"] = {**data.get("run", {}), "seed": int(seed), "replicates": 1}
    flag = "" if engine == "vectorized" else f" --engine {engine}"
    header = (
        f"# {scenario.name}: the dashboard's settings (seed {seed}, engine {engine}).\n"
        f"# Reproduce the run: diffusion-sim run {scenario_filename(scenario)}{flag}\n\n"
    )
    return header + tomli_w.dumps(data)
