"""The world's own uncertainty: one fit per world seed, combined by Rubin's rules.

A real world's cities are data, but their capacities, leanings, twinning and
network memberships are drawn from ``world.seed``: invented parts, as unknown as
the parameters. Like multiply imputed data (Rubin 1987), the same data are
fitted on K worlds and the K maximum-likelihood estimates q_k, with their
variances u_k, combined:

    q̄ = mean q_k,   W̄ = mean u_k (within),   B = var q_k (between, ddof 1),
    T = W̄ + (1 + 1/K) B,
    ν = (K − 1) (1 + W̄ / ((1 + 1/K) B))²   (Rubin's degrees of freedom),

and the 95% interval is q̄ ± t_ν,0.975 √T. Rates are combined on the log scale
(where their Wald intervals are taken, variance (se/θ)²), the other parameters
on their natural scale; channel and layer shares on theirs, u_k from each seed's
95% interval, ((upper − lower) / (2 × 1.96))².
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from diffusion_sim.record.csv_cells import write_csv
from diffusion_sim.record.storage import staged, versions, write_manifest
from diffusion_sim.scenario import Scenario
from diffusion_sim.studies.estimation.fit import Z95
from diffusion_sim.studies.estimation.report import Estimate, json_ready, validation_lines

DEFAULT_DATA_SEEDS = 5
"""World seeds by default when fitting observed data (``--data``); see docs/estimation.md."""


@dataclass(frozen=True)
class Combined:
    """Rubin's combination of one scalar over K fits."""

    mean: float
    within: float
    between: float
    total: float
    df: float
    lower95: float
    upper95: float


def rubin(estimates: Sequence[float], variances: Sequence[float]) -> Combined:
    """Combine K estimates and their variances by Rubin's rules (module docstring)."""
    q = np.asarray(estimates, dtype=float)
    u = np.asarray(variances, dtype=float)
    k = len(q)
    mean, within = float(q.mean()), float(u.mean())
    between = float(q.var(ddof=1)) if k > 1 else 0.0
    extra = (1 + 1 / k) * between
    total = within + extra
    df = np.inf if extra == 0 else (k - 1) * (1 + within / extra) ** 2
    half = (stats.t.ppf(0.975, df) if np.isfinite(df) else stats.norm.ppf(0.975)) * np.sqrt(total)
    return Combined(mean, within, between, total, float(df), mean - half, mean + half)


def world_seeds(scenario: Scenario, count: int, seed: int | None = None) -> list[int]:
    """``count`` consecutive world seeds from the one a single fit would use."""
    spec = scenario.world.seed
    base = spec if spec is not None else (seed if seed is not None else scenario.run.seed)
    return [int(base) + k for k in range(count)]


@dataclass(eq=False)
class WorldsEstimate:
    """Fits of one data set on K worlds, and their combination."""

    seeds: list[int]
    fits: list[Estimate]
    notes: list[str] = field(default_factory=list)
    comparison: list[str] = field(default_factory=list)
    """Lines of ``--compare-calibration`` (:mod:`diffusion_sim.studies.estimation.crosscheck`)."""
    comparison_warnings: list[str] = field(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        found: list[str] = list(self.comparison_warnings)
        for seed, fit in zip(self.seeds, self.fits, strict=True):
            found += [f"world seed {seed}: {w}" for w in fit.warnings]
        return found

    @property
    def covers(self) -> str:
        """Which world seeds the intervals cover, as every summary says it."""
        return f"world seeds {', '.join(str(s) for s in self.seeds)} (K = {len(self.seeds)})"

    def parameters(self) -> pd.DataFrame:
        rows = []
        tables = [fit.parameters() for fit in self.fits]
        for i, key in enumerate(tables[0]["key"]):
            value = np.array([t["estimate"].iloc[i] for t in tables])
            se = np.array([t["se"].iloc[i] for t in tables])
            log = all(t["interval_scale"].iloc[i] == "log" for t in tables) and (value > 0).all()
            if log:
                c = rubin(np.log(value), (se / value) ** 2)
                point, low, high = np.exp([c.mean, c.lower95, c.upper95])
            else:
                c = rubin(value, se**2)
                point, low, high = c.mean, c.lower95, c.upper95
            rows.append(
                {
                    "key": key,
                    "estimate": point,
                    "lower95": low,
                    "upper95": high,
                    "interval_scale": "log" if log else "natural",
                    "within_var": c.within,
                    "between_var": c.between,
                    "total_var": c.total,
                    "df": c.df,
                    "per_seed": value.tolist(),
                    "scenario_value": tables[0]["scenario_value"].iloc[i],
                }
            )
        return pd.DataFrame(rows)

    def shares(self) -> pd.DataFrame:
        rows = []
        first = self.fits[0].shares
        for i in range(len(first)):
            part = [fit.shares.iloc[i] for fit in self.fits]
            share = np.array([p["share"] for p in part])
            width = np.array([p["upper95"] - p["lower95"] for p in part])
            c = rubin(share, (np.nan_to_num(width) / (2 * Z95)) ** 2)
            rows.append(
                {
                    "kind": first["kind"].iloc[i],
                    "name": first["name"].iloc[i],
                    "share": c.mean,
                    "lower95": max(0.0, c.lower95),
                    "upper95": min(1.0, c.upper95),
                    "between_var": c.between,
                    "df": c.df,
                    "per_seed": share.tolist(),
                }
            )
        return pd.DataFrame(rows)

    def summary(self) -> str:
        first = self.fits[0]
        lines = [
            f"{first.n_adoptions} adoptions (world seed {self.seeds[0]}; "
            + ", ".join(f"{f.n_adoptions}" for f in self.fits[1:])
            + f" on the others); data: {first.data}",
            f"fitted on {self.covers}, combined by Rubin's rules: intervals include the "
            "spread over the world's invented parts (traits, twinning, memberships)",
            "",
            f"{'parameter':<36} {'estimate':>11}   {'95% interval':<25} {'df':>7}  per seed",
        ]
        for row in self.parameters().itertuples(index=False):
            interval = f"[{row.lower95:.4g}, {row.upper95:.4g}]"
            each = ", ".join(f"{v:.4g}" for v in row.per_seed)
            lines.append(
                f"{row.key:<36} {row.estimate:11.4g}   {interval:<25} {row.df:7.3g}  {each}"
            )
        if first.layer_table is not None:
            lr = np.array([f.layer_table["lr"].to_numpy() for f in self.fits])
            lines += ["", "Which network carried it: likelihood ratio, min–max over world seeds:"]
            for k, model in enumerate(first.layer_table["model"]):
                if k:  # row 0 is the full model
                    low, high = np.nanmin(lr[:, k]), np.nanmax(lr[:, k])
                    lines.append(f"  {model:<32} {low:10.2f} – {high:.2f}")
        lines += ["", f"Share of adoptions by channel and layer, 95% interval over {self.covers}:"]
        shares = self.shares()
        for kind in ("channel", "layer"):
            part = shares[shares["kind"] == kind]
            text = ", ".join(
                f"{r.name} {r.share:.3f} [{r.lower95:.3f}, {r.upper95:.3f}]"
                for r in part.itertuples(index=False)
            )
            lines.append(f"  {'channels' if kind == 'channel' else 'layers':<9} {text}")
        for r in shares[shares["kind"] == "channel"].itertuples(index=False):
            each = ", ".join(f"{v:.3f}" for v in r.per_seed)
            lines.append(f"  {r.name} per world seed: {each}")
        for seed, fit in zip(self.seeds, self.fits, strict=True):
            if fit.validation is not None:
                lines += [
                    f"{line} [world seed {seed}]" if line.startswith("P(") else line
                    for line in validation_lines(fit.validation)
                ]
        lines += self.comparison
        for note in dict.fromkeys(self.notes + first.notes):
            lines.append(f"note: {note}")
        for warning in self.warnings:
            lines.append(f"warning: {warning}")
        return "\n".join(lines)

    def manifest(self) -> dict[str, Any]:
        first = self.fits[0]
        return {
            "kind": "estimate",
            "scenario_name": first.scenario.name,
            "scenario": first.scenario.to_dict(),
            "data": first.data,
            "world_seeds": self.seeds,
            "combination": "Rubin's rules (T = W + (1 + 1/K) B, t with Rubin's df)",
            "parameters": self.parameters().to_dict(orient="records"),
            "shares": self.shares().to_dict(orient="records"),
            "per_seed": [fit.manifest() for fit in self.fits],
            "notes": self.notes,
            "warnings": self.warnings,
            "versions": versions(),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
        }

    def save(self, folder: str | Path) -> Path:
        """Combined tables, every seed's parameters and shares, summary, manifest last."""
        folder = Path(folder)
        with staged(folder) as staging:
            write_csv(self.parameters(), staging / "parameters.csv", index=False)
            write_csv(self.shares(), staging / "shares.csv", index=False)
            per_seed = list(zip(self.seeds, self.fits, strict=True))
            write_csv(
                pd.concat([f.parameters().assign(world_seed=s) for s, f in per_seed]),
                staging / "parameters_per_seed.csv",
                index=False,
            )
            write_csv(
                pd.concat(
                    [
                        f.shares.assign(world_seed=s)
                        for s, f in zip(self.seeds, self.fits, strict=True)
                    ]
                ),
                staging / "shares_per_seed.csv",
                index=False,
            )
            pd.concat(
                [
                    f.adoptions.assign(world_seed=s)
                    for s, f in zip(self.seeds, self.fits, strict=True)
                ]
            ).to_parquet(staging / "adoptions.parquet", index=False)
            (staging / "summary.txt").write_text(self.summary() + "\n", encoding="utf-8")
            write_manifest(staging, json_ready(self.manifest()))
        return folder


def estimate_worlds(
    fit_one: Callable[[Scenario], Estimate],
    scenario: Scenario,
    seeds: Sequence[int],
    progress: Callable[[str], None] | None = None,
) -> WorldsEstimate:
    """``fit_one`` on the scenario with each world seed; the fits and their combination."""
    say = progress or (lambda message: None)
    fits = []
    for k, seed in enumerate(seeds):
        say(f"world seed {seed} ({k + 1} of {len(seeds)})")
        fits.append(fit_one(scenario.with_overrides({"world.seed": int(seed)})))
    return WorldsEstimate(list(seeds), fits)
