"""Resume and save as a hostile user would: tampered, foreign and linked files, two processes,
a full disk, a corrupt world cache, an export onto existing files (issue 19).

Every case runs the real CLI (``python -m diffusion_sim``, or ``tests/process_hooks.py``
to kill or pause it at a known save) on a small scenario, in a folder of its own that
holds the results folder given (``out/``) and a folder beside it (``outside/``) that
links point into. Each case is classified:

- **clean**: exit 0 with the tables of an uninterrupted run, or exit 1/2 with one
  ``error:`` line naming the file (and nothing finished lost);
- **traceback**: a Python traceback, or an exit code other than 0, 1, 2 (or a hang);
- **silent accept**: exit 0 where the command had to refuse or say what it did
  (an overwritten export, a tampered file used or replaced without a word);
- **lost or mixed**: tables that differ from the uninterrupted run's in a folder that
  looks complete, a finished replicate or part lost, or a resume that cannot finish;
- **escape**: anything created, changed or removed outside ``out/``, or a link's
  target read into the results;
- **unclear**: refused without traceback, but the message does not name the file,
  or partial files were left behind.

Run against this checkout, or any other (its CLI, of the same flags, is what runs)::

    python benchmarks/hostile_resume.py                          # this checkout
    python benchmarks/hostile_resume.py --package-root ../base   # another one
    python benchmarks/hostile_resume.py --show traceback,lost    # list those cases

The full-disk cases mount a 2 MB tmpfs (root only); elsewhere they are skipped, saying why.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import hostile_cases
from hostile_cases import CATEGORIES, Outcome, Skip

HOOKS = Path(__file__).resolve().parent.parent / "tests" / "process_hooks.py"


class Bench:
    """The package root under test, its fixtures (built once) and a way to run its CLI."""

    def __init__(self, package_root: Path, work: Path) -> None:
        self.root = package_root.resolve()
        self.work = work
        self.env = {
            **os.environ,
            "PYTHONPATH": str(self.root),
            "DIFFUSION_SIM_CACHE": str(work / "cache"),
        }

    def cli(
        self,
        argv: list[str],
        *,
        kill_after: int = 0,
        pause: Path | None = None,
        cache: Path | None = None,
        wait: bool = True,
    ):
        env = {**self.env, "HOOK_KILL_AFTER": str(kill_after)}
        if pause is not None:
            env["HOOK_PAUSE"] = str(pause)
        if cache is not None:
            env["DIFFUSION_SIM_CACHE"] = str(cache)
        command = [sys.executable, str(HOOKS), *argv]
        if not wait:
            return subprocess.Popen(
                command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
        try:
            return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(command, -9, "", "hang: no end in 300 s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--package-root", type=Path, default=HOOKS.parent.parent)
    parser.add_argument("--work", type=Path, help="scratch folder (default: a new temporary one)")
    parser.add_argument("--only", default="", help="run only cases whose name holds this")
    parser.add_argument("--show", default="", help="list the cases of these categories")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="hostile-"))
    bench = Bench(args.package_root, work)
    started = time.perf_counter()
    fixtures = hostile_cases.Fixtures(bench)
    cases = [c for c in hostile_cases.all_cases(fixtures) if args.only in f"{c.group} {c.name}"]
    print(f"package: {bench.root} ({len(cases)} cases; scratch {work})", flush=True)
    results: list = []
    for number, case in enumerate(cases):
        where = work / "cases" / f"{number:03d}"
        (where / "outside").mkdir(parents=True)
        try:
            outcome = case.run(bench, where)
        except Skip as why:
            outcome = Outcome("skipped", str(why))
        results.append((case, outcome))
        print(f"  {case.group:10} {case.name:58} {outcome.category}", flush=True)
        shutil.rmtree(where, ignore_errors=True)
    _table(results)
    show = {s.strip() for s in args.show.split(",") if s.strip()}
    for case, outcome in results:
        if any(outcome.category.startswith(s) for s in show):
            print(f"[{outcome.category}] {case.group}: {case.name}: {outcome.detail}")
    print(f"({time.perf_counter() - started:.0f} s)")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _table(results: list) -> None:
    groups = list(dict.fromkeys(case.group for case, _ in results))
    skipped = sum(o.category == "skipped" for _, o in results)
    header = ["group", "cases", *CATEGORIES]
    print("\n| " + " | ".join(header) + " |")
    print("|---|" + "---:|" * (len(header) - 1))
    for group in [*groups, "all"]:
        counts = Counter(
            o.category
            for c, o in results
            if (group == "all" or c.group == group) and o.category != "skipped"
        )
        name = f"**{group}**" if group == "all" else group
        row = [name, str(sum(counts.values())), *(str(counts[c]) for c in CATEGORIES)]
        print("| " + " | ".join(row) + " |")
    if skipped:
        why = sorted({o.detail for _, o in results if o.category == "skipped"})
        print(f"\n{skipped} case(s) skipped: {json.dumps(why)}")


if __name__ == "__main__":
    sys.exit(main())
