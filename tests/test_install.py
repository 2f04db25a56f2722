"""The package as users install it: a wheel in a fresh venv, not this checkout.

``pip install .`` must ship the scenarios, sweep files and the dashboard's
assets as package data, found from any working directory, and install the
``diffusion-sim`` console script.

The wheel is built from a copy of the checkout in a temporary folder (a build
writes ``build/`` and ``*.egg-info`` beside the sources: never into this tree).
The fresh venv (``python -m venv``) gets the wheel with ``pip install --no-deps``;
its dependencies come without network from this environment's site-packages,
through a ``.pth`` file written after the install, so they sit behind the
venv's own site-packages on ``sys.path`` and the installed copy of
diffusion_sim is the one imported.

Extras: installing each extra for real needs PyPI and takes minutes (Jupyter,
Dask, pyabc), so it is ``benchmarks/fresh_venv_extras.sh``, not a test. Here the
built wheel must declare every extra pyproject.toml defines (``Provides-Extra``;
pip only warns about an unknown extra, and not at all with ``--no-deps``);
tests/test_extras.py checks that every extra the docs name exists and brings
what its command imports.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

NOT_SOURCES = shutil.ignore_patterns(
    ".git",
    ".venv",
    ".ci-venv",
    "build",
    "dist",
    "*.egg-info",
    "results",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
    ".cache",
)


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A fresh venv with the wheel built from (a copy of) this checkout installed in it."""
    work = tmp_path_factory.mktemp("install")
    source = work / "src"
    shutil.copytree(ROOT, source, symlinks=True, ignore=NOT_SOURCES)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(work), str(source)],
        check=True,
        timeout=600,
    )
    (wheel,) = work.glob("diffusion_sim-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "diffusion_sim/shipped/scenarios/embedded.toml" in names
    assert "diffusion_sim/shipped/sweeps/kern_modes_grid.toml" in names
    assert any(n.endswith(".vue") for n in names) and any(n.endswith(".css") for n in names)
    (meta,) = [n for n in names if n.endswith(".dist-info/METADATA")]
    declared = {
        line.split(":", 1)[1].strip()
        for line in zipfile.ZipFile(wheel).read(meta).decode().splitlines()
        if line.startswith("Provides-Extra:")
    }
    assert declared == _extras()  # every extra pyproject.toml defines (and the docs name)

    env = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(env)], check=True, timeout=300)
    python = env / "bin" / "python"
    venv_pip = [str(python), "-m", "pip", "--disable-pip-version-check"]
    subprocess.run(
        [*venv_pip, "--quiet", "install", "--no-deps", "--no-index", str(wheel)],
        check=True,
        timeout=300,
        env=shell_of(env),  # a PYTHONPATH to a checkout would make pip skip the install
    )
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        env=shell_of(env),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # The dependencies, after the venv's own packages on sys.path (a .pth line is appended).
    (Path(site) / "dev_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return env


def _extras() -> set[str]:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return set(tomllib.load(f)["project"]["optional-dependencies"])


def shell_of(env: Path) -> dict[str, str]:
    """The environment of a user's shell with the venv first on PATH (and no PYTHONPATH,
    which would put another copy of the package first)."""
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    clean["PATH"] = f"{env / 'bin'}{os.pathsep}{clean.get('PATH', '')}"
    return clean


def cli(env: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """The venv's ``diffusion-sim`` console script, as a user's shell finds it."""
    return subprocess.run(
        ["diffusion-sim", *args],
        cwd=cwd,
        env=shell_of(env),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_installed_console_script_runs_a_shipped_scenario_from_an_empty_folder(venv, tmp_path):
    script = venv / "bin" / "diffusion-sim"
    assert script.is_file() and str(venv) in script.read_text().splitlines()[0]
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import diffusion_sim; print(diffusion_sim.__file__)"],
        cwd=tmp_path,
        env=shell_of(venv),
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(venv), "not the installed copy"
    listed = cli(venv, tmp_path, "scenarios")
    assert listed.returncode == 0, listed.stderr
    assert "embedded" in listed.stdout and "no scenarios found" not in listed.stdout
    done = cli(venv, tmp_path, "run", "embedded", "--steps", "5", "--set", "world.n_cities=300")
    assert done.returncode == 0, done.stderr
    assert "share of cities adopted" in done.stdout
    (manifest,) = (tmp_path / "results").glob("embedded-*/manifest.json")
    assert (manifest.parent / "adoption.png").is_file()


def test_a_users_own_scenarios_folder_comes_first(venv, tmp_path):
    own = tmp_path / "scenarios"
    own.mkdir()
    (own / "embedded.toml").write_text('name = "mine"\n[world]\nn_cities = 50\n')
    done = cli(venv, tmp_path, "validate", "embedded")
    assert done.returncode == 0, done.stderr
    assert "50 cities" in done.stdout
