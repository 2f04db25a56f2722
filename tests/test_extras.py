"""The docs and pyproject.toml agree on extras: every install line names a real extra, and
every documented command imports only what its install line brings.

Fast and offline: reads pyproject.toml (tomllib), the docs, the CLI's help texts and the
package's sources, and resolves requirements with the metadata of this environment.
``benchmarks/fresh_venv_extras.sh`` is the slow half: a real fresh venv per extra.
"""

from __future__ import annotations

import ast
import json
import re
import sys
import tomllib
from functools import cache
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.conftest import ROOT

PACKAGE = ROOT / "diffusion_sim"
INSTALL = re.compile(
    r"""pip\s+install\s+(?:-e\s+)?["']?(?:\.|diffusion[_-]sim)\[([^\]]*)\]""", re.IGNORECASE
)

# Each documented command: the extra its docs name (None: a plain install), where they
# name it, and the code it runs.
SWEEP_CODE = [PACKAGE / "studies" / "sweep", PACKAGE / "cli" / "sweep.py"]
CALIBRATE_CODE = [PACKAGE / "studies" / "calibration"]
COMMANDS = {
    "sweep": ("sweep", ["README.md", "docs/sweeps.md"], SWEEP_CODE),
    "analyze": ("sweep", ["README.md", "docs/sweeps.md"], SWEEP_CODE),
    "calibrate": ("calibrate", ["docs/calibration.md"], CALIBRATE_CODE),
    "tutorial": ("notebook", ["docs/tutorial.ipynb"], [ROOT / "docs" / "tutorial.ipynb"]),
    "run, compare, export, dashboard": (
        None,
        ["README.md", "docs/dashboard.md"],
        [
            p
            for p in PACKAGE.rglob("*.py")
            if not any(p.is_relative_to(extra) for extra in SWEEP_CODE + CALIBRATE_CODE)
        ],
    ),
}
EXTRA_TOOLS = {"notebook": {"jupyterlab", "ipykernel"}}
"""What an extra brings beyond imports (the tutorial needs Jupyter to open at all)."""


def _project() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]


def _notebook_text(path: Path, kinds: tuple[str, ...] = ("markdown", "code")) -> str:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(c["source"]) for c in cells if c["cell_type"] in kinds)


def _doc_text(name: str) -> str:
    path = ROOT / name
    return _notebook_text(path) if path.suffix == ".ipynb" else path.read_text(encoding="utf-8")


def _help_texts() -> str:
    """The main help and every subcommand's, as users see them."""
    import argparse

    from diffusion_sim.cli import build_parser

    parser = build_parser()
    texts = [parser.format_help()]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            texts += [sub.format_help() for sub in action.choices.values()]
    return "\n".join(texts)


def _documented_installs() -> list[tuple[str, str]]:
    """(where, extra) of every ``pip install ...[extra]`` users are told to run."""
    sources = {"README.md": _doc_text("README.md"), "CLI help": _help_texts()}
    for path in sorted((ROOT / "docs").glob("*.md")):
        sources[f"docs/{path.name}"] = _doc_text(f"docs/{path.name}")
    sources["docs/tutorial.ipynb"] = _doc_text("docs/tutorial.ipynb")
    for path in sorted(PACKAGE.rglob("*.py")):  # messages that tell users what to install
        sources[str(path.relative_to(ROOT))] = path.read_text(encoding="utf-8")
    found = []
    for where, text in sources.items():
        for match in INSTALL.finditer(text):
            found += [(where, extra.strip()) for extra in match.group(1).split(",")]
    return found


def test_every_documented_install_names_an_extra_pyproject_defines():
    defined = set(_project()["optional-dependencies"])
    found = _documented_installs()
    assert {e for _, e in found} >= {"sweep", "calibrate", "notebook", "bench", "test"}, found
    unknown = [(where, extra) for where, extra in found if extra not in defined]
    assert not unknown, f"installs of extras pyproject.toml does not define: {unknown}"


@pytest.mark.parametrize("command", list(COMMANDS))
def test_the_docs_name_the_extra_of_each_command(command):
    extra, docs, _ = COMMANDS[command]
    if extra is None:
        return
    for doc in docs:
        named = {m.strip() for hit in INSTALL.findall(_doc_text(doc)) for m in hit.split(",")}
        assert extra in named, f"{doc} documents '{command}' without its extra [{extra}]"


# ------------------------------------------------------------- requirements


@cache
def _requires(dist: str, extras: frozenset[str]) -> tuple[str, ...]:
    """Distributions ``dist`` with ``extras`` requires (this environment's metadata)."""
    if canonicalize_name(dist) == "diffusion-sim":
        project = _project()
        lines = list(project["dependencies"])
        for extra in extras:
            lines += project["optional-dependencies"][extra]
    else:
        try:
            lines = metadata.requires(dist) or []
        except metadata.PackageNotFoundError:
            return ()  # not installed here: its own name still counts
    found = []
    for line in lines:
        req = Requirement(line)
        envs = [{"extra": e} for e in extras] or [{"extra": ""}]
        if req.marker is None or any(req.marker.evaluate(env) for env in envs):
            found.append(f"{req.name}[{','.join(sorted(req.extras))}]")
    return tuple(found)


def installed_by(extra: str | None) -> set[str]:
    """Every distribution ``pip install ".[extra]"`` installs (canonical names)."""
    seen: set[str] = set()
    todo = [("diffusion_sim", frozenset({extra} if extra else ()))]
    done: set[tuple[str, frozenset[str]]] = set()
    while todo:
        name, extras = todo.pop()
        if (canonicalize_name(name), extras) in done:
            continue
        done.add((canonicalize_name(name), extras))
        seen.add(canonicalize_name(name))
        for line in _requires(name, extras):
            req = Requirement(line)
            todo.append((req.name, frozenset(req.extras)))
    return seen


def _imports(paths: list[Path]) -> set[str]:
    """Top-level third-party modules imported anywhere in ``paths`` (lazy imports too)."""
    names = set()
    for path in paths:
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            if file.suffix == ".ipynb":
                source = _notebook_text(file, ("code",))
            elif file.suffix == ".py":
                source = file.read_text(encoding="utf-8")
            else:
                continue
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.Import):
                    names |= {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names.add(node.module.split(".")[0])
    return {n for n in names if n not in sys.stdlib_module_names and n != "diffusion_sim"}


def _uncovered(paths: list[Path], extra: str | None) -> set[str]:
    providers = metadata.packages_distributions()
    allowed = installed_by(extra)
    return {
        module
        for module in _imports(paths)
        if not {canonicalize_name(d) for d in providers.get(module, [module])} & allowed
    }


@pytest.mark.parametrize("command", list(COMMANDS))
def test_each_command_imports_only_what_its_extra_installs(command):
    extra, _, paths = COMMANDS[command]
    missing = _uncovered(paths, extra)
    assert not missing, (
        f"'{command}' imports {sorted(missing)}, which neither the core dependencies nor "
        f"the [{extra}] extra install"
    )
    tools = {canonicalize_name(t) for t in EXTRA_TOOLS.get(extra or "", ())}
    assert tools <= installed_by(extra), tools - installed_by(extra)


def test_the_check_has_teeth():
    # The sweep and calibrate code do need their extras: a plain install lacks them.
    assert {"distributed", "SALib", "ema_workbench"} <= _uncovered(SWEEP_CODE, None)
    assert "pyabc" in _uncovered(CALIBRATE_CODE, None)
    assert "jupyterlab" not in installed_by(None)
