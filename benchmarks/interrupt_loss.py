"""Finished replicates lost when ``run --replicates`` is interrupted: the reliability figure.

Starts ``diffusion-sim run embedded --replicates 20`` (5,000 cities) again and
again, sends SIGINT or SIGKILL at a random moment, counts the replicates that
were complete on disk just before the signal and those still there after it,
then reruns the same command and checks that it resumes the same folder and
ends complete with the tables of an uninterrupted run.

    python benchmarks/interrupt_loss.py            # 10 interrupts, as in the issue
    python benchmarks/interrupt_loss.py --trials 4 --replicates 8
"""

from __future__ import annotations

import argparse
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent


def command(out: Path, replicates: int) -> list[str]:
    return [sys.executable, "-m", "diffusion_sim", "run", "embedded", "--replicates"] + [
        str(replicates),
        "--out",
        str(out),
    ]


def finished(folder: Path) -> set[str]:
    return {p.parent.name for p in folder.glob("replicate-*/manifest.json")}


def tables(folder: Path) -> dict[str, pd.DataFrame]:
    return {n: pd.read_parquet(folder / f"{n}.parquet") for n in ("timeseries", "summaries")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--replicates", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2026, help="seed of the signal moments")
    args = parser.parse_args()
    draw = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as scratch:
        reference_out = Path(scratch) / "straight"
        started = time.perf_counter()
        subprocess.run(
            command(reference_out, args.replicates), cwd=ROOT, check=True, capture_output=True
        )
        straight_s = time.perf_counter() - started
        reference = tables(next(reference_out.iterdir()))
        print(f"uninterrupted run: {straight_s:.1f} s wall for {args.replicates} replicates")
        print(
            f"{'trial':>5} {'signal':>7} {'at s':>6} {'done before':>11} {'kept':>5} "
            f"{'lost':>5} {'resumed same folder':>20} {'tables equal':>13}"
        )
        lost_total = done_total = 0
        for trial in range(args.trials):
            out = Path(scratch) / f"trial-{trial}"
            signum = draw.choice([signal.SIGINT, signal.SIGKILL])
            process = subprocess.Popen(
                command(out, args.replicates),
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            # The moment counts from when the ensemble's folder appears (imports and the
            # world's build come first), within the first 70% of an uninterrupted run.
            while process.poll() is None and not list(out.glob("embedded-*/incomplete.json")):
                time.sleep(0.01)
            moment = draw.uniform(0.0, 0.7 * straight_s)
            deadline = time.monotonic() + moment
            before: set[str] = set()
            while time.monotonic() < deadline and process.poll() is None:
                folders = list(out.glob("embedded-*")) if out.exists() else []
                before = finished(folders[0]) if folders else set()
                time.sleep(0.01)
            process.send_signal(signum)
            process.wait()
            folders = list(out.glob("embedded-*")) if out.exists() else []
            kept = finished(folders[0]) if folders else set()
            lost = len(before - kept)
            if folders and (folders[0] / "manifest.json").exists():
                same = "finished first"  # the signal came after the manifest: nothing to resume
                final = folders[0]
            else:
                subprocess.run(
                    command(out, args.replicates), cwd=ROOT, check=True, capture_output=True
                )
                after = list(out.glob("embedded-*"))
                same = str(len(after) == 1 and (not folders or after[0] == folders[0]))
                final = after[0]
            equal = all(tables(final)[name].equals(table) for name, table in reference.items())
            lost_total += lost
            done_total += len(before)
            print(
                f"{trial:>5} {signal.Signals(signum).name:>7} {moment:>6.1f} "
                f"{len(before):>11} {len(kept):>5} {lost:>5} {same:>20} {equal!s:>13}"
            )
        print(f"finished replicates lost: {lost_total} of {done_total} done before a signal")


if __name__ == "__main__":
    main()
