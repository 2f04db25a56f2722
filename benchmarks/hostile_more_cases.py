"""More cases of ``hostile_resume.py``: two processes, a damaged world cache, export."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
from hostile_cases import (
    EUROPE,
    RUN,
    SMALL,
    Case,
    Outcome,
    check_ensemble,
    check_sweep,
    files_of,
    judge,
    results_in,
    same_table,
    snapshot,
)

# ---------------------------------------------------------------- two processes


def _wait_for(path: Path, process: subprocess.Popen) -> bool:
    """Until the first process says it started (a file); False if it ended first."""
    while not path.exists():
        try:
            process.wait(0.02)
            return path.exists()
        except subprocess.TimeoutExpired:
            pass
    return True


def two_case(kind: str, start: str):
    """A first process paused at its first save (lock held), a second one run to its end,
    then the first let go: neither may traceback, no folder may be mixed."""

    def run(bench, where: Path):
        fx = bench.fixtures
        out = where / "out"
        if kind == "ensemble":
            argv = [*RUN, "--seed", "4", "--out", str(out)]
            if start == "killed":
                shutil.copytree(fx.killed, out)
            first = bench.cli(argv, pause=where, wait=False)
        else:
            if start == "killed":
                shutil.copytree(fx.sweep_killed(11), out)
            first = fx.sweep(out, pause=where, wait=False)
        try:
            if not _wait_for(where / "started", first):
                _, err = first.communicate()
                return Outcome("traceback", f"the first process ended first: {err[-160:]!r}")
            before = snapshot(where)
            second = bench.cli(argv) if kind == "ensemble" else fx.sweep(out)
        finally:
            (where / "go").touch()
            stdout, stderr = first.communicate(timeout=600)
        first_done = subprocess.CompletedProcess([], first.returncode, stdout, stderr)
        if kind == "ensemble":
            wrong = check_ensemble(fx, first_done, out, {}, out) or check_ensemble(
                fx, second, out, {}, out
            )
        else:
            wrong = check_sweep(fx, first_done, out, {})
        if first.returncode != 0 and not wrong:
            if "Traceback" in stderr or first.returncode not in (0, 1, 2):
                return Outcome("traceback", f"the first process: {stderr.strip()[-160:]!r}")
            wrong = f"the first process did not finish: {stderr.strip()[-160:]!r}"
        escaped = any(
            not k.startswith(("started", "go")) for k in set(snapshot(where)) ^ set(before)
        )
        return judge(second, escaped=escaped, wrong=wrong, names="out")

    return run


def two_process_cases(fx) -> list:
    T = "two processes"
    return [
        Case(T, "two ensembles resuming one folder", two_case("ensemble", "killed")),
        Case(T, "two ensembles started at once", two_case("ensemble", "fresh")),
        Case(T, "two sweeps resuming one folder", two_case("sweep", "killed")),
        Case(T, "two sweeps started on one new folder", two_case("sweep", "fresh")),
    ]


# ------------------------------------------------------------------ world cache


def cache_case(tamper):
    """The world cache damaged, then the same run: rebuilt (saying so), the same tables."""

    def run(bench, where: Path):
        fx = bench.fixtures
        source, reference = fx.cache
        cache = where / "cache"
        shutil.copytree(source, cache)
        (path,) = cache.glob("*.npz")
        tamper(path, where)
        before = snapshot(where)
        done = bench.cli([*EUROPE, "--out", str(where / "out")], cache=cache)
        wrong = None
        folder = results_in(done.stdout)
        if done.returncode == 0 and not same_table(folder / "timeseries.parquet", reference):
            wrong = "the run from the damaged cache differs from the run that built it"
        changed = {k for k in set(snapshot(where)) ^ set(before) if not k.startswith("cache")}
        return judge(done, escaped=bool(changed), wrong=wrong, names="cache", must_say=True)

    return run


def _resave(path: Path, change) -> None:
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    change(arrays)
    np.savez(path, **arrays)


def cache_cases(fx) -> list:
    C = "world cache"

    def without(key):
        return lambda p, w: _resave(p, lambda a: a.pop(key))

    return [
        Case(
            C,
            "truncated to half",
            cache_case(lambda p, w: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])),
        ),
        Case(C, "empty", cache_case(lambda p, w: p.write_bytes(b""))),
        Case(
            C,
            "random bytes",
            cache_case(lambda p, w: p.write_bytes(np.random.default_rng(1).bytes(4096))),
        ),
        Case(C, "without 'population'", cache_case(without("population"))),
        Case(C, "without 'city_names'", cache_case(without("city_names"))),
        Case(
            C,
            "'population' one city short",
            cache_case(
                lambda p, w: _resave(p, lambda a: a.update(population=a["population"][:-1]))
            ),
        ),
        Case(
            C,
            "a tie to a city that is not there",
            cache_case(
                lambda p, w: _resave(
                    p, lambda a: a.update(layer_proximity_row=a["layer_proximity_row"] + 10_000)
                )
            ),
        ),
        Case(
            C,
            "'country' index out of range",
            cache_case(lambda p, w: _resave(p, lambda a: a.update(country=a["country"] + 1000))),
        ),
    ]


# ---------------------------------------------------------------------- export


def export_case(
    fmt: str,
    out: str,
    existing: list[str],
    *,
    force: bool = False,
    linked: bool = False,
    cascade: bool = False,
):
    """Files already where export writes: refused without --force; a link never followed."""

    def run(bench, where: Path):
        folder = where / "out"
        folder.mkdir()
        for name in existing:
            if linked:
                target = where / "outside" / name
                target.write_text("keep me\n")
                (folder / name).symlink_to(target)
            else:
                (folder / name).write_text("keep me\n")
        before_inside = files_of(folder)
        before = snapshot(where)
        argv = ["export", "embedded", *SMALL[2:], "--format", fmt, "--out", str(folder / out)]
        argv += ["--quiet"] + (["--force"] if force else []) + (["--cascade"] if cascade else [])
        done = bench.cli(argv)
        escaped = snapshot(where) != before
        overwritten = files_of(folder) != before_inside and not force
        if done.returncode == 0 and overwritten and not escaped:
            return Outcome("silent accept", f"exit 0, overwrote {existing} without --force")
        names = None if force else existing[0] if out != "." else "--out"
        return judge(done, escaped=escaped, names=names)

    return run


def export_cases(fx) -> list:
    X = "export"
    return [
        Case(X, "csv onto net-nodes.csv", export_case("csv", "net.csv", ["net-nodes.csv"])),
        Case(X, "csv onto net-edges.csv", export_case("csv", "net.csv", ["net-edges.csv"])),
        Case(
            X,
            "csv --cascade onto net-cascade.csv",
            export_case("csv", "net.csv", ["net-cascade.csv"], cascade=True),
        ),
        Case(
            X,
            "csv into a folder holding world-nodes.csv",
            export_case("csv", ".", ["world-nodes.csv"]),
        ),
        Case(
            X, "graphml onto an existing file", export_case("graphml", "g.graphml", ["g.graphml"])
        ),
        Case(X, "gexf onto an existing file", export_case("gexf", "g.gexf", ["g.gexf"])),
        Case(
            X,
            "csv onto net-nodes.csv with --force",
            export_case("csv", "net.csv", ["net-nodes.csv"], force=True),
        ),
        Case(
            X,
            "csv onto net-nodes.csv, a link outside",
            export_case("csv", "net.csv", ["net-nodes.csv"], linked=True),
        ),
        Case(
            X,
            "csv onto a link outside with --force",
            export_case("csv", "net.csv", ["net-nodes.csv"], linked=True, force=True),
        ),
        Case(
            X,
            "graphml onto a link outside with --force",
            export_case("graphml", "g.graphml", ["g.graphml"], linked=True, force=True),
        ),
    ]
