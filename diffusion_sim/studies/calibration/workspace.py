"""pyabc's working folder beside a calibration's results, and the removal of stale ones.

ABC-SMC keeps its SQLite database in a hidden ``.calibrate-….abc`` folder next to
the reserved results folder (never elsewhere) until the results are saved. The
folder holds an ``flock`` while its calibrate runs, as a staging folder does
(:mod:`diffusion_sim.record.storage`): a calibrate killed by SIGKILL or SIGTERM leaves it
unlocked, and the next calibrate into the same ``--out`` removes it together with
the results folder it was for, if that is still empty.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from diffusion_sim.record.storage import LOCK, STALE_AFTER_S, give_back, held_lock, is_locked

PATTERN = ".calibrate-*.abc"


def clean_stale_workspaces(parent: Path) -> list[Path]:
    """Remove the working folders in ``parent`` whose calibrate died, and their empty results.

    Alive: a folder whose lock a process holds, or one without its lock yet that is
    younger than a minute (the microseconds between its creation and its lock).
    """
    removed = []
    for work in parent.glob(PATTERN) if parent.is_dir() else ():
        try:
            age = time.time() - work.stat().st_mtime
        except OSError:  # removed meanwhile
            continue
        if work.is_symlink() or not work.is_dir() or is_locked(work):
            continue
        if not (work / LOCK).is_file() and age < STALE_AFTER_S:
            continue
        shutil.rmtree(work, ignore_errors=True)
        # ".<results name>.<random>.abc": the random part of mkdtemp holds no dot
        give_back(parent / work.name[1 : -len(".abc")].rsplit(".", 1)[0])
        removed.append(work)
    return removed


@contextmanager
def abc_workspace(folder: Path) -> Iterator[Path]:
    """A locked working folder for the results folder ``folder``, removed when the block ends
    (stale ones from killed runs removed first)."""
    parent = Path(folder).parent
    parent.mkdir(parents=True, exist_ok=True)
    clean_stale_workspaces(parent)
    work = Path(tempfile.mkdtemp(prefix=f".{Path(folder).name}.", suffix=".abc", dir=parent))
    try:
        with held_lock(work):
            yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)
