"""A comparison's table as text (within 100 columns) and as LaTeX for a paper.

The kind of each outcome comes from the registry (:mod:`diffusion_sim.record.outcomes`):
shares print to 3 decimals, counts to 3 significant digits, times to a level as
Kaplan–Meier medians with how many replicates never got there, p-values as
``< 0.001`` rather than ``0``.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from diffusion_sim.record.outcomes import kind_of, label_of, unit_of
from diffusion_sim.record.survival import format_p

if TYPE_CHECKING:
    from diffusion_sim.studies.comparison import Comparison

SHORT_NAMES = {"adopters_": "ad_", "governments_": "gov_", "time_to_": "t_", "_population": "_pop"}
"""Abbreviations of outcome names in the printed table (listed under it)."""


def number(x: float, signed: bool = False, share: bool = False) -> str:
    """Shares to 3 decimals, other numbers to 3 significant digits (integers from 100)."""
    if x != x:
        return "-"
    if math.isinf(x):
        return "inf"
    sign = "+" if signed and x > 0 else ""
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{sign}{x:.0f}"
    if share and abs(x) < 1:
        return f"{sign}{x:.3f}"
    return f"{sign}{float(f'{x:.3g}'):g}"


def cell(row: pd.Series, diff: bool) -> str:
    """'mean [low,high]'; for a time, 'median [low,high] never k/n' or '> H (never k/n)'."""
    kind = row["kind"]
    share = kind in ("share", "inequality")
    if kind == "time_to":
        if diff:
            return "-" if not math.isfinite(row["diff"]) else number(row["diff"], True) + " (med.)"
        never = round(row["never"] * row["n"])
        tail = f"never {never}/{row['n']}" if never else ""
        if math.isinf(row["median"]):
            return f"> {number(row['censored_at'])} ({tail})"
        text = f"{number(row['median'])} [{number(row['ci_low'])},{number(row['ci_high'])}]"
        return f"{text} {tail}".rstrip()
    if diff:
        mean, low, high = row["diff"], row["diff_low"], row["diff_high"]
    else:
        mean, low, high = row["mean"], row["ci_low"], row["ci_high"]
    text = number(mean, diff, share)
    if low == low:
        text += f" [{number(low, diff, share)},{number(high, diff, share)}]"
    return text


def short(outcome: str) -> str:
    for long, abbreviation in SHORT_NAMES.items():
        outcome = outcome.replace(long, abbreviation)
    return outcome


def letter(i: int) -> str:
    return chr(ord("A") + i) if i < 26 else f"S{i + 1}"


def _blocks(
    columns: dict[str, list[str]], keys: dict[str, str], names: list[str], width: int
) -> list[str]:
    """Columns of cells side by side, as many per block as fit in ``width``."""
    name_width = max(len("outcome"), *(len(n) for n in names))
    labels = list(columns)
    cell_width = max(len(c) for column in columns.values() for c in column)
    cell_width = max(cell_width, *(len(keys[la]) for la in labels))
    per_block = max(1, (width - name_width) // (cell_width + 2))
    lines = []
    for b in range(0, len(labels), per_block):
        block = labels[b : b + per_block]
        head = f"{'outcome':<{name_width}}" + "".join(f"  {keys[la]:<{cell_width}}" for la in block)
        lines += [head.rstrip(), "-" * len(head.rstrip())]
        for k, name in enumerate(names):
            row = "".join(f"  {columns[la][k]:<{cell_width}}" for la in block)
            lines.append(f"{name:<{name_width}}{row}".rstrip())
    return lines


def format_comparison(
    comparison: Comparison, outcomes: Sequence[str] | None = None, width: int = 100
) -> str:
    """Means (medians for times), paired differences to the first scenario, p-values.

    Labels longer than a cell become A, B, C ...; long outcome names are
    abbreviated; both are explained under the table, with what each scenario
    switched (``legend``).
    """
    table = comparison.table.set_index(["scenario", "outcome"])
    labels = comparison.labels
    names = list(outcomes or comparison.outcomes)
    means = {la: [cell(table.loc[(la, o)], diff=False) for o in names] for la in labels}
    diffs = {la: [cell(table.loc[(la, o)], diff=True) for o in names] for la in labels[1:]}
    ps = {la: [format_p(table.loc[(la, o), "p"]) for o in names] for la in labels[1:]}
    keys = {la: la for la in labels}
    if max(len(la) for la in labels) > max(len(c) for c in means[labels[0]]):
        keys = {la: letter(i) for i, la in enumerate(labels)}
    first = keys[labels[0]]
    lines = [f"{comparison.window.describe()}; mean [95% interval] over replicates"]
    lines += _blocks(means, keys, [short(n) for n in names], width) + [""]
    if diffs:
        lines.append(f"Δ paired difference to {first} [95% interval]")
        lines += _blocks(diffs, keys, [short(n) for n in names], width) + [""]
        lines.append(f"p: difference to {first} (paired Wilcoxon; log-rank for times)")
        lines += _blocks(ps, keys, [short(n) for n in names], width) + [""]
    notes = []
    if any(kind_of(n) == "time_to" for n in names):
        notes.append(
            "t_: Kaplan-Meier median time [95% interval] over the replicates, censored at "
            "the window's end; never k/n: replicates that never got there; '> H': fewer "
            "than half got there by step H"
        )
    used = sorted({(a, b) for a, b in SHORT_NAMES.items() if any(a in n for n in names)})
    if used:
        notes.append("names: " + ", ".join(f"{b} = {a}" for a, b in used))
    for label in labels:
        said = comparison.legend.get(label, "")
        if keys[label] != label or said:
            named = f" = {label}" if keys[label] != label else ""
            notes.append(f"{keys[label]}{named}: {said}".rstrip(": "))
    wrapped = [textwrap.fill(n, width, subsequent_indent="    ") for n in notes]
    return "\n".join(lines + wrapped).rstrip()


def latex_table(comparison: Comparison, outcomes: Sequence[str] | None = None) -> str:
    """The comparison as a LaTeX tabular (pandas' Styler.to_latex), one row per outcome."""
    table = comparison.table.set_index(["scenario", "outcome"])
    names = list(outcomes or comparison.outcomes)
    rows = {}
    for name in names:
        row = {"unit": unit_of(name)}
        for label in comparison.labels:
            row[label] = cell(table.loc[(label, name)], diff=False)
            if label != comparison.labels[0]:
                row[f"Δ {label}"] = cell(table.loc[(label, name)], diff=True)
                row[f"p {label}"] = format_p(table.loc[(label, name), "p"])
        rows[label_of(name)] = row
    frame = pd.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "outcome"
    caption = (
        f"Outcomes {comparison.window.describe()}: mean [95% interval] over "
        f"{comparison.replicates} replicates; times: Kaplan-Meier median; "
        "Δ: paired difference to the first scenario."
    )
    return (
        frame.style.format(escape="latex")
        .format_index(escape="latex")
        .to_latex(caption=caption, hrules=True)
    )
