"""Side-by-side comparison of scenarios with common random numbers.

Every scenario runs with the same replicate seeds (``SeedSequence(seed).spawn(n)``)
and, where the worlds are alike, on the same world object, so replicate ``i`` of
scenario B differs from replicate ``i`` of scenario A only by what the scenarios
change. Differences are then paired: their interval is far narrower than the
intervals of the two means, and a scenario compared with itself differs by
exactly zero.

Intervals are 95% t-intervals of the mean over replicates (they shrink like
1/sqrt(replicates)); the chart's bands show the spread of the replicates
themselves (5th to 95th percentile), which does not shrink.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from diffusion_sim.errors import InputError
from diffusion_sim.outcomes import OUTCOME_NAMES
from diffusion_sim.scenario import Scenario
from diffusion_sim.simulation import Engine, build_world, simulate
from diffusion_sim.world import World

MODES: dict[str, tuple[str, ...]] = {
    "horizontal": ("innovation", "horizontal"),
    "vertical": ("innovation", "vertical"),
    "hierarchical": ("innovation", "hierarchical"),
    "embedded": ("innovation", "horizontal", "vertical", "hierarchical"),
}
"""Kern's four types of upscaling as sets of mechanisms (abandonment as in the scenario)."""


def t_interval(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float, int]:
    """Mean and two-sided t-interval of the mean of the finite values; NaN below two."""
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    n = len(values)
    if n == 0:
        return float("nan"), float("nan"), float("nan"), 0
    mean = float(values.mean())
    if n < 2:
        return mean, float("nan"), float("nan"), n
    half = float(special.stdtrit(n - 1, 0.5 + level / 2) * values.std(ddof=1) / np.sqrt(n))
    return mean, mean - half, mean + half, n


def mode_scenarios(scenario: Scenario) -> dict[str, Scenario]:
    """The scenario as horizontal only, vertical only, hierarchical only and embedded."""
    return {
        mode: scenario.with_mechanisms(*mechanisms).model_copy(
            update={"name": f"{scenario.name}-{mode}"}
        )
        for mode, mechanisms in MODES.items()
    }


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

    @property
    def table(self) -> pd.DataFrame:
        """Per scenario and outcome: mean and 95% interval; paired difference to the first."""
        rows = []
        first = self.runs[self.runs["scenario"] == self.labels[0]].set_index("replicate")
        for label in self.labels:
            runs = self.runs[self.runs["scenario"] == label].set_index("replicate")
            for outcome in OUTCOME_NAMES:
                mean, low, high, n = t_interval(runs[outcome].to_numpy())
                paired = runs[outcome] - first[outcome].reindex(runs.index)
                diff, diff_low, diff_high, n_diff = t_interval(paired.to_numpy())
                if label != self.labels[0] and n_diff >= 2 and np.all(paired.dropna() == 0):
                    diff_low = diff_high = 0.0
                rows.append(
                    {
                        "scenario": label,
                        "outcome": outcome,
                        "mean": mean,
                        "ci_low": low,
                        "ci_high": high,
                        "n": n,
                        "diff": diff,
                        "diff_low": diff_low,
                        "diff_high": diff_high,
                        "n_diff": n_diff,
                    }
                )
        return pd.DataFrame(rows)

    def format(self, outcomes: Sequence[str] | None = None) -> str:
        """The table as text: one line per outcome, one column per scenario."""
        table = self.table
        names = list(outcomes or OUTCOME_NAMES)
        width = max(len(n) for n in names)
        head = f"{'outcome':<{width}}  " + "  ".join(f"{label:<44}" for label in self.labels)
        lines = [head, "-" * len(head)]
        for outcome in names:
            cells = []
            for i, label in enumerate(self.labels):
                row = table[(table["scenario"] == label) & (table["outcome"] == outcome)].iloc[0]
                cell = f"{_num(row['mean'])} [{_num(row['ci_low'])}, {_num(row['ci_high'])}]"
                if i:
                    low, high = _num(row["diff_low"]), _num(row["diff_high"])
                    cell += f" Δ{_signed(row['diff'])} [{low}, {high}]"
                cells.append(f"{cell:<44}")
            lines.append(f"{outcome:<{width}}  " + "  ".join(cells))
        return "\n".join(lines)

    def plot(self, path: str | Path) -> Path:
        """Adoption curves (mean) with the replicates' 5-95% band, scenarios side by side."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), constrained_layout=True)
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
        for ax, what in zip(axes, ("cities", "population"), strict=True):
            ax.set(xlabel="step", ylabel=f"share of {what} adopted", ylim=(0, 1.02))
            ax.set_title(f"{what}: mean and 5-95% of {self.replicates} replicates")
        axes[0].legend(loc="upper left", fontsize=8)
        path = Path(path)
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return path

    def save(self, folder: str | Path) -> Path:
        """Tables as CSV and Parquet, the chart, and a manifest written last."""
        from diffusion_sim.results import staged, write_manifest

        folder = Path(folder)
        with staged(folder) as staging:
            tables = (("outcomes", self.table), ("runs", self.runs), ("curves", self.curves))
            for name, frame in tables:
                frame.to_csv(staging / f"{name}.csv", index=False)
                frame.to_parquet(staging / f"{name}.parquet", index=False)
            self.plot(staging / "curves.png")
            write_manifest(staging, self.manifest)
        return folder


def _num(x: float) -> str:
    return "nan" if x != x else f"{x:.3g}"


def _signed(x: float) -> str:
    return "nan" if x != x else f"{x:+.3g}"


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
        "interval": "95% t-interval of the mean over replicates; differences paired by replicate",
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
    return compare(
        mode_scenarios(scenario), replicates, seed, engine=engine, world=world, steps=steps
    )
