"""The package's structure, checked: every module in a layer, imports only downward, no cycles.

Imports inside functions (lazy imports) count like any other. The layers are the
package's folders, from the bottom (docs/architecture.md draws them):

- base: errors.py;
- rules: mechanisms/ (rules, their wiring, the registry, the compiled loops' keeping);
- scenario/: TOML -> a validated Scenario (its sections from the registry);
- world/: worlds are data (synthetic and real cities, networks);
- model/: what a run reads (setup, ties, events), what carried an adoption
  (provenance) and what a run writes (trajectory);
- engines/: the vectorized engine (numpy and numba; no Mesa) and the agents (Mesa);
- record/: tables, outcomes, results on disk, charts, intervals;
- api: simulation.py and ensemble_folder.py (simulate, ensembles);
- studies/: comparisons, Kern's modes, calibration, estimation, export, sweeps;
- apps: cli/ and app/ (the dashboard).
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
    "base": {"errors"},
    "rules": {"mechanisms"},
    "scenario": {"scenario"},
    "world": {"world"},
    "model": {"model"},
    "engines": {"engines"},
    "record": {"record"},
    "api": {"simulation", "ensemble_folder"},
    "studies": {"studies"},
    "apps": {"cli", "app", "__main__", "__init__"},
}
"""Each layer is a folder (or the api's two modules) of the package, from the bottom.

The mechanisms (their rules, wiring and registry) sit below the scenario files,
whose sections the registry declares; model/ reads scenarios.
A module's layer is that of the longest prefix listed."""
ORDER = list(LAYERS)
THIRD_PARTY_FORBIDDEN = {
    "base": {"mesa", "solara"},
    "rules": {"mesa", "solara"},
    "scenario": {"mesa", "solara"},
    "world": {"mesa", "solara"},
    "model": {"mesa", "solara"},
    "engines": {"solara"},
    "record": {"mesa", "solara"},
    "api": {"solara"},
    "studies": {"solara"},
}
"""Mesa only for the agents engine (and what builds it); Solara only for the dashboard."""


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def layer_of(name: str) -> str | None:
    inside = name.split(".", 1)[1] if "." in name else "__init__"
    best, layer_found = -1, None
    for layer, prefixes in LAYERS.items():
        for prefix in prefixes:
            if (inside == prefix or inside.startswith(prefix + ".")) and len(prefix) > best:
                best, layer_found = len(prefix), layer
    return layer_found


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


@pytest.mark.parametrize(
    "name", sorted(n for n in MODULES if n.startswith("diffusion_sim.engines.vectorized"))
)
def test_the_vectorized_engine_imports_no_mesa(name):
    bad = [line for module, _, line in imports_of(MODULES[name]) if module.split(".")[0] == "mesa"]
    assert not bad, f"{name} imports mesa at lines {bad}"


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
    assert layer_of("diffusion_sim.record.results") == "record"
    assert layer_of("diffusion_sim.engines.vectorized.kernels") == "engines"
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
