"""What a calibration reports: values with intervals, channel shares, warnings, files.

The posterior is summarised by each key's median and 90% credible interval, the
same for the share of adoptions by channel, the correlation between keys (in each
key's prior scale), and plain-words warnings when a key is not identified.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import tomli_w

from diffusion_sim.mechanisms.embedded import ADOPTION_CHANNELS
from diffusion_sim.record.csv_cells import write_csv
from diffusion_sim.scenario import Scenario
from diffusion_sim.studies.calibration.abc import Posterior, weighted_corr, weighted_quantiles
from diffusion_sim.studies.calibration.data import ObservedCurve

LEVELS = (0.05, 0.5, 0.95)
WIDE = 1 / 3
"""A key whose 90% interval spans more than this share of its (log) prior is 'not identified'."""
TRADE_OFF = 0.8
"""Keys correlated beyond this (in absolute value) are a trade-off the data cannot split."""
MIN_ESS = 10
"""Below this effective sample size (or a fifth of the particles) the report says so."""


@dataclass(frozen=True)
class Interval:
    median: float
    low: float
    high: float

    def text(self, percent: bool = False) -> str:
        if percent:
            return f"{self.median:.1%} [{self.low:.1%}, {self.high:.1%}]"
        return f"{self.median:.4g} [{self.low:.4g}, {self.high:.4g}]"


def _interval(values: np.ndarray, weights: np.ndarray) -> Interval:
    low, median, high = weighted_quantiles(values, weights, LEVELS)
    return Interval(float(median), float(low), float(high))


@dataclass
class PosteriorSummary:
    """Intervals per key and per channel, correlations, and identification warnings."""

    intervals: dict[str, Interval]
    channels: dict[str, Interval]
    correlation: pd.DataFrame
    prior_share: dict[str, float]
    warnings: list[str]
    ess: float
    evaluations: int
    generations: int
    population: int


def summarise(posterior: Posterior) -> PosteriorSummary:
    """Medians and 90% intervals; warn where the data do not pin a key down."""
    w = posterior.weights
    intervals, prior_share, warnings = {}, {}, []
    z = posterior.z
    for i, (key, prior) in enumerate(zip(posterior.keys, posterior.priors, strict=True)):
        intervals[key] = _interval(posterior.values[:, i], w)
        z_low, z_high = weighted_quantiles(z[:, i], w, (0.05, 0.95))
        lo, hi = prior.z_bounds
        share = float((z_high - z_low) / (hi - lo)) if hi > lo else 0.0
        prior_share[key] = share
        if share > WIDE:
            warnings.append(
                f"{key} is not identified: its 90% interval spans {share:.0%} of its prior "
                f"({prior.describe()}); the data say little about it, so its median is mostly "
                "the prior's"
            )
    names = [k.rpartition("mechanisms.")[2] for k in posterior.keys]
    corr = pd.DataFrame(weighted_corr(z, w), index=names, columns=names)
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            r = float(corr.iloc[i, j])
            if abs(r) > TRADE_OFF:
                sense = "raising one and lowering the other" if r < 0 else "raising both"
                warnings.append(
                    f"{posterior.keys[i]} and {posterior.keys[j]} trade off (posterior "
                    f"correlation {r:+.2f}): {sense} fits about as well, so the data fix a "
                    "combination of them, not each one"
                )
    ess, n = posterior.ess, len(w)
    if ess < max(MIN_ESS, 0.2 * n):
        warnings.append(
            f"the posterior rests on few particles (effective sample size {ess:.0f} of {n}): "
            "its intervals and correlations are rough; rerun with more --population or "
            "--generations before reading them closely"
        )
    channels = {
        name: _interval(posterior.channels[:, c], w) for c, name in enumerate(ADOPTION_CHANNELS)
    }
    return PosteriorSummary(
        intervals=intervals,
        channels=channels,
        correlation=corr,
        prior_share=prior_share,
        warnings=warnings,
        ess=posterior.ess,
        evaluations=posterior.evaluations,
        generations=posterior.generations,
        population=len(w),
    )


def predictive_band(posterior: Posterior, which: str = "curves") -> np.ndarray:
    """(3, T+1): 5%, 50%, 95% of single replicate curves drawn from the posterior."""
    curves = getattr(posterior, which)
    n, r, steps = curves.shape
    pooled = curves.reshape(n * r, steps)
    return weighted_quantiles(pooled, np.repeat(posterior.weights, r), LEVELS)


@dataclass(eq=False)
class Calibration:
    """A fit: best values, posterior (ABC), quality, curves, channels, warnings."""

    keys: list[str]
    values: dict[str, float]
    start: dict[str, float]
    rmse: float
    r2: float
    evaluations: int
    curve: pd.DataFrame
    channel_shares: dict[str, float]
    scenario: Scenario
    observed: ObservedCurve
    replicates: int
    seed: int
    method: str
    manifest: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    posterior: Posterior | None = None
    posterior_summary: PosteriorSummary | None = None
    r2_coordinated: float | None = None
    targets: list[str] = field(default_factory=lambda: ["curve"])
    priors: dict[str, str] = field(default_factory=dict)
    overrides: dict[str, Any] = field(default_factory=dict)
    steps: int = 0
    noise_note: str = ""
    world_seeds: list[int] = field(default_factory=list)
    """The world seeds the fit (and every interval) covers; the best fit is the first's."""
    world_best: dict[int, dict[str, float]] = field(default_factory=dict)

    @property
    def intervals(self) -> dict[str, Interval]:
        return self.posterior_summary.intervals if self.posterior_summary else {}

    def summary(self) -> str:
        ps = self.posterior_summary
        head = "ABC-SMC posterior" if ps else "point fit"
        lines = [f"fit of {', '.join(self.keys)} ({head}; targets: {' + '.join(self.targets)})"]
        if ps:
            lines.append(
                f"  {'key':<40} {'median [90% credible interval]':<32} {'best fit':>10}   prior"
            )
            for key in self.keys:
                lines.append(
                    f"  {key:<40} {ps.intervals[key].text():<32} {self.values[key]:>10.4g}   "
                    f"{self.priors.get(key, '')}"
                )
            if len(self.keys) > 1:
                pairs = [
                    f"{a} ~ {b} {ps.correlation.loc[a, b]:+.2f}"
                    for i, a in enumerate(ps.correlation.index)
                    for b in ps.correlation.index[i + 1 :]
                ]
                lines.append("  posterior correlation: " + "; ".join(pairs))
            lines.append(
                "  adoptions by channel, median [90%]: "
                + ", ".join(f"{k} {v.text(percent=True)}" for k, v in ps.channels.items())
            )
        else:
            for key in self.keys:
                lines.append(f"  {key:<40} {self.values[key]:.6g}   (start {self.start[key]:.6g})")
            lines.append(
                "  adoptions by channel under the fit (no uncertainty: use --method abc): "
                + ", ".join(f"{k} {v:.1%}" for k, v in self.channel_shares.items())
            )
        lines += self._world_lines(bool(ps))
        cities = self.rmse * self.observed.denominator
        quality = (
            f"  best fit: RMSE {self.rmse:.4f} (share of cities; about {cities:.0f} cities)   "
            f"R² {self.r2:.4f}"
        )
        if self.r2_coordinated is not None:
            quality += f"   coordinated curve R² {self.r2_coordinated:.4f}"
        lines.append(quality)
        lines.append(
            f"  observed: {self.observed.note}; denominator {self.observed.denominator} cities"
        )
        if ps:
            lines.append(
                f"  {ps.evaluations:,} simulations x {self.replicates} replicates over "
                f"{ps.generations} generations, {ps.population} particles (ESS {ps.ess:.0f})"
            )
            if self.noise_note:
                lines.append(f"  noise model: {self.noise_note}")
        else:
            lines.append(f"  {self.evaluations} evaluations x {self.replicates} replicates")
        for text in self.all_warnings:
            lines.append(f"  WARNING: {text}")
        return "\n".join(lines)

    def _world_lines(self, posterior: bool) -> list[str]:
        seeds = self.world_seeds
        if not seeds:
            return []
        listed = ", ".join(map(str, seeds))
        said = [f"  world: {c}" for c in [self.manifest.get("coordinators")] if c]
        chosen = self.manifest.get("receptivity")
        if chosen:
            by_seed = chosen["exponent_by_world_seed"]
            where = f" (world seed {seeds[0]})" if len(by_seed) > 1 else ""
            said.append(f"  world: {chosen['note']}{where}")
            if len(by_seed) > 1:
                listed_exponents = ", ".join(f"{k}: {v:g}" for k, v in by_seed.items())
                said.append(f"  receptivity exponent by world seed: {listed_exponents}")
        if len(seeds) == 1:
            return said + [
                f"  world seed {listed} only: the intervals do not include the uncertainty of "
                "the world's invented parts (--world-seeds K fits on K world seeds)"
            ]
        what = "intervals cover" if posterior else "best fits on"
        lines = said + [
            f"  {what} world seeds {listed} (a mixture of {len(seeds)} posteriors, equal "
            f"weight; best fit and fitted.toml from world seed {seeds[0]})"
            if posterior
            else f"  {what} world seeds {listed}; values above from world seed {seeds[0]}"
        ]
        for world_seed, values in self.world_best.items():
            lines.append(
                f"    best fit on world seed {world_seed}: "
                + ", ".join(f"{k.rpartition('.')[2]} {v:.4g}" for k, v in values.items())
            )
        return lines

    @property
    def all_warnings(self) -> list[str]:
        extra = self.posterior_summary.warnings if self.posterior_summary else []
        return [*self.warnings, *extra]

    def plot(self, path: str | Path) -> Path:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from diffusion_sim.record.plotting import FONT_SIZE, legend_outside

        unit = self.scenario.run.step_unit
        joint = "observed_coordinated" in self.curve
        fig, axes = plt.subplots(
            1, 2 if joint else 1, figsize=(14 if joint else 9.5, 4.5), constrained_layout=True
        )
        axes = np.atleast_1d(axes)
        x = self.curve["period"]
        for ax, (obs, prefix, title) in zip(
            axes,
            [
                ("observed", "", "all adoptions"),
                ("observed_coordinated", "vertical_", "coordinated / vertical"),
            ],
            strict=False,
        ):
            band = f"{prefix}predictive_p5"
            if band in self.curve:
                ax.fill_between(
                    x,
                    self.curve[band],
                    self.curve[f"{prefix}predictive_p95"],
                    alpha=0.25,
                    label="posterior predictive, 5-95%",
                )
                ax.plot(x, self.curve[f"{prefix}predictive_p50"], lw=1, label="posterior median")
            elif not prefix:
                ax.fill_between(
                    x,
                    self.curve["model_p5"],
                    self.curve["model_p95"],
                    alpha=0.25,
                    label="model, 5-95% of replicates",
                )
            ax.plot(
                x,
                self.curve[f"model_{prefix}mean" if prefix else "model_mean"],
                "--",
                lw=1,
                label="best fit, mean",
            )
            ax.plot(x, self.curve[obs], "k.", ms=3, label="observed")
            ax.set_xlabel(f"date (one point per {unit})", fontsize=FONT_SIZE + 1)
            ax.set_ylabel("share of the world's cities", fontsize=FONT_SIZE + 1)
            ax.set_title(title, fontsize=FONT_SIZE + 1)
            ax.tick_params(labelsize=FONT_SIZE)
        # The first panel has every kind of line; one legend beside the last serves both.
        legend_outside(axes[-1], "right", handles=axes[0].get_legend_handles_labels()[0])
        fig.suptitle(f"{self.scenario.name}: R² {self.r2:.3f}, RMSE {self.rmse:.4f}")
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return Path(path)

    def scenario_toml(
        self,
        extends: str | None = None,
        name: str | None = None,
        overrides: dict[str, Any] | None = None,
    ) -> str:
        """The fitted values as a scenario file (extending the original when given).

        ``overrides`` (the ``--set`` values the fit ran with) are written too, so
        that the file reproduces the fitted run; so are the data's steps, the
        replicates and the root seed (same world, same replicate seeds).
        """
        lines = [
            f"# Fitted: {', '.join(self.keys)} to {Path(self.observed_source).name} "
            f"(R² {self.r2:.3f}, RMSE {self.rmse:.4f}); see docs/calibration.md.",
        ]
        for key, interval in self.intervals.items():
            lines.append(f"# {key}: posterior median [90% interval] {interval.text()}")
        for world_data in ("coordinators", "receptivity"):
            if self.manifest.get(world_data):
                lines.append(
                    f"# Fitted on a world built from the data (--{world_data}), which this "
                    "file cannot hold: run alone, it gives the world without it."
                )
        table: dict[str, Any] = {"extends": extends} if extends else {}
        table["name"] = name or self.scenario.name
        values: dict[str, Any] = dict(self.overrides if overrides is None else overrides)
        for key in self.keys:
            value = self.values[key]
            values[key] = round(value) if float(value).is_integer() else float(value)
        if self.steps:
            values.setdefault("run.steps", self.steps)
            values.setdefault("run.seed", self.seed)
            values.setdefault("run.replicates", self.replicates)
        for key, value in values.items():
            *heads, leaf = key.split(".")
            node = table
            for head in heads:
                node = node.setdefault(head, {})
            node[leaf] = value
        return "\n".join(lines) + "\n" + tomli_w.dumps(table)

    @property
    def observed_source(self) -> str:
        return self.manifest.get("data", "data")

    def save(self, folder: str | Path) -> Path:
        """curve.csv/.parquet, fit.png, fitted.toml, posterior.csv, abc.db, manifest.json."""
        from diffusion_sim.record.storage import staged, write_manifest

        folder = Path(folder)
        extends = None
        if self.scenario.source:
            extends = os.path.relpath(
                Path(self.scenario.source).resolve(), folder.resolve()
            ).replace(os.sep, "/")
        with staged(folder) as staging:
            curve = self.curve.assign(period=self.curve["period"].astype(str))
            write_csv(curve, staging / "curve.csv", index=False)
            curve.to_parquet(staging / "curve.parquet", index=False)
            self.plot(staging / "fit.png")
            (staging / "fitted.toml").write_text(self.scenario_toml(extends))
            if self.posterior is not None:
                write_csv(self.posterior_table(), staging / "posterior.csv", index=False)
                for db in [self.posterior.database, *self.posterior.databases]:
                    if db is not None and Path(db).is_file():
                        shutil.move(str(db), staging / Path(db).name)
                        self.manifest.setdefault("abc_databases", []).append(Path(db).name)
            write_manifest(staging, self.manifest)
        return folder

    def posterior_table(self) -> pd.DataFrame:
        """One row per particle: values, weight, channel shares at the end."""
        assert self.posterior is not None
        p = self.posterior
        table = pd.DataFrame(p.values, columns=p.keys)
        table["weight"] = p.weights / p.weights.sum()
        if p.world_seed is not None:
            table["world_seed"] = p.world_seed
        for c, name in enumerate(ADOPTION_CHANNELS):
            table[f"share_{name}"] = p.channels[:, c]
        return table
