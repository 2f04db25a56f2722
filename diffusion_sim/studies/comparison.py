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
to 10/50/90% is censoring-aware: the Kaplan–Meier median over the replicates
with its 95% interval, and how many never got there within the window
(:mod:`diffusion_sim.record.survival`), never a mean over the replicates that did.
p-values: paired Wilcoxon signed-rank tests of the differences (scipy), log-rank
tests for times (statsmodels). The chart's bands show the spread of the replicates
themselves (5th to 95th percentile), which does not shrink.

A window (:class:`Window`): outcomes at a step (``at``) or their change between
two steps (``between``), every replicate measured on the same steps.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from diffusion_sim.errors import InputError
from diffusion_sim.record.csv_cells import write_csv
from diffusion_sim.record.outcomes import Window, WorldFacts, kind_of
from diffusion_sim.record.statistics import BOOTSTRAP_SEED, RESAMPLES, bootstrap_interval
from diffusion_sim.record.survival import logrank_p, time_to_level, wilcoxon_p
from diffusion_sim.scenario import Scenario
from diffusion_sim.simulation import Engine, build_world, run_trajectory
from diffusion_sim.studies.modes import mode_legend, mode_scenarios
from diffusion_sim.world import World

WIDTH = 100
"""Columns the printed table fits in."""


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
    """Per scenario and step: mean and 5-95% spread of the shares (overall, by rung) and of
    the adopters by channel."""
    seed: int
    replicates: int
    manifest: dict[str, Any] = field(default_factory=dict)
    legend: dict[str, str] = field(default_factory=dict)
    """Per label: what the scenario switched (printed under the table), e.g. Kern's modes."""
    window: Window = field(default_factory=Window)
    horizons: dict[str, int] = field(default_factory=dict)
    """Per label: the step a time never reached is censored at (the window's end)."""

    @property
    def outcomes(self) -> list[str]:
        """The outcomes the runs recorded, in the registry's order."""
        return [c for c in self.runs.columns if c not in ("scenario", "replicate")]

    @property
    def table(self) -> pd.DataFrame:
        """Per scenario and outcome: estimate and 95% interval; difference to the first; p.

        Shares, counts and inequality: ``mean`` over replicates with a bootstrap
        interval; ``diff`` the mean paired difference with its interval and ``p`` a
        paired Wilcoxon signed-rank test. Times to a level (no mean): the Kaplan–Meier
        ``median`` (``inf``: fewer than half got there) with its interval, ``never`` the
        share of replicates that never got there within the window, ``diff`` the
        difference of medians and ``p`` a log-rank test.
        """
        rng = np.random.default_rng(BOOTSTRAP_SEED)
        rows = []
        first_label = self.labels[0]
        first = self.runs[self.runs["scenario"] == first_label].set_index("replicate")
        for label in self.labels:
            runs = self.runs[self.runs["scenario"] == label].set_index("replicate")
            for outcome in self.outcomes:
                values = runs[outcome].to_numpy(dtype=np.float64)
                base = first[outcome].reindex(runs.index).to_numpy(dtype=np.float64)
                row = {"scenario": label, "outcome": outcome, "kind": kind_of(outcome)}
                if row["kind"] == "time_to":
                    row |= self._time_row(label, values, first_label, base)
                else:
                    row |= _mean_row(values, values - base, rng, label != first_label)
                rows.append(row)
        return pd.DataFrame(rows)

    def _time_row(self, label: str, values, first_label: str, base) -> dict[str, Any]:
        horizon = self.horizons.get(label, np.nan)
        here = time_to_level(values, horizon)
        there = time_to_level(base, self.horizons.get(first_label, np.nan))
        other = label != first_label
        return {
            "mean": np.nan,
            "median": here.median,
            "ci_low": here.low,
            "ci_high": here.high,
            "n": here.n,
            "never": here.never,
            "censored_at": horizon,
            "diff": here.median - there.median if other else np.nan,
            "diff_low": np.nan,
            "diff_high": np.nan,
            "n_diff": 0,  # a difference of medians: no interval
            "p": logrank_p(values, horizon, base, self.horizons[first_label]) if other else np.nan,
        }

    def format(self, outcomes: Sequence[str] | None = None, width: int = WIDTH) -> str:
        """The table as text within ``width`` columns (:mod:`.comparison_text`)."""
        from diffusion_sim.studies.comparison_text import format_comparison

        return format_comparison(self, outcomes, width)

    def plot(self, path: str | Path, figsize: tuple[float, float] | None = None) -> Path:
        """Curves by scenario: overall, by ladder rung and by channel, the events marked."""
        from diffusion_sim.record.charts import event_marks, plot_comparison

        scenario = self.manifest.get("scenarios", {}).get(self.labels[0], {})
        run = scenario.get("run", {})
        marks = sorted(
            {m for label in self.labels for m in event_marks(self.manifest["scenarios"][label])}
        ) if self.manifest.get("scenarios") else []  # fmt: skip
        return plot_comparison(
            self.curves,
            self.labels,
            path,
            replicates=self.replicates,
            step_unit=run.get("step_unit"),
            start=run.get("start"),
            marks=marks,
            figsize=figsize,
        )

    def save(
        self,
        folder: str | Path,
        *,
        chart_format: str = "png",
        figsize: tuple[float, float] | None = None,
        latex: bool = False,
    ) -> Path:
        """Tables as CSV and Parquet (and LaTeX), the chart, and a manifest written last."""
        from diffusion_sim.record.storage import staged, write_manifest
        from diffusion_sim.studies.comparison_text import latex_table

        folder = Path(folder)
        with staged(folder) as staging:
            tables = (("outcomes", self.table), ("runs", self.runs), ("curves", self.curves))
            for name, frame in tables:
                write_csv(frame, staging / f"{name}.csv", index=False)
                frame.to_parquet(staging / f"{name}.parquet", index=False)
            if latex:
                (staging / "outcomes.tex").write_text(latex_table(self), encoding="utf-8")
            self.plot(staging / f"curves.{chart_format}", figsize)
            write_manifest(staging, self.manifest)
        return folder


def _mean_row(values, paired, rng: np.random.Generator, other: bool) -> dict[str, Any]:
    mean, low, high, n = bootstrap_interval(values, rng)
    diff, diff_low, diff_high, n_diff = bootstrap_interval(paired, rng)
    return {
        "mean": mean,
        "median": np.nan,
        "ci_low": low,
        "ci_high": high,
        "n": n,
        "never": np.nan,
        "censored_at": np.nan,
        "diff": diff,
        "diff_low": diff_low,
        "diff_high": diff_high,
        "n_diff": n_diff,
        "p": wilcoxon_p(paired) if other else np.nan,
    }


def compare(
    scenarios: Sequence[Scenario] | Mapping[str, Scenario],
    replicates: int = 20,
    seed: int | None = None,
    *,
    engine: Engine = "vectorized",
    world: World | None = None,
    steps: int | None = None,
    window: Window | None = None,
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
    window : Window, optional
        Outcomes at a step or their change between two steps (default: the last step).

    Examples
    --------
    >>> from diffusion_sim import Scenario
    >>> s = Scenario().with_overrides({"world.n_cities": 200, "run.steps": 10})
    >>> c = compare([s, s], replicates=3, seed=1)  # also ds.compare
    >>> float(c.table.query("outcome == 'share_cities'")["diff"].iloc[1])
    0.0
    """
    from diffusion_sim.record.charts import CURVE_COLUMNS, band_curves
    from diffusion_sim.record.tables import timeseries_table

    window = window or Window()
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
    horizons = {}
    for label, scenario in zip(labels, items, strict=True):
        run_steps = scenario.run.steps if steps is None else steps
        try:
            window.check(run_steps)
        except ValueError as exc:
            raise InputError(f"{exc} (scenario {label})") from None
        horizons[label] = window.horizon(run_steps)
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
        series, facts = [], None
        for i, child in enumerate(children):
            # A fresh SeedSequence with the child's identity: spawn() state is not shared.
            seq = np.random.SeedSequence(child.entropy, spawn_key=child.spawn_key)
            setup, trajectory = run_trajectory(
                scenario, seq, engine=engine, world=scenario_world, steps=steps
            )
            facts = facts or WorldFacts.of(setup.world)
            values = window.of_events(setup, trajectory, facts)
            runs.append({"scenario": label, "replicate": i, **values})
            frame = timeseries_table(setup, trajectory)
            kept = [c for c in CURVE_COLUMNS if c in frame]
            series.append(frame[["step", *kept]].assign(replicate=i))
        stacked = pd.concat(series, ignore_index=True)
        kept = [c for c in CURVE_COLUMNS if c in stacked]
        curves.append(band_curves(stacked, kept).assign(scenario=label))
    manifest = {
        "kind": "comparison",
        "scenarios": {label: s.to_dict() for label, s in zip(labels, items, strict=True)},
        "scenario_files": {label: s.source for label, s in zip(labels, items, strict=True)},
        "seed": {"root": root_seed, "replicates": replicates, "common_random_numbers": True},
        "engine": engine,
        "window": {"at": window.at, "between": window.between, "says": window.describe()},
        "interval": f"95% expanded bootstrap percentile interval of the mean over replicates "
        f"({RESAMPLES} resamples, Generator seed {BOOTSTRAP_SEED}); differences paired by "
        "replicate, p from a paired Wilcoxon signed-rank test; times to a level: Kaplan-Meier "
        "median with its 95% interval (statsmodels), never-reached replicates censored at the "
        "window's end, p from a log-rank test",
    }
    return Comparison(
        labels=labels,
        runs=pd.DataFrame(runs),
        curves=pd.concat(curves, ignore_index=True),
        seed=root_seed,
        replicates=replicates,
        manifest=manifest,
        window=window,
        horizons=horizons,
    )


def compare_modes(
    scenario: Scenario,
    replicates: int = 20,
    seed: int | None = None,
    *,
    engine: Engine = "vectorized",
    steps: int | None = None,
    window: Window | None = None,
) -> Comparison:
    """Kern's typology on one chart: the scenario's four modes on one world and one seed set."""
    world = build_world(scenario, seed=scenario.run.seed if seed is None else seed)
    comparison = compare(
        mode_scenarios(scenario),
        replicates,
        seed,
        engine=engine,
        world=world,
        steps=steps,
        window=window,
    )
    comparison.legend = mode_legend(scenario)
    comparison.manifest["modes"] = comparison.legend
    return comparison
