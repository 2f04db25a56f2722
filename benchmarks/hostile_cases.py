"""The cases of ``hostile_resume.py``: what each one tampers with, runs and checks.

Fixtures (an uninterrupted ensemble and sweep, the same killed after a known save, a
foreign seed's and another scenario's) are made once per package root by its own CLI.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

SMALL = ["--steps", "10", "--set", "world.n_cities=200"]
RUN = ["run", "embedded", "--replicates", "3", *SMALL, "--workers", "1", "--quiet"]
TABLES = ("timeseries", "band", "summaries")
EUROPE = ["run", "europe_embedded", "--steps", "3", "--set", "world.max_cities=150", "--quiet"]
SWEEP = """
name = "hostile"
scenario = "{scenario}"
seed = {seed}
replicates = 2
runs_per_task = 1
outcomes = ["share_cities", "time_to_50pct"]

[constants]
"world.n_cities" = 200
"run.steps" = 10

[design]
method = "grid"
levels = 2

[[uncertainties]]
key = "mechanisms.horizontal.thresholds.mean"
name = "threshold"
range = [0.1, 0.5]
"""


CATEGORIES = ("clean", "traceback", "silent accept", "lost or mixed", "escape", "unclear")


@dataclass
class Outcome:
    category: str
    detail: str


def snapshot(folder: Path, skip: str = "out") -> dict[str, str]:
    """Every entry under ``folder`` but ``skip``: a file's bytes digest, a link's target."""
    import hashlib

    seen = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if rel.parts[0] == skip:
            continue
        if path.is_symlink():
            seen[str(rel)] = f"link:{os.readlink(path)}"
        elif path.is_file():
            seen[str(rel)] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            seen[str(rel)] = "dir"
    return seen


def errors_of(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def leftovers(folder: Path) -> list[str]:
    return [
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if ".partial" in p.name or ".tmp" in p.name or p.name.endswith(".starting")
    ]


def judge(
    done,
    *,
    escaped: bool,
    wrong: str | None = None,
    names: str | None = None,
    must_refuse: bool = False,
    must_say: bool = False,
    debris: list[str] | None = None,
) -> Outcome:
    """The category of one command's end (see the module docstring), with why."""
    tail = (done.stderr.strip().splitlines() or [""])[-1][:160]
    if escaped:
        return Outcome("escape", "outside out/ changed or a link's target was read")
    if wrong:
        return Outcome("lost or mixed", wrong)
    if "Traceback" in done.stderr or done.returncode not in (0, 1, 2):
        return Outcome("traceback", f"exit {done.returncode}: {tail}")
    if done.returncode == 0:
        said = names is not None and names in done.stderr
        if must_refuse or (must_say and not said):
            return Outcome("silent accept", f"exit 0; said: {done.stderr.strip()[:160]!r}")
        return Outcome("clean", "exit 0, the uninterrupted run's tables")
    errors = errors_of(done.stderr)
    if len(errors) != 1 or (names is not None and names not in errors[0]):
        return Outcome("unclear", f"exit {done.returncode}: {tail}")
    if debris:
        return Outcome("unclear", f"left {debris[:3]}")
    return Outcome("clean", f"exit {done.returncode}: {errors[0][:160]}")


@dataclass
class Case:
    group: str
    name: str
    run: Callable[[Any, Path], Outcome]  # (the Bench, the case folder)


class Skip(Exception):
    """A case that cannot run here (the reason is printed)."""


def results_in(stdout: str) -> Path | None:
    lines = [line for line in stdout.splitlines() if line.startswith("results in ")]
    return Path(lines[-1].removeprefix("results in ").split(";")[0]) if lines else None


def same_table(a: Path, b: Path) -> bool:
    try:
        return pd.read_parquet(a).equals(pd.read_parquet(b))
    except Exception:  # unreadable: not the same
        return False


def files_of(folder: Path) -> dict[str, bytes]:
    if folder.is_symlink() or not folder.is_dir():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


class Fixtures:
    """Folders made once by the package under test, copied into each case."""

    def __init__(self, bench) -> None:
        self.bench = bench
        self.home = bench.work / "fixtures"
        self.home.mkdir(parents=True, exist_ok=True)

    def _ensemble(self, name: str, *extra: str, kill_after: int = 0) -> Path:
        root = self.home / name
        if not root.exists():  # made once per --work folder
            done = self.bench.cli([*RUN, *extra, "--out", str(root)], kill_after=kill_after)
            assert done.returncode == (137 if kill_after else 0), done.stderr
        (folder,) = root.glob("embedded-*")
        return root if kill_after else folder

    @cached_property
    def reference(self) -> Path:
        return self._ensemble("reference", "--seed", "4")

    @cached_property
    def killed(self) -> Path:
        return self._ensemble("killed", "--seed", "4", kill_after=1)

    @cached_property
    def seed5(self) -> Path:
        return self._ensemble("seed5", "--seed", "5")

    @cached_property
    def killed5(self) -> Path:
        return self._ensemble("killed5", "--seed", "5", kill_after=1)

    @cached_property
    def other_scenario(self) -> Path:
        return self._ensemble(
            "other", "--seed", "4", "--set", "mechanisms.horizontal.thresholds.mean=0.3"
        )

    def sweep_file(self, seed: int) -> Path:
        path = self.home / f"hostile-{seed}.toml"
        scenario = self.bench.root / "scenarios" / "embedded.toml"
        path.write_text(SWEEP.format(scenario=scenario, seed=seed))
        return path

    def sweep(self, out: Path, seed: int = 11, **hooks):
        argv = ["sweep", str(self.sweep_file(seed)), "--out", str(out), "--workers", "1"]
        return self.bench.cli([*argv, "--quiet"], **hooks)

    @cached_property
    def sweep_reference(self) -> Path:
        out = self.home / "sweep-reference"
        if not out.exists():
            assert self.sweep(out).returncode == 0
        return out

    def sweep_killed(self, seed: int) -> Path:
        out = self.home / f"sweep-killed-{seed}"
        if not out.exists():
            assert self.sweep(out, seed, kill_after=2).returncode == 137
        return out

    @cached_property
    def cache(self) -> tuple[Path, Path]:
        """A world cache folder and the timeseries of the run that built it."""
        cache, root = self.home / "cache", self.home / "europe"
        if not root.exists():
            done = self.bench.cli([*EUROPE, "--out", str(root)], cache=cache)
            assert done.returncode == 0, done.stderr
        (folder,) = root.glob("europe_embedded-*")
        return cache, folder / "timeseries.parquet"


# ------------------------------------------------------------ checking an ensemble


def check_ensemble(fx: Fixtures, done, out: Path, kept: dict[str, bytes], old: Path) -> str | None:
    """What is wrong with the folders under ``out`` after a command, if anything."""
    for folder in out.glob("embedded-*"):
        if folder.is_symlink() or not (folder / "manifest.json").is_file():
            continue
        for name in TABLES:
            if not same_table(folder / f"{name}.parquet", fx.reference / f"{name}.parquet"):
                return f"{folder.name}/{name}.parquet differs from the uninterrupted run's"
        for i in range(3):
            table = Path(f"replicate-{i:03d}") / "timeseries.parquet"
            if not same_table(folder / table, fx.reference / table):
                return f"{folder.name}/{table} is not the uninterrupted run's"
    if done.returncode == 0 and results_in(done.stdout) is None:
        return "exit 0 but no results folder"
    if kept and files_of(old / "replicate-000") != kept:
        return "the finished replicate-000 was lost or changed"
    return None


def ensemble_case(tamper, *, names=None, must_refuse=False, must_say=False, link=False, mine=True):
    """A case on the killed ensemble (replicate-000 finished): tamper, then the same command.

    ``mine``: replicate-000 is left as it was, and must stay.
    """

    def run(bench, where: Path):
        fx = bench.fixtures
        out = where / "out"
        shutil.copytree(fx.killed, out, symlinks=True)
        (folder,) = out.glob("embedded-*")
        kept = files_of(folder / "replicate-000") if mine else {}
        tamper(fx, folder, where)
        before = snapshot(where)
        done = bench.cli([*RUN, "--seed", "4", "--out", str(out)])
        wrong = check_ensemble(fx, done, out, kept, folder)
        escaped = snapshot(where) != before or (link and wrong is not None)
        return judge(
            done, escaped=escaped, wrong=wrong, names=names, must_refuse=must_refuse,
            must_say=must_say,
        )  # fmt: skip

    return run


# ---------------------------------------------------------------- checking a sweep


def check_sweep(fx: Fixtures, done, out: Path, kept: dict[str, bytes]) -> str | None:
    if (out / "manifest.json").is_file() and not out.is_symlink():
        results = out / "results.parquet"
        try:
            pq.read_table(results)
        except Exception:
            return None  # unreadable: a finished sweep's output tampered with (must be said)
        if not same_table(results, fx.sweep_reference / "results.parquet"):
            return "results.parquet differs from the uninterrupted sweep's"
    elif done.returncode == 0:
        return "exit 0 but the sweep is not finished"
    if done.returncode != 0 and not (out / "parts").is_symlink():
        now = files_of(out / "parts")
        if any(now.get(name) != data for name, data in kept.items()):
            return "a finished part was lost"
    return None


def sweep_case(
    tamper, *, names=None, must_refuse=False, must_say=False, link=False, start="killed",
    untouched=True,
):  # fmt: skip
    """A case on the sweep killed after 2 of its 4 parts (or finished): tamper, run again."""

    def run(bench, where: Path):
        fx = bench.fixtures
        out = where / "out"
        source = fx.sweep_killed(11) if start == "killed" else fx.sweep_reference
        shutil.copytree(source, out, symlinks=True)
        kept = files_of(out / "parts")
        tamper(fx, out, where)
        if not untouched:
            kept = {}
        before = snapshot(where)
        done = fx.sweep(out)
        wrong = check_sweep(fx, done, out, kept)
        escaped = snapshot(where) != before or (link and wrong is not None)
        return judge(
            done, escaped=escaped, wrong=wrong, names=names, must_refuse=must_refuse,
            must_say=must_say,
        )  # fmt: skip

    return run


# ------------------------------------------------------------------- small tools


def write(path: Path, data: str | bytes) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    path.unlink(missing_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)


def cut(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def replace(path: Path, source: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
    (shutil.copytree if source.is_dir() else shutil.copy)(source, path)


def link(path: Path, target: Path, where: Path) -> None:
    """``path`` made a link to a copy of ``target`` in ``where/outside``."""
    copy = where / "outside" / target.name
    if not copy.exists():
        (shutil.copytree if target.is_dir() else shutil.copy)(target, copy)
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
    path.symlink_to(copy)


def edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def parts(out: Path) -> list[Path]:
    return sorted(p for p in (out / "parts").iterdir() if p.name.startswith("part-0"))


def missing_part(out: Path) -> str:
    have = {p.name for p in parts(out)}
    return next(f"part-{b:06d}.parquet" for b in range(4) if f"part-{b:06d}.parquet" not in have)


# ------------------------------------------------------------------- a full disk


def mounted(where: Path) -> Path:
    disk = where / "disk"
    disk.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)], capture_output=True
    )
    if done.returncode != 0:
        raise Skip(f"cannot mount a tmpfs: {done.stderr.decode().strip()}")
    return disk


def fill(disk: Path, leave: int) -> Path:
    filler = disk / "filler"
    with open(filler, "wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
    os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


def replicate_bytes(folder: Path) -> int:
    return sum(-(-p.stat().st_size // 4096) * 4096 for p in folder.rglob("*") if p.is_file())


def disk_case(kind: str, start: str, leave):
    """Fill a 2 MB disk but for ``leave`` bytes, run, free it, run the same command again."""

    def run(bench, where: Path):
        fx = bench.fixtures
        disk = mounted(where)
        try:
            out = disk / "out"
            if kind == "ensemble":
                argv = [*RUN, "--seed", "4", "--out", str(out)]
                if start == "killed":
                    shutil.copytree(fx.killed, out)
            elif kind == "run":
                argv = ["run", "embedded", "--replicates", "1", *SMALL, "--out", str(out)]
            elif kind == "export":
                argv = ["export", "embedded", *SMALL[2:], "--format", "csv", "--out", str(out)]
            else:
                argv = None
                if start == "killed":
                    shutil.copytree(fx.sweep_killed(11), out)
            kept = {p: files_of(p) for p in out.glob("*/replicate-*")}
            kept_parts = files_of(out / "parts")
            room = leave(fx) if callable(leave) else leave
            filler = fill(disk, room)
            before = snapshot(where, skip="disk")
            first = fx.sweep(out) if argv is None else bench.cli(argv)
            debris = leftovers(disk)
            wrong = None
            if any(files_of(p) != files for p, files in kept.items()) or any(
                files_of(out / "parts").get(n) != d for n, d in kept_parts.items()
            ):
                wrong = "a finished replicate or part was lost"
            filler.unlink()
            again = fx.sweep(out) if argv is None else bench.cli(argv)
            if wrong is None and again.returncode != 0:
                wrong = f"after freeing space the same command failed: {again.stderr[-160:]!r}"
            elif wrong is None and kind == "ensemble":
                wrong = check_ensemble(fx, again, out, {}, out)
            elif wrong is None and kind == "sweep":
                wrong = check_sweep(fx, again, out, {})
            escaped = snapshot(where, skip="disk") != before
            return judge(first, escaped=escaped, wrong=wrong, names="disk", debris=debris)
        finally:
            subprocess.run(["umount", str(disk)], check=False)

    return run


def half_replicate(fx: Fixtures) -> int:
    return replicate_bytes(fx.reference / "replicate-000") * 3 // 2 + 2 * 4096


def all_cases(fixtures: Fixtures) -> list:
    from hostile_more_cases import cache_cases, export_cases, two_process_cases

    fixtures.bench.fixtures = fixtures
    fx = fixtures
    inc = "incomplete.json"
    r0, r1, r2 = "replicate-000", "replicate-001", "replicate-002"
    E = "ensemble"
    cases = [
        Case(E, f"{inc} is {text!r}", ensemble_case(lambda f, d, w, t=text: write(d / inc, t)))
        for text in ("[]", "null", "{", "{}", '{"fingerprint": 5}', "", '"text"', "1e999")
    ]
    cases += [
        Case(
            E, f"{inc} binary bytes", ensemble_case(lambda f, d, w: write(d / inc, os.urandom(64)))
        ),
        Case(E, f"{inc} removed", ensemble_case(lambda f, d, w: (d / inc).unlink())),
        Case(
            E,
            f"{inc} a folder",
            ensemble_case(lambda f, d, w: (d / inc).unlink() or (d / inc).mkdir()),
        ),
        Case(
            E,
            f"{inc} a link outside",
            ensemble_case(
                lambda f, d, w: link(d / inc, f.killed.glob("*/" + inc).__next__(), w), link=True
            ),
        ),
        Case(
            E,
            f"{inc} of seed 4 in a seed-5 folder",
            ensemble_case(
                lambda f, d, w: replace(d / r0, next(f.killed5.glob("*")) / r0),
                names=r0,
                mine=False,
            ),
        ),
        Case(
            E,
            f"{r0}/manifest.json invalid JSON",
            ensemble_case(
                lambda f, d, w: write(d / r0 / "manifest.json", "{x"), names=r0, mine=False
            ),
        ),
        Case(
            E,
            f"{r0}/manifest.json is []",
            ensemble_case(
                lambda f, d, w: write(d / r0 / "manifest.json", "[]"), names=r0, mine=False
            ),
        ),
        Case(
            E,
            f"{r0}/manifest.json is {{}}",
            ensemble_case(
                lambda f, d, w: write(d / r0 / "manifest.json", "{}"), names=r0, mine=False
            ),
        ),
        Case(
            E,
            f"{r0}/manifest.json empty",
            ensemble_case(
                lambda f, d, w: write(d / r0 / "manifest.json", ""), names=r0, mine=False
            ),
        ),
        Case(
            E,
            f"{r0}/manifest.json removed",
            ensemble_case(
                lambda f, d, w: (d / r0 / "manifest.json").unlink(), names=r0, mine=False
            ),
        ),
        Case(
            E,
            f"{r0}/manifest.json of seed 5",
            ensemble_case(
                lambda f, d, w: replace(d / r0 / "manifest.json", f.seed5 / r0 / "manifest.json"),
                names=r0,
                mine=False,
            ),
        ),
        Case(
            E,
            f"{r0}/events.parquet truncated",
            ensemble_case(lambda f, d, w: cut(d / r0 / "events.parquet"), names=r0, mine=False),
        ),
        Case(
            E,
            f"{r0}/timeseries.parquet truncated",
            ensemble_case(lambda f, d, w: cut(d / r0 / "timeseries.parquet"), names=r0, mine=False),
        ),
        Case(
            E,
            f"{r0}/cities.parquet removed",
            ensemble_case(
                lambda f, d, w: (d / r0 / "cities.parquet").unlink(), names=r0, mine=False
            ),
        ),
        Case(
            E,
            f"{r0}/timeseries.parquet of seed 5",
            ensemble_case(
                lambda f, d, w: replace(
                    d / r0 / "timeseries.parquet", f.seed5 / r0 / "timeseries.parquet"
                ),
                names=r0,
                mine=False,
            ),
        ),
        Case(
            E,
            f"{r0} of seed 5",
            ensemble_case(lambda f, d, w: replace(d / r0, f.seed5 / r0), names=r0, mine=False),
        ),
        Case(
            E,
            f"{r0} of another scenario",
            ensemble_case(
                lambda f, d, w: replace(d / r0, f.other_scenario / r0), names=r0, mine=False
            ),
        ),
        Case(
            E,
            f"{r0} is {r1} of the same run",
            ensemble_case(lambda f, d, w: replace(d / r0, f.reference / r1), names=r0, mine=False),
        ),
        Case(
            E,
            f"{r0} a link to seed 5's",
            ensemble_case(
                lambda f, d, w: link(d / r0, f.seed5 / r0, w), names=r0, link=True, mine=False
            ),
        ),
        Case(
            E,
            f"{r0} a link to an identical copy",
            ensemble_case(
                lambda f, d, w: link(d / r0, f.reference / r0, w),
                names=r0,
                must_refuse=True,
                link=True,
                mine=False,
            ),
        ),
        Case(
            E,
            f"{r0}/manifest.json a link",
            ensemble_case(
                lambda f, d, w: link(
                    d / r0 / "manifest.json", f.reference / r0 / "manifest.json", w
                ),
                names=r0,
                must_refuse=True,
                link=True,
                mine=False,
            ),
        ),
        Case(
            E,
            f"{r0}/events.parquet a link to seed 5's",
            ensemble_case(
                lambda f, d, w: link(d / r0 / "events.parquet", f.seed5 / r0 / "events.parquet", w),
                names=r0,
                link=True,
                mine=False,
            ),
        ),
        Case(
            E,
            f"{r0} a file",
            ensemble_case(lambda f, d, w: write(d / r0, "x"), names=r0, mine=False),
        ),
        Case(
            E,
            f"{r0} an empty folder",
            ensemble_case(lambda f, d, w: shutil.rmtree(d / r0) or (d / r0).mkdir(), mine=False),
        ),
        Case(
            E,
            f"{r1} planted from seed 5",
            ensemble_case(lambda f, d, w: replace(d / r1, f.seed5 / r1), names=r1),
        ),
        Case(
            E,
            f"{r1} planted from another scenario",
            ensemble_case(lambda f, d, w: replace(d / r1, f.other_scenario / r1), names=r1),
        ),
        Case(
            E,
            f"{r2} planted as a link",
            ensemble_case(lambda f, d, w: link(d / r2, f.seed5 / r2, w), names=r2, link=True),
        ),
        Case(
            E,
            f"{r1} planted, no manifest",
            ensemble_case(
                lambda f, d, w: (
                    replace(d / r1, f.seed5 / r1) or (d / r1 / "manifest.json").unlink()
                ),
                names=r1,
            ),
        ),
        Case(
            E,
            "a stray replicate-copy folder",
            ensemble_case(lambda f, d, w: replace(d / "replicate-copy", f.seed5 / r0)),
        ),
        Case(
            E,
            ".lock a link to a missing file outside",
            ensemble_case(lambda f, d, w: _lock_link(d, w, exists=False), link=True),
        ),
        Case(
            E,
            ".lock a link to a file outside",
            ensemble_case(lambda f, d, w: _lock_link(d, w, exists=True), link=True),
        ),
        Case(E, ".lock a folder", ensemble_case(lambda f, d, w: _replace_lock(d))),
        Case(
            E,
            "a stale staging folder",
            ensemble_case(lambda f, d, w: (d / f".{r1}.x1.partial").mkdir()),
        ),
        Case(
            E,
            "the ensemble folder a link outside",
            ensemble_case(_folder_link, link=True, mine=False),
        ),
    ]
    cases += sweep_cases(fx)
    cases += [
        Case("full disk", "single run, disk full", disk_case("run", "fresh", 0)),
        Case("full disk", "ensemble, disk full at the start", disk_case("ensemble", "fresh", 0)),
        Case("full disk", "ensemble, full after a few kB", disk_case("ensemble", "fresh", 40_000)),
        Case(
            "full disk",
            "ensemble resumed, full after 1.5 replicates",
            disk_case("ensemble", "killed", half_replicate),
        ),
        Case("full disk", "sweep, disk full at the start", disk_case("sweep", "fresh", 0)),
        Case("full disk", "sweep, full after a few kB", disk_case("sweep", "fresh", 12_000)),
        Case(
            "full disk", "sweep resumed (2 of 4 parts), disk full", disk_case("sweep", "killed", 0)
        ),
        Case("full disk", "export csv, disk full", disk_case("export", "fresh", 0)),
    ]
    cases += two_process_cases(fx) + cache_cases(fx) + export_cases(fx)
    return cases


def _lock_link(folder: Path, where: Path, *, exists: bool) -> None:
    target = where / "outside" / "planted"
    if exists:
        target.write_text("keep me")
    (folder / ".lock").unlink(missing_ok=True)
    (folder / ".lock").symlink_to(target)


def _replace_lock(folder: Path) -> None:
    (folder / ".lock").unlink(missing_ok=True)
    (folder / ".lock").mkdir()


def _folder_link(fx, folder: Path, where: Path) -> None:
    moved = where / "outside" / folder.name
    shutil.move(folder, moved)
    folder.symlink_to(moved)


def sweep_cases(fx: Fixtures) -> list:
    S, plan, design = "sweep", "sweep.json", "design.parquet"

    def state(change):
        return lambda f, o, w: edit_json(o / plan, change)

    cases = [
        Case(
            S,
            f"{plan} is {text!r}",
            sweep_case(lambda f, o, w, t=text: write(o / plan, t), names=plan),
        )
        for text in ("[]", "{", "null", "{}", "", "7")
    ]
    cases += [
        Case(
            S,
            f"{plan} without total_runs",
            sweep_case(state(lambda d: d.pop("total_runs")), names=plan),
        ),
        Case(
            S,
            f"{plan} total_runs + 1",
            sweep_case(
                state(lambda d: d.update(total_runs=d["total_runs"] + 1)),
                names=plan,
                must_refuse=True,
            ),
        ),
        Case(
            S,
            f"{plan} total_runs a string",
            sweep_case(state(lambda d: d.update(total_runs="4")), names=plan, must_refuse=True),
        ),
        Case(
            S,
            f"{plan} fingerprint altered",
            sweep_case(
                state(lambda d: d.update(fingerprint="0" * 64)), names="out", must_refuse=True
            ),
        ),
        Case(
            S,
            f"{plan} fingerprint removed",
            sweep_case(state(lambda d: d.pop("fingerprint")), names=plan),
        ),
        Case(
            S,
            f"{plan} points altered",
            sweep_case(state(lambda d: d.update(points=3)), names=plan, must_refuse=True),
        ),
        Case(
            S,
            f"{plan} replicates altered",
            sweep_case(state(lambda d: d.update(replicates=1)), names=plan, must_refuse=True),
        ),
        Case(
            S,
            f"{plan} runs_per_task altered to 2",
            sweep_case(state(lambda d: d.update(runs_per_task=2)), names="part-", untouched=False),
        ),
        Case(
            S,
            f"{plan} spec.seed altered",
            sweep_case(state(lambda d: d["spec"].update(seed=12)), names=plan, must_refuse=True),
        ),
        Case(S, f"{plan} removed", sweep_case(lambda f, o, w: (o / plan).unlink(), names="out")),
        Case(
            S,
            f"{plan} a link outside",
            sweep_case(
                lambda f, o, w: link(o / plan, f.sweep_killed(11) / plan, w),
                names=plan,
                must_refuse=True,
                link=True,
            ),
        ),
        Case(S, f"{design} truncated", sweep_case(lambda f, o, w: cut(o / design), names=design)),
        Case(
            S, f"{design} removed", sweep_case(lambda f, o, w: (o / design).unlink(), names=design)
        ),
        Case(
            S,
            f"{design} a value altered",
            sweep_case(lambda f, o, w: _alter_design(o / design), names=design),
        ),
        Case(
            S,
            f"{design} rows reordered",
            sweep_case(lambda f, o, w: _alter_design(o / design, reverse=True), names=design),
        ),
        Case(
            S,
            f"{design} a link outside",
            sweep_case(
                lambda f, o, w: link(o / design, f.sweep_killed(11) / design, w),
                names=design,
                must_refuse=True,
                link=True,
            ),
        ),
        Case(
            S,
            "a part of seed 12 over one of ours",
            sweep_case(
                lambda f, o, w: _foreign_part(f, o, over=True),
                names="part-",
                must_say=True,
                untouched=False,
            ),
        ),
        Case(
            S,
            "a part of seed 12 in a missing batch",
            sweep_case(
                lambda f, o, w: _foreign_part(f, o, over=False), names="part-", must_say=True
            ),
        ),
        Case(
            S,
            "a part truncated",
            sweep_case(
                lambda f, o, w: cut(parts(o)[0]), names="part-", must_say=True, untouched=False
            ),
        ),
        Case(
            S,
            "a part empty",
            sweep_case(
                lambda f, o, w: write(parts(o)[0], b""),
                names="part-",
                must_say=True,
                untouched=False,
            ),
        ),
        Case(
            S,
            "a part random bytes",
            sweep_case(
                lambda f, o, w: write(parts(o)[0], os.urandom(4096)),
                names="part-",
                must_say=True,
                untouched=False,
            ),
        ),
        Case(
            S,
            "a stray part-copy.parquet",
            sweep_case(
                lambda f, o, w: shutil.copy(parts(o)[0], o / "parts" / "part-copy.parquet"),
                names="part-copy",
                must_say=True,
            ),
        ),
        Case(
            S,
            "a part copied into a missing batch",
            sweep_case(
                lambda f, o, w: shutil.copy(parts(o)[0], o / "parts" / missing_part(o)),
                names="part-",
                must_say=True,
            ),
        ),
        Case(
            S,
            "a part's values altered, metadata kept",
            sweep_case(
                lambda f, o, w: _alter_part(parts(o)[0], keep_metadata=True),
                names="part-",
                must_say=True,
                untouched=False,
            ),
        ),
        Case(
            S,
            "a part rewritten by pandas, values altered",
            sweep_case(
                lambda f, o, w: _alter_part(parts(o)[0], keep_metadata=False),
                names="part-",
                must_say=True,
                untouched=False,
            ),
        ),
        Case(
            S,
            "a part a link outside",
            sweep_case(
                lambda f, o, w: link(parts(o)[0], parts(f.sweep_killed(12))[0], w),
                names="part-",
                link=True,
                untouched=False,
            ),
        ),
        Case(
            S,
            "a part a folder",
            sweep_case(lambda f, o, w: (o / "parts" / missing_part(o)).mkdir(), names="part-"),
        ),
        Case(
            S,
            "a stale temporary part",
            sweep_case(lambda f, o, w: write(o / "parts" / ".part-000003.parquet.tmp", b"x")),
        ),
        Case(
            S,
            "parts/ a link outside",
            sweep_case(lambda f, o, w: link(o / "parts", o / "parts", w), names="parts", link=True),
        ),
        Case(
            S,
            "parts/ a file",
            sweep_case(lambda f, o, w: write(o / "parts", "x"), names="parts", untouched=False),
        ),
        Case(
            S,
            ".lock a link to a missing file outside",
            sweep_case(lambda f, o, w: _lock_link(o, w, exists=False), link=True),
        ),
        Case(
            S,
            ".lock a link to a file outside",
            sweep_case(lambda f, o, w: _lock_link(o, w, exists=True), link=True),
        ),
        Case(
            S,
            "finished: results.parquet truncated",
            sweep_case(
                lambda f, o, w: cut(o / "results.parquet"),
                names="results.parquet",
                must_say=True,
                start="done",
            ),
        ),
        Case(
            S,
            "finished: manifest.json removed",
            sweep_case(lambda f, o, w: (o / "manifest.json").unlink(), start="done"),
        ),
    ]
    return cases


def _alter_design(path: Path, reverse: bool = False) -> None:
    table = pd.read_parquet(path)
    if reverse:
        table = table.iloc[::-1].reset_index(drop=True)
    else:
        table.loc[1, "threshold"] = 0.9
    table.to_parquet(path, index=False)


def _foreign_part(fx: Fixtures, out: Path, *, over: bool) -> None:
    theirs = parts(fx.sweep_killed(12))
    mine = {p.name for p in parts(out)}
    chosen = [p for p in theirs if (p.name in mine) == over] or theirs
    shutil.copy(chosen[0], out / "parts" / chosen[0].name)


def _alter_part(path: Path, *, keep_metadata: bool) -> None:
    table = pq.read_table(path)
    column = table.column_names.index("share_cities")
    values = np.asarray(table.column(column).to_pylist(), dtype=float) * 0.5
    import pyarrow as pa

    altered = table.set_column(column, "share_cities", pa.array(values))
    if keep_metadata:
        pq.write_table(altered.replace_schema_metadata(table.schema.metadata), path)
    else:
        altered.to_pandas().to_parquet(path, index=False)
