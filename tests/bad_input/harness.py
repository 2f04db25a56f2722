"""Run one malformed input through ``diffusion_sim.cli.main`` in-process and classify it.

Shared by the tests and by ``benchmarks/bad_input_table.py`` so the table in
docs/reliability.md is measured on exactly the cases the tests check.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Case:
    """A command line, the files it needs, and what its one message must contain."""

    category: str
    id: str
    argv: tuple[str, ...]
    files: dict[str, str | bytes | None] = field(default_factory=dict)  # None: a folder
    expect: tuple[str, ...] = ()


@dataclass
class Outcome:
    code: int | None
    stdout: str
    stderr: str
    seconds: float
    written: list[str]
    hang: bool = False
    escaped: str = ""

    @property
    def traceback(self) -> bool:
        return bool(self.escaped) or "Traceback" in self.stderr

    def verdict(self, case: Case) -> str:
        """'clean', 'traceback', 'accepted', 'hang' or 'unclear' (exit 2, but the message
        misses what it must name, is not one message, or something was written)."""
        if self.hang:
            return "hang"
        if self.traceback:
            return "traceback"
        if self.code == 0:
            return "accepted"
        if self.code == 2 and not self.problems(case):
            return "clean"
        return "unclear"

    def problems(self, case: Case) -> list[str]:
        found = []
        if self.code != 2:
            found.append(f"exit code {self.code}")
        if self.stderr.count("error:") != 1:
            found.append("not exactly one 'error:' message")
        found += [f"message lacks {e!r}" for e in case.expect if e not in self.stderr]
        if self.written:
            found.append(f"wrote {self.written}")
        return found


class _Hang(Exception):
    pass


def _snapshot(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def run_case(case: Case, workdir: Path, timeout: float = 60) -> Outcome:
    """Write the case's files into ``workdir``, run the CLI there, and see what it did."""
    from diffusion_sim.cli import main

    for name, content in case.files.items():
        path = workdir / name
        if content is None:
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    before = _snapshot(workdir)
    out, err = io.StringIO(), io.StringIO()
    code, hang, escaped = None, False, ""
    here = os.getcwd()

    def alarm(signum, frame):
        raise _Hang

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    started = time.perf_counter()
    try:
        os.chdir(workdir)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(case.argv))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
    except _Hang:
        hang = True
    except BaseException:
        escaped = traceback.format_exc()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        os.chdir(here)
    seconds = time.perf_counter() - started
    written = sorted(_snapshot(workdir) - before)
    return Outcome(code, out.getvalue(), err.getvalue(), seconds, written, hang, escaped)
