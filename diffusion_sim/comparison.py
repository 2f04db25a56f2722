"""Side-by-side comparison of scenarios with common random numbers.

Every scenario runs with the same replicate seeds (``SeedSequence(seed).spawn(n)``)
and, where the worlds are alike, on the same world object, so replicate ``i`` of
scenario B differs from replicate ``i`` of scenario A only by what the scenarios
change. Differences are then paired: their interval is far narrower than the
intervals of the two means, and a scenario compared with itself differs by
exactly zero.

Intervals are 95% (expanded) bootstrap percentile intervals of the mean over
replicates (:func:`bootstrap_interval`, a fixed Generator): they lie within the range of
the replicates, so a share's interval stays within [0, 1] (a t-interval of a
share near 0 reaches below it), and they shrink like 1/sqrt(replicates). A time
to 10/50/90% that some replicates never reach is censored: its mean is over the
replicates that reached it, and the table says in how many of the n it was not
reached. The chart's bands show the spread of the replicates themselves (5th to
95th percentile), which does not shrink.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from diffusion_sim.csv_cells import write_csv
from diffusion_sim.errors import InputError
from diffusion_sim.modes import mode_legend, mode_scenarios
from diffusion_sim.outcomes import OUTCOME_NAMES
from diffusion_sim.scenario import Scenario
from diffusion_sim.simulation import Engine, build_world, simulate
from diffusion_sim.statistics import BOOTSTRAP_SEED, RESAMPLES, bootstrap_interval
from diffusion_sim.world import World

WIDTH = 100
"""Columns the printed table fits in."""
CENSORED = ("time_to_10pct", "time_to_50pct", "time_to_90pct")
"""Outcomes that are NaN in a replicate that never reached the level (censored)."""
SHORT_NAMES = {"adopters_": "ad_", "governments_": "gov_", "time_to_": "t_", "_population": "_pop"}
"""Abbreviations of outcome names in the printed table (listed under it)."""


def _world_key(scenario: Scenario) -> str:
    data = scenario.to_dict()
    return json.dumps(
        {"world": data.get("world"), "networks": data.get("networks")}, sort_keys=True
    )


@dataclass(eq=False)
class Comparison:
    """Outcomes of several scenarios on common seeds, with intervals and paired differences."""

    labels: list[str]
    runs: pd.DataFrame
    """One row per scenario and replicate: every outcome (long-format source of ``table``)."""
    curves: pd.DataFrame
    """Per scenario and step: mean and 5-95% spread of the shares of cities and population."""
    seed: int
    replicates: int
    manifest: dict[str, Any] = field(default_factory=dict)
    legend: dict[str, str] = field(default_factory=dict)
    """Per label: what the scenario switched (printed under the table), e.g. Kern's modes."""

    @property
    def table(self) -> pd.DataFrame:
        """Per scenario and outcome: mean and 95% interval; paired difference to the first.

        ``n`` counts the replicates with a value; ``not_reached`` those in which a time
        to 10/50/90% was never reached (censored: the mean is over the others).
        """
        rng = np.random.default_rng(BOOTSTRAP_SEED)
        rows = []
        first = self.runs[self.runs["scenario"] == self.labels[0]].set_index("replicate")
        for label in self.labels:
            runs = self.runs[self.runs["scenario"] == label].set_index("replicate")
            for outcome in OUTCOME_NAMES:
                values = runs[outcome].to_numpy(dtype=np.float64)
                mean, low, high, n = bootstrap_interval(values, rng)
                paired = (runs[outcome] - first[outcome].reindex(runs.index)).to_numpy()
                diff, diff_low, diff_high, n_diff = bootstrap_interval(paired, rng)
                censored = outcome in CENSORED
                rows.append(
                    {
                        "scenario": label,
                        "outcome": outcome,
                        "mean": mean,
                        "ci_low": low,
                        "ci_high": high,
                        "n": n,
                        "replicates": len(values),
                        "not_reached": int(np.isnan(values).sum()) if censored else 0,
                        "diff": diff,
                        "diff_low": diff_low,
                        "diff_high": diff_high,
                        "n_diff": n_diff,
                    }
                )
        return pd.DataFrame(rows)

    def format(self, outcomes: Sequence[str] | None = None, width: int = WIDTH) -> str:
        """The table as text within ``width`` columns: means, then paired differences.

        Labels longer than a cell become A, B, C ...; long outcome names are
        abbreviated; both are explained under the table, with what each scenario
        switched (``legend``) and the replicates in which a time was not reached.
        """
        table = self.table.set_index(["scenario", "outcome"])
        names = list(outcomes or OUTCOME_NAMES)
        cells = {
            label: [_cell(table.loc[(label, o)], o, diff=False) for o in names]
            for label in self.labels
        }
        diffs = {
            label: [_cell(table.loc[(label, o)], o, diff=True) for o in names]
            for label in self.labels[1:]
        }
        short = [_short(o) for o in names]
        keys = self.labels
        if max(len(label) for label in self.labels) > max(len(c) for c in cells[keys[0]]):
            keys = [_letter(i) for i in range(len(self.labels))]
        name_width = max(len("outcome"), *(len(n) for n in short))
        lines = []
        for title, columns in (
            ("mean [95% interval] over replicates", cells),
            (f"Δ paired difference to {keys[0]} [95% interval]", diffs),
        ):
            if not columns:
                continue
            lines.append(title)
            labels = list(columns)
            cell_width = max(len(c) for column in columns.values() for c in column)
            cell_width = max(cell_width, *(len(keys[self.labels.index(la)]) for la in labels))
            per_block = max(1, (width - name_width) // (cell_width + 2))
            for b in range(0, len(labels), per_block):
                block = labels[b : b + per_block]
                head = f"{'outcome':<{name_width}}" + "".join(
                    f"  {keys[self.labels.index(label)]:<{cell_width}}" for label in block
                )
                head = head.rstrip()
                lines += [head, "-" * len(head)]
                for k, name in enumerate(short):
                    row = "".join(f"  {columns[label][k]:<{cell_width}}" for label in block)
                    lines.append(f"{name:<{name_width}}{row}".rstrip())
            lines.append("")
        notes = []
        if any(" *" in c for column in cells.values() for c in column):
            notes.append(
                "*k: not reached in k of the replicates (censored; the mean is over the others)"
            )
        used = sorted({(a, b) for a, b in SHORT_NAMES.items() if any(a in n for n in names)})
        if used:
            notes.append("names: " + ", ".join(f"{b} = {a}" for a, b in used))
        for key, label in zip(keys, self.labels, strict=True):
            said = self.legend.get(label, "")
            if key != label or said:
                notes.append(f"{key}{' = ' + label if key != label else ''}: {said}".rstrip(": "))
        wrapped = [textwrap.fill(n, width, subsequent_indent="    ") for n in notes]
        return "\n".join(lines + wrapped).rstrip()

    def plot(self, path: str | Path) -> Path:
        """Adoption curves (mean) with the replicates' 5-95% band, scenarios side by side."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from diffusion_sim.plotting import FONT_SIZE, legend_outside, time_axis

        run = self.manifest.get("scenarios", {}).get(self.labels[0], {}).get("run", {})
        fig, axes = plt.subplots(1, 2, figsize=(13, 4.8), constrained_layout=True)
        for label in self.labels:
            part = self.curves[self.curves["scenario"] == label]
            for ax, column in zip(axes, ("share_cities", "share_population"), strict=True):
                (line,) = ax.plot(part["step"], part[f"{column}_mean"], label=label)
                ax.fill_between(
                    part["step"],
                    part[f"{column}_p5"],
                    part[f"{column}_p95"],
                    color=line.get_color(),
                    alpha=0.2,
                )
        last = float(self.curves["step"].max()) if len(self.curves) else None
        for ax, what in zip(axes, ("cities", "population"), strict=True):
            time_axis(ax, run.get("step_unit"), run.get("start"), last)
            ax.set_ylabel(f"share of {what} adopted", fontsize=FONT_SIZE + 1)
            ax.set_ylim(0, 1.02)
            ax.set_title(
                f"{what}: mean and 5-95% of {self.replicates} replicates", fontsize=FONT_SIZE + 1
            )
            ax.tick_params(labelsize=FONT_SIZE)
        legend_outside(axes[-1], "right")
        path = Path(path)
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return path

    def save(self, folder: str | Path) -> Path:
        """Tables as CSV and Parquet, the chart, and a manifest written last."""
        from diffusion_sim.storage import staged, write_manifest

        folder = Path(folder)
        with staged(folder) as staging:
            tables = (("outcomes", self.table), ("runs", self.runs), ("curves", self.curves))
            for name, frame in tables:
                write_csv(frame, staging / f"{name}.csv", index=False)
                frame.to_parquet(staging / f"{name}.parquet", index=False)
            self.plot(staging / "curves.png")
            write_manifest(staging, self.manifest)
        return folder


def _num(x: float, signed: bool = False, share: bool = False) -> str:
    """Shares to 3 decimals, other numbers to 3 significant digits (integers from 100)."""
    if x != x:
        return "-"
    sign = "+" if signed and x > 0 else ""
    if x == 0:
        return "0"
    if abs(x) >= 100:
        return f"{sign}{x:.0f}"
    if share and abs(x) < 1:
        return f"{sign}{x:.3f}"
    return f"{sign}{float(f'{x:.3g}'):g}"


def _cell(row: pd.Series, outcome: str, diff: bool) -> str:
    """'mean [low, high]', with '*k' when a time was not reached in k replicates."""
    if diff:
        mean, low, high = row["diff"], row["diff_low"], row["diff_high"]
    else:
        mean, low, high = row["mean"], row["ci_low"], row["ci_high"]
    missing = int(row["not_reached"])
    if missing and missing == row["replicates"]:
        return f"not reached {missing}/{missing}"
    share = outcome.startswith("share_") or outcome == "country_gini"
    text = _num(mean, diff, share)
    if low == low:
        text += f" [{_num(low, diff, share)},{_num(high, diff, share)}]"
    return text + (f" *{missing}" if missing and not diff else "")


def _short(outcome: str) -> str:
    for long, short in SHORT_NAMES.items():
        outcome = outcome.replace(long, short)
    return outcome


def _letter(i: int) -> str:
    return chr(ord("A") + i) if i < 26 else f"S{i + 1}"


def compare(
    scenarios: Sequence[Scenario] | Mapping[str, Scenario],
    replicates: int = 20,
    seed: int | None = None,
    *,
    engine: Engine = "vectorized",
    world: World | None = None,
    steps: int | None = None,
) -> Comparison:
    """Run every scenario on the same replicate seeds and compare their outcomes.

    Parameters
    ----------
    scenarios : sequence of Scenario, or mapping of label to Scenario
        The first is the reference that differences are taken to.
    replicates : int
        Replicates per scenario (the same seeds for each scenario).
    seed : int, optional
        Root seed; defaults to the first scenario's ``run.seed``.
    world : World, optional
        One world for all (else each scenario's own, shared where alike).
    steps : int, optional
        Overrides every scenario's ``run.steps``.

    Examples
    --------
    >>> from diffusion_sim import Scenario
    >>> s = Scenario().with_overrides({"world.n_cities": 200, "run.steps": 10})
    >>> c = compare([s, s], replicates=3, seed=1)  # also ds.compare
    >>> float(c.table.query("outcome == 'share_cities'")["diff"].iloc[1])
    0.0
    """
    if isinstance(scenarios, Mapping):
        labels, items = list(scenarios), list(scenarios.values())
    else:
        items = list(scenarios)
        labels = [s.name for s in items]
        seen: dict[str, int] = {}
        for i, label in enumerate(labels):  # a scenario named twice gets #2, #3 ...
            seen[label] = seen.get(label, 0) + 1
            if seen[label] > 1:
                labels[i] = f"{label}#{seen[label]}"
    if not items:
        raise InputError("compare needs at least one scenario")
    if replicates < 1:
        raise InputError(f"--replicates must be at least 1, got {replicates}")
    root_seed = items[0].run.seed if seed is None else seed
    children = np.random.SeedSequence(root_seed).spawn(replicates)
    worlds: dict[str, World] = {}
    runs, curves = [], []
    for label, scenario in zip(labels, items, strict=True):
        if world is not None:
            scenario_world = world
        else:
            key = _world_key(scenario)
            if key not in worlds:
                worlds[key] = build_world(scenario, seed=root_seed)
            scenario_world = worlds[key]
        series = []
        for i, child in enumerate(children):
            # A fresh SeedSequence with the child's identity: spawn() state is not shared.
            seq = np.random.SeedSequence(child.entropy, spawn_key=child.spawn_key)
            result = simulate(scenario, seq, engine=engine, world=scenario_world, steps=steps)
            runs.append({"scenario": label, "replicate": i, **result.outcomes()})
            series.append(
                result.timeseries[["step", "share_cities", "share_population"]].assign(replicate=i)
            )
        stacked = pd.concat(series, ignore_index=True)
        grouped = stacked.groupby("step")[["share_cities", "share_population"]]
        band = pd.concat(
            {"mean": grouped.mean(), "p5": grouped.quantile(0.05), "p95": grouped.quantile(0.95)},
            axis=1,
        )
        band.columns = [f"{col}_{stat}" for stat, col in band.columns]
        curves.append(band.reset_index().assign(scenario=label))
    manifest = {
        "kind": "comparison",
        "scenarios": {label: s.to_dict() for label, s in zip(labels, items, strict=True)},
        "scenario_files": {label: s.source for label, s in zip(labels, items, strict=True)},
        "seed": {"root": root_seed, "replicates": replicates, "common_random_numbers": True},
        "engine": engine,
        "interval": f"95% expanded bootstrap percentile interval of the mean over replicates "
        f"({RESAMPLES} resamples, Generator seed {BOOTSTRAP_SEED}); differences paired by "
        "replicate; times to a level not reached in a replicate are censored (left out)",
    }
    return Comparison(
        labels=labels,
        runs=pd.DataFrame(runs),
        curves=pd.concat(curves, ignore_index=True),
        seed=root_seed,
        replicates=replicates,
        manifest=manifest,
    )


def compare_modes(
    scenario: Scenario,
    replicates: int = 20,
    seed: int | None = None,
    *,
    engine: Engine = "vectorized",
    steps: int | None = None,
) -> Comparison:
    """Kern's typology on one chart: the scenario's four modes on one world and one seed set."""
    world = build_world(scenario, seed=scenario.run.seed if seed is None else seed)
    comparison = compare(
        mode_scenarios(scenario), replicates, seed, engine=engine, world=world, steps=steps
    )
    comparison.legend = mode_legend(scenario)
    comparison.manifest["modes"] = comparison.legend
    return comparison
