"""The numbers of docs/whatif.md, from the code: run the worked study and write its block.

    python docs/whatif_numbers.py           # run the study; rewrite the block and the chart
    python docs/whatif_numbers.py --check   # exit 1 if the doc's block is not what the code gives

The block holds the study's two files as they are, the tables (cells formatted as
``diffusion-sim compare`` prints them), the sentences that state its results (each
worded from the numbers), and the command's whole output. ``tests/test_whatif_doc.py``
runs ``--check``'s comparison, so the doc cannot drift from the code.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "whatif.md"
STUDY = ROOT / "docs" / "whatif" / "study.toml"
SCENARIO = ROOT / "docs" / "whatif" / "nations_withdraw.toml"
CHART = ROOT / "docs" / "whatif" / "curves.png"
BEGIN = "<!-- numbers: written by docs/whatif_numbers.py; do not edit by hand -->"
END = "<!-- end of numbers -->"
SHOWN = (
    "governments_nation",
    "share_cities",
    "share_laggards",
    "adopters_vertical",
    "adopters_hierarchical",
    "abandonments",
    "time_to_50pct",
)
"""Rows of the tables in the doc (the whole output is below them)."""


def run_study():
    """The study's comparison as the file says (between) and at its last step."""
    from diffusion_sim.record.outcomes import Window
    from diffusion_sim.studies.compare_file import load_compare_file
    from diffusion_sim.studies.comparison import compare

    study = load_compare_file(STUDY)
    spec = study.spec
    change = compare(study.scenarios, spec.replicates, spec.seed, window=study.window)
    end = compare(study.scenarios, spec.replicates, spec.seed, window=Window(at=spec.between[1]))
    return study, change, end


def nations_of(scenario) -> int:
    """How many nations the scenario's world has (its governments of level nation)."""
    from diffusion_sim.model.setup import build_setup
    from diffusion_sim.scenario import LEVELS
    from diffusion_sim.simulation import build_world

    setup = build_setup(scenario, build_world(scenario), np.random.default_rng(0))
    return int((setup.gov_level == LEVELS.index("nation")).sum())


def _rows(comparison, label: str) -> dict:
    table = comparison.table
    return {r["outcome"]: r for _, r in table[table["scenario"] == label].iterrows()}


def _markdown(comparison, labels: list[str], outcomes) -> list[str]:
    from diffusion_sim.record.survival import format_p
    from diffusion_sim.studies.comparison_text import cell

    first, other = (_rows(comparison, label) for label in labels)
    lines = [
        f"| outcome | {labels[0]} | {labels[1]} | Δ [95% interval] | p |",
        "|---|---|---|---|---|",
    ]
    for name in outcomes:
        if name not in first:
            continue
        row = other[name]
        p = format_p(row["p"]) if row["p"] == row["p"] else "-"
        lines.append(
            f"| `{name}` | {cell(first[name], False)} | {cell(row, False)} | "
            f"{cell(row, True)} | {p} |"
        )
    return lines


def _direction(row, what: str) -> str:
    """'lower' / 'higher' when the paired interval excludes 0, else 'no clear change'."""
    low, high = row["diff_low"], row["diff_high"]
    if low > 0:
        return f"higher {what}"
    if high < 0:
        return f"lower {what}"
    return f"no clear change in {what} (the interval holds 0)"


def sentences(study, change, end) -> list[str]:
    """The results in words, each from the numbers it states."""
    from diffusion_sim.record.survival import format_p
    from diffusion_sim.studies.comparison_text import number

    first, other = change.labels
    a, b = study.spec.between
    nations = nations_of(study.scenarios[other])
    end_a, end_b = _rows(end, first), _rows(end, other)
    chg_a, chg_b = _rows(change, first), _rows(change, other)
    reps = change.replicates
    share = end_b["share_cities"]
    half_a, half_b = end_a["time_to_50pct"], end_b["time_to_50pct"]

    def months(row) -> str:
        never = round(row["never"] * row["n"])
        got = f"{never} of {row['n']} never got there" if never else f"all {row['n']} got there"
        if np.isinf(row["median"]):
            return f"no median within {b} months ({got})"
        return f"a median of {row['median']:.0f} months ({got})"

    return [
        f"- The world has {nations} nations. As is, {number(end_a['governments_nation']['mean'])} "
        f"of them have adopted at month {b} (mean of {reps} replicates), "
        f"{number(chg_a['governments_nation']['mean'], True)} of those since month {a}; after "
        f"the withdrawal {number(end_b['governments_nation']['mean'])}: the one level-wide event "
        f"with `until = {b}` "
        + (
            "keeps every nation out."
            if end_b["governments_nation"]["ci_high"] == 0
            else "does not keep every nation out."
        ),
        f"- Cities: {end_a['share_cities']['mean']:.1%} adopted at month {b} as is, "
        f"{share['mean']:.1%} after the withdrawal, {_direction(share, 'adoption')} "
        f"(Δ {share['diff']:+.3f} [{share['diff_low']:+.3f}, {share['diff_high']:+.3f}], "
        f"paired Wilcoxon p {format_p(share['p'])}).",
        f"- Mandated adoptions between months {a} and {b}: "
        f"{chg_a['adopters_hierarchical']['mean']:.0f} as is, "
        f"{chg_b['adopters_hierarchical']['mean']:.0f} after the withdrawal; abandonments "
        f"{chg_a['abandonments']['mean']:.0f} and {chg_b['abandonments']['mean']:.0f}: "
        f"{_direction(chg_b['abandonments'], 'abandonment')} after the withdrawal, which ends "
        "the nations' mandates.",
        f"- Time to half the cities (Kaplan–Meier over the {reps} replicates, censored at "
        f"month {b}): {months(half_a)} as is, {months(half_b)} after the withdrawal.",
    ]


def block(study=None, change=None, end=None) -> str:
    """The doc's generated block, from a fresh run of the study unless one is given."""
    if study is None:
        study, change, end = run_study()
    labels = list(change.labels)
    a, b = study.spec.between
    lines = [
        BEGIN,
        "",
        "`docs/whatif/study.toml`:",
        "",
        "```toml",
        STUDY.read_text(encoding="utf-8").rstrip(),
        "```",
        "",
        "`docs/whatif/nations_withdraw.toml`:",
        "",
        "```toml",
        SCENARIO.read_text(encoding="utf-8").rstrip(),
        "```",
        "",
        f"At month {b}, {change.replicates} replicates each on common seeds (root "
        f"{change.seed}), `diffusion-sim compare docs/whatif/study.toml --at {b}`:",
        "",
        *_markdown(end, labels, SHOWN),
        "",
        f"Change from month {a} to month {b}, `diffusion-sim compare docs/whatif/study.toml` "
        "(the file's `between`; a time to a level has no change):",
        "",
        *_markdown(change, labels, SHOWN),
        "",
        *sentences(study, change, end),
        "",
        "<details><summary>The whole output of <code>diffusion-sim compare "
        "docs/whatif/study.toml</code></summary>",
        "",
        "```text",
        change.format(),
        "```",
        "",
        "</details>",
        "",
        END,
    ]
    return "\n".join(lines)


def _doc_block(text: str) -> str:
    start, stop = text.index(BEGIN), text.index(END) + len(END)
    return text[start:stop]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare only; exit 1 if stale")
    args = parser.parse_args(argv)
    study, change, end = run_study()
    fresh = block(study, change, end)
    text = DOC.read_text(encoding="utf-8")
    if args.check:
        if _doc_block(text) != fresh:
            print(f"{DOC} is stale: run python docs/whatif_numbers.py", file=sys.stderr)
            return 1
        print(f"{DOC}: its numbers are the code's")
        return 0
    DOC.write_text(text.replace(_doc_block(text), fresh), encoding="utf-8")
    end.plot(CHART)
    print(f"wrote the numbers of {DOC} and {CHART}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
