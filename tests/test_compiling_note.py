"""The command line says "compiling the engine (first run only)" once, and only on a cold cache.

Runs the real CLI in a subprocess with its own empty numba cache (NUMBA_CACHE_DIR),
so the first run compiles every loop; the second, with the same cache, loads them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from diffusion_sim.cli import COMPILING

TINY = """
name = "tiny"
[world]
generator = "synthetic"
seed = 3
n_cities = 200
n_countries = 2
regions_per_country = 2
[run]
steps = 5
seed = 1
"""


def run_cli(args: list[str], cache: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["NUMBA_CACHE_DIR"] = str(cache)
    command = [sys.executable, "-m", "diffusion_sim", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


def test_a_cold_cache_says_it_compiles_once_and_a_warm_one_says_nothing(tmp_path: Path):
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(TINY, encoding="utf-8")
    cache = tmp_path / "numba-cache"
    cold = run_cli(["run", str(scenario), "--no-save"], cache)
    assert cold.returncode == 0, cold.stderr
    assert cold.stderr.count(COMPILING) == 1, cold.stderr
    assert COMPILING not in cold.stdout
    assert any(cache.rglob("*.nbi")), "the first run left no compiled loops in the cache"
    warm = run_cli(["run", str(scenario), "--no-save"], cache)
    assert warm.returncode == 0, warm.stderr
    assert COMPILING not in warm.stderr + warm.stdout
    assert warm.stdout == cold.stdout  # the same run, its summary word for word


def test_quiet_and_commands_that_never_run_the_engine_say_nothing(tmp_path: Path):
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(TINY, encoding="utf-8")
    cache = tmp_path / "numba-cache"
    quiet = run_cli(["run", str(scenario), "--no-save", "--quiet"], cache)
    assert quiet.returncode == 0, quiet.stderr
    assert COMPILING not in quiet.stderr
    checked = run_cli(["validate", str(scenario)], tmp_path / "other-cache")
    assert checked.returncode == 0, checked.stderr
    assert COMPILING not in checked.stderr
