"""Layers import downward only: core, then the Mesa model, then the API, then apps and CLI."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "diffusion_sim"

CORE = {
    "errors",
    "scenario",
    "world",
    "synthetic",
    "networks",
    "mechanisms",
    "setup",
    "engine",
    "trajectory",
    "results",
    "outcomes",
    "plotting",
    "real_world",
}
STUDIES = {"comparison", "calibration", "graph_export"}
MODEL = {"agents"}
API = {"simulation"}
FORBIDDEN = {
    "core": {
        "mesa",
        "solara",
        "diffusion_sim.agents",
        "diffusion_sim.simulation",
        "diffusion_sim.app",
        "diffusion_sim.cli",
        "diffusion_sim.sweep",
    },
    "model": {
        "solara",
        "diffusion_sim.simulation",
        "diffusion_sim.app",
        "diffusion_sim.cli",
        "diffusion_sim.sweep",
    },
    "api": {"solara", "diffusion_sim.app", "diffusion_sim.cli", "diffusion_sim.sweep"},
    "studies": {"solara", "diffusion_sim.app", "diffusion_sim.cli", "diffusion_sim.sweep"},
}


def layer_of(path: Path) -> str | None:
    top = path.relative_to(PACKAGE).parts[0].removesuffix(".py")
    if top in CORE:
        return "core"
    if top in MODEL:
        return "model"
    if top in API:
        return "api"
    if top in STUDIES:
        return "studies"
    return None


def imports_of(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


MODULES = [p for p in sorted(PACKAGE.rglob("*.py")) if layer_of(p)]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_go_downward_only(path):
    forbidden = FORBIDDEN[layer_of(path)]
    bad = {
        name
        for name in imports_of(path)
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    }
    assert not bad, f"{path.name} ({layer_of(path)}) imports {sorted(bad)}"


def test_the_layers_cover_the_core():
    assert len(MODULES) >= 15
