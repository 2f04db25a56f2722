"""The package's structure, checked: every module in a layer, imports only downward, no cycles.

Imports inside functions (lazy imports) count like any other. The layers, from
the bottom (docs/architecture.md draws them):

- core: the model and its data (scenario files, worlds, mechanisms, engine,
  results on disk) — imports no Mesa, no Solara, nothing above it;
- model: the Mesa model (agents/), which imports only the core;
- api: simulate, ensembles (simulation, ensemble_folder);
- studies: what-if comparisons, Kern's modes, calibration, export;
- apps: the CLI, the dashboard, sweeps.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "diffusion_sim"
DOCS = PACKAGE.parent / "docs" / "architecture.md"
MAX_LINES = 400

LAYERS: dict[str, set[str]] = {
    "core": {
        "errors",
        "csv_cells",
        "storage",
        "scenario",
        "world",
        "synthetic",
        "networks",
        "ties",
        "real_world",
        "coordinators",
        "mechanisms",
        "kernels",
        "compiling",
        "provenance",
        "events",
        "governments",
        "resolving",
        "setup",
        "engine",
        "trajectory",
        "results",
        "outcomes",
        "observed",
        "survival",
        "charts",
        "tables",
        "statistics",
        "plotting",
    },
    "model": {"agents"},
    "api": {"simulation", "ensemble_folder"},
    "studies": {
        "comparison",
        "comparison_text",
        "modes",
        "calibration",
        "estimation",
        "graph_export",
    },
    "apps": {
        "cli",
        "cli_args",
        "cli_text",
        "cli_interrupts",
        "research_commands",
        "estimate_command",
        "forecast_command",
        "sweep",
        "app",
        "__main__",
        "__init__",
    },
}
ORDER = list(LAYERS)
THIRD_PARTY_FORBIDDEN = {"core": {"mesa", "solara"}, "model": {"solara"}, "api": {"solara"}}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def top_of(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def layer_of(name: str) -> str | None:
    top = top_of(name)
    return next((layer for layer, tops in LAYERS.items() if top in tops), None)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _type_checking_only(tree: ast.AST) -> set[int]:
    """Ids of the nodes under ``if TYPE_CHECKING:`` (never executed, so no dependency)."""
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(child) for part in node.body for child in ast.walk(part)}
    return skipped


def imports_of(path: Path) -> list[tuple[str, list[str], int]]:
    """(module, names imported from it, line) for every import, lazy ones included."""
    found = []
    tree = ast.parse(path.read_text())
    skipped = _type_checking_only(tree)
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found += [(alias.name, [], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.module, [a.name for a in node.names], node.lineno))
    return found


def internal_target(module: str, names: list[str]) -> list[str]:
    """The package modules an import statement reaches (``from pkg import mod`` reaches mod)."""
    if not module.startswith("diffusion_sim"):
        return []
    targets = []
    for name in names or [""]:
        candidate = f"{module}.{name}" if name else module
        targets.append(candidate if candidate in MODULES else module)
    return [t for t in targets if t in MODULES]


def graph() -> nx.DiGraph:
    edges = nx.DiGraph()
    edges.add_nodes_from(MODULES)
    for name, path in MODULES.items():
        for module, names, _ in imports_of(path):
            for target in internal_target(module, names):
                if target != name and not name.startswith(target + "."):
                    edges.add_edge(name, target)  # a package's own __init__ is not a cycle
    return edges


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_has_a_layer(name):
    assert layer_of(name), f"{name}: give its top-level name a layer in LAYERS"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_go_downward_only(name):
    layer = ORDER.index(layer_of(name))
    bad = []
    for module, names, line in imports_of(MODULES[name]):
        top = module.split(".")[0]
        if top in THIRD_PARTY_FORBIDDEN.get(ORDER[layer], set()):
            bad.append(f"line {line}: {module}")
        for target in internal_target(module, names):
            target_layer = layer_of(target)
            if target_layer and ORDER.index(target_layer) > layer:
                bad.append(f"line {line}: {target} ({target_layer})")
    assert not bad, f"{name} ({ORDER[layer]}) imports upward: {bad}"


def test_no_import_cycles():
    cycles = list(nx.simple_cycles(graph()))
    assert not cycles, f"import cycles: {cycles[:5]}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_private_names_imported_across_modules(name):
    bad = [
        f"line {line}: from {module} import {n}"
        for module, names, line in imports_of(MODULES[name])
        if module.startswith("diffusion_sim") and module != name
        for n in names
        if n.startswith("_") and not n.startswith("__")
    ]
    assert not bad, f"{name} imports private names: {bad}"


def test_long_modules_have_a_written_reason():
    documented = set(re.findall(r"^\| `([\w/]+\.py)` \| \d+ \|", DOCS.read_text(), re.M))
    long = {
        str(path.relative_to(PACKAGE)): len(path.read_text().splitlines())
        for path in MODULES.values()
        if len(path.read_text().splitlines()) > MAX_LINES
    }
    missing = {name: lines for name, lines in long.items() if name not in documented}
    assert not missing, (
        f"modules over {MAX_LINES} lines without a reason in docs/architecture.md "
        f"('Modules over {MAX_LINES} lines'): {missing}"
    )


def test_the_check_sees_every_kind_of_violation(tmp_path):
    """The checks can fail: a planted upward import, cycle and private import are found."""
    assert layer_of("diffusion_sim.results") == "core"
    assert layer_of("diffusion_sim.cli") == "apps"
    planted = tmp_path / "x.py"
    planted.write_text("def f():\n    from diffusion_sim.cli import _private\n")
    ((module, names, line),) = imports_of(planted)
    assert (module, names, line) == ("diffusion_sim.cli", ["_private"], 2)
    assert internal_target(module, names) == ["diffusion_sim.cli"]
    cyclic = nx.DiGraph([("a", "b"), ("b", "a")])
    assert list(nx.simple_cycles(cyclic))
    hinted = tmp_path / "y.py"
    hinted.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import a\n")
    assert imports_of(hinted) == [("typing", ["TYPE_CHECKING"], 1)]
