"""Re-measure issue 10's bad-input table: every malformed input, and what the CLI did.

Runs the catalogue in ``tests/bad_input/cases.py`` (the same cases
``tests/test_bad_input.py`` checks) through ``diffusion_sim.cli.main``
in-process, each in a fresh folder, and prints per category how many ended
with one clear message and exit code 2, a traceback, nonsense accepted (exit 0),
a hang (no answer within --timeout seconds), or anything else.

Usage: ``python benchmarks/bad_input_table.py [--show unclear,traceback,...]``
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.bad_input.cases import all_cases  # noqa: E402
from tests.bad_input.harness import run_case  # noqa: E402

VERDICTS = ("clean", "traceback", "accepted", "hang", "unclear")
HEADINGS = {
    "clean": "clean error, exit 2",
    "traceback": "traceback",
    "accepted": "nonsense accepted",
    "hang": "hang",
    "unclear": "other (exit 2, message incomplete)",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=30, help="seconds before a case hangs")
    parser.add_argument("--show", default="", help="print cases with these verdicts, e.g. unclear")
    args = parser.parse_args()
    show = set(filter(None, args.show.split(",")))
    counts: dict[str, Counter] = {}
    for case in all_cases():
        with tempfile.TemporaryDirectory() as folder:
            outcome = run_case(case, Path(folder), timeout=args.timeout)
        verdict = outcome.verdict(case)
        counts.setdefault(case.category, Counter())[verdict] += 1
        if verdict in show:
            print(f"[{verdict}] {case.category}: {case.id}: {outcome.problems(case)}")
            print("   ", (outcome.escaped or outcome.stderr).strip().replace("\n", "\n    ")[:600])
    print("| category | cases | " + " | ".join(HEADINGS[v] for v in VERDICTS) + " |")
    print("|---|---:|" + "---:|" * len(VERDICTS))
    total = Counter()
    for category, counter in counts.items():
        total.update(counter)
        cells = " | ".join(str(counter[v]) for v in VERDICTS)
        print(f"| {category} | {sum(counter.values())} | {cells} |")
    cells = " | ".join(str(total[v]) for v in VERDICTS)
    print(f"| **all** | {sum(total.values())} | {cells} |")


if __name__ == "__main__":
    main()
