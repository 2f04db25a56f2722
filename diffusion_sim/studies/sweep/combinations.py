"""A grid sweep's answer to its own question: the outcomes of every combination.

One row per point of the grid (a combination of the parameters' values): its
successful runs, and for each outcome the mean over its replicates with the 95%
expanded bootstrap interval (:mod:`diffusion_sim.record.statistics`, shares kept
within [0, 1]); a time to a level is the Kaplan–Meier median over the replicates
with its interval and the share that never got there, censored at the window's end
(:mod:`diffusion_sim.record.survival`), never a mean over the runs that got there.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from diffusion_sim.record.outcomes import kind_of
from diffusion_sim.record.statistics import BOOTSTRAP_SEED, bootstrap_interval
from diffusion_sim.record.survival import time_to_level
from diffusion_sim.studies.sweep.data import SweepData, horizon_of

SHOWN = 4
"""Outcomes printed per combination when none are asked for (the CSV holds them all)."""


def combination_table(data: SweepData) -> pd.DataFrame:
    """Each combination's parameters, runs and every outcome with its 95% interval.

    Columns per outcome: ``<name>`` (mean, or Kaplan–Meier median for a time),
    ``<name>_low``, ``<name>_high``, and for a time ``<name>_never``.
    """
    columns = data.columns
    steps_column = next(
        (p["column"] for p in data.plan["parameters"] if p["key"] == "run.steps"), None
    )
    base_steps = data.plan["base_scenario"]["run"]["steps"]
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    ok = data.ok
    rows = []
    for point in range(data.plan["points"]):
        design = data.design.loc[data.design["point"] == point, columns].iloc[0]
        runs = ok[ok["point"] == point]
        row = {"point": point, **design.to_dict(), "runs": len(runs)}
        steps = float(design[steps_column]) if steps_column else base_steps
        for name in data.outcomes:
            values = runs[name].to_numpy(dtype=np.float64)
            if kind_of(name) == "time_to":
                found = time_to_level(values, horizon_of(data, steps))
                row |= {
                    name: found.median,
                    f"{name}_low": found.low,
                    f"{name}_high": found.high,
                    f"{name}_never": found.never,
                }
            else:
                mean, low, high, _ = bootstrap_interval(values, rng)
                row |= {name: mean, f"{name}_low": low, f"{name}_high": high}
        rows.append(row)
    return pd.DataFrame(rows)


def _cell(row: pd.Series, name: str) -> str:
    value, low, high = row[name], row[f"{name}_low"], row[f"{name}_high"]
    if kind_of(name) == "time_to":
        never = f" never {row[f'{name}_never']:.0%}"
        if not np.isfinite(value):
            return f"not reached{never}"
        top = "inf" if not np.isfinite(high) else f"{high:g}"
        return f"{value:g} [{low:g}, {top}]{never}"
    if np.isnan(value):
        return "undefined"
    digits = 3 if kind_of(name) in ("share", "inequality") else 1
    if np.isnan(low):
        return f"{value:.{digits}f}"
    return f"{value:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def format_combinations(
    data: SweepData, table: pd.DataFrame, shown: list[str] | None = None
) -> str:
    """The table as text: parameters, runs, and ``shown`` outcomes as mean [95% interval]."""
    shown = shown or data.outcomes[:SHOWN]
    heads = [*data.columns, "runs", *shown]
    cells = [
        [str(row[c]) for c in data.columns] + [str(row["runs"])] + [_cell(row, n) for n in shown]
        for _, row in table.iterrows()
    ]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(heads)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(heads, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(line.rstrip() for line in lines)
