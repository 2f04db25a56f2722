"""The docs and docstrings name files and objects that exist, so a move cannot leave them stale.

A Python file named in backticks in docs/ (``engines/vectorized/kernels.py``, or a path
under the package such as ``sweep/runner.py``) must be a file of the repository;
a Sphinx cross-reference to ``diffusion_sim.x.y`` in a docstring must import.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
FILE_IN_BACKTICKS = re.compile(r"`([\w./-]+\.py)[`:#]")
CROSS_REFERENCE = re.compile(r":(?:func|mod|class|meth|data|attr):`~?(diffusion_sim(?:\.\w+)+)`")


def repository_files() -> list[str]:
    skip = {".venv", ".git", "node_modules"}
    return [
        path.relative_to(ROOT).as_posix()
        for path in ROOT.rglob("*.py")
        if not skip & set(path.relative_to(ROOT).parts)
    ]


def names_a_file(name: str, files: list[str]) -> bool:
    return any(f == name or f.endswith("/" + name) for f in files)


def stale_file_names(text: str, files: list[str]) -> list[str]:
    return [m for m in FILE_IN_BACKTICKS.findall(text) if not names_a_file(m, files)]


def resolves(dotted: str) -> bool:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attribute in parts[cut:]:
                target = getattr(target, attribute)
        except AttributeError:
            return False
        return True
    return False


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_docs_name_files_that_exist(doc):
    files = repository_files()
    stale = [
        (n, name)
        for n, line in enumerate(doc.read_text().splitlines(), 1)
        for name in stale_file_names(line, files)
    ]
    assert not stale, f"{doc.name} names files that do not exist (line, name): {stale}"


def test_docstring_cross_references_import():
    stale = [
        (path.relative_to(ROOT).as_posix(), ref)
        for path in sorted((ROOT / "diffusion_sim").rglob("*.py"))
        for ref in CROSS_REFERENCE.findall(path.read_text())
        if not resolves(ref)
    ]
    assert not stale, f"cross-references that do not import: {stale}"


def test_the_checks_can_fail():
    files = ["diffusion_sim/engines/vectorized/kernels.py"]
    assert stale_file_names("see `engine/kernels.py` and `vectorized/kernels.py`.", files) == [
        "engine/kernels.py"
    ]
    assert resolves("diffusion_sim.mechanisms.compose.city_context")
    assert not resolves("diffusion_sim.compose.cell_channels")
