"""The package as users install it: a wheel, not this checkout.

``pip install .`` must ship the scenarios, sweep files and the dashboard's
assets as package data, found from any working directory.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The wheel built from this checkout, unpacked into a folder of its own."""
    folder = tmp_path_factory.mktemp("wheel")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(folder), str(ROOT)],
        check=True,
        timeout=600,
    )
    (wheel,) = folder.glob("diffusion_sim-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "diffusion_sim/shipped/scenarios/embedded.toml" in names
    assert "diffusion_sim/shipped/sweeps/kern_modes_grid.toml" in names
    assert any(n.endswith(".vue") for n in names) and any(n.endswith(".css") for n in names)
    site = folder / "site"
    subprocess.run(
        [*pip, "install", "--no-deps", "--target", str(site), str(wheel)], check=True, timeout=600
    )
    return site


def cli_from(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run(
        [sys.executable, "-m", "diffusion_sim", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_installed_package_runs_a_shipped_scenario_from_an_empty_folder(installed, tmp_path):
    where = subprocess.run(
        [sys.executable, "-c", "import diffusion_sim; print(diffusion_sim.__file__)"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(installed)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(installed), "not the installed copy"
    listed = cli_from(installed, tmp_path, "scenarios")
    assert listed.returncode == 0, listed.stderr
    assert "embedded" in listed.stdout and "no scenarios found" not in listed.stdout
    done = cli_from(
        installed, tmp_path, "run", "embedded", "--set", "world.n_cities=300", "--steps", "5"
    )
    assert done.returncode == 0, done.stderr
    assert list((tmp_path / "results").glob("embedded-*/manifest.json"))


def test_a_users_own_scenarios_folder_comes_first(installed, tmp_path):
    own = tmp_path / "scenarios"
    own.mkdir()
    (own / "embedded.toml").write_text('name = "mine"\n[world]\nn_cities = 50\n')
    done = cli_from(installed, tmp_path, "validate", "embedded")
    assert done.returncode == 0, done.stderr
    assert "50 cities" in done.stdout
