"""Run the real CLI in this process, killed or paused at a chosen save (no timing).

``python tests/process_hooks.py run embedded ...`` is ``python -m diffusion_sim run
embedded ...`` with two hooks on the function that saves one unit of work (an
ensemble's replicate, a sweep's part), set by environment variables:

- ``HOOK_KILL_AFTER=k``: the process ends as a kill would (``os._exit(137)``, no
  cleanup) right after the k-th save: a folder interrupted at a known point;
- ``HOOK_PAUSE=folder``: before the first save (the folder's lock is held by then)
  the process creates ``folder/started`` and waits until ``folder/go`` exists: a
  second process can be run against a live first one, deterministically.

It imports nothing of the package itself but by name, so it runs against any
checkout on ``PYTHONPATH`` (``benchmarks/hostile_resume.py`` uses it on an older one,
whose modules lived elsewhere).
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from pathlib import Path

SAVERS = [  # (module, function) that save one unit; the first importable of each is hooked
    (("diffusion_sim.ensemble_folder",), "_run_replicate"),
    (("diffusion_sim.studies.sweep.runner", "diffusion_sim.sweep.runner"), "write_part"),
]


def _module(names: tuple[str, ...]):
    for name in names:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


def _hook(module, name: str) -> None:
    original = getattr(module, name)
    kill_after = int(os.environ.get("HOOK_KILL_AFTER", "0"))
    pause = os.environ.get("HOOK_PAUSE")
    saved = [0]

    def hooked(*args, **kwargs):
        if pause and saved[0] == 0:
            Path(pause, "started").touch()
            while not Path(pause, "go").exists():  # waits for the test's word, not a time
                time.sleep(0.02)
        out = original(*args, **kwargs)
        saved[0] += 1
        if kill_after and saved[0] >= kill_after:
            sys.stdout.flush()
            os._exit(137)
        return out

    setattr(module, name, hooked)


def main() -> None:
    for names, function in SAVERS:
        module = _module(names)
        if module is not None:
            _hook(module, function)
    from diffusion_sim.cli import main as cli_main

    sys.exit(cli_main(sys.argv[1:]))


if __name__ == "__main__":
    main()
