"""What an estimate reports: the fit as tables, a summary for the terminal, and a results folder.

The folder (written through :func:`diffusion_sim.record.storage.staged`, manifest last)
holds ``parameters.csv``, ``covariance.csv``, ``layers.csv`` (when layers were
estimated), ``shares.csv`` (share of adoptions by channel and layer with 95%
intervals), ``adoptions.parquet`` (per adoption: the probability of each channel
and layer), ``summary.txt`` and ``manifest.json`` (the resolved scenario, the
seeds, the data, every number above, the warnings and package versions).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from diffusion_sim.record.csv_cells import write_csv
from diffusion_sim.record.storage import staged, versions, write_json, write_manifest
from diffusion_sim.scenario import Scenario
from diffusion_sim.studies.estimation.fit import Z95, Fit
from diffusion_sim.studies.estimation.layers import format_layer_table
from diffusion_sim.studies.estimation.parameters import Parameter


@dataclass(eq=False)
class Estimate:
    """A fitted likelihood: estimates, intervals, layer comparison and attribution."""

    scenario: Scenario
    params: list[Parameter]
    fit: Fit
    n_cells: int
    n_adoptions: int
    steps: int
    data: str
    layer_table: pd.DataFrame | None
    adoptions: pd.DataFrame
    shares: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    n_runs: int = 0
    """Runs of alike city-steps the likelihood evaluates (``likelihood.runs``)."""
    seeds: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    prepared: Any = field(default=None, repr=False)
    """The setup, cells and exposure (for :func:`diffusion_sim.studies.estimation.export_panel`)."""
    validation: pd.DataFrame | None = None
    """AUC of P(vertical) for the data's held-out coordinator flag (overall, within and per
    country), when the data have one (:func:`.coordination.auc_table`)."""
    comparison: list[str] = field(default_factory=list)
    """Lines of ``--compare-calibration`` (:mod:`diffusion_sim.studies.estimation.crosscheck`)."""
    comparison_warnings: list[str] = field(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        return list(self.fit.warnings) + list(self.comparison_warnings)

    def _world_line(self) -> str:
        if self.prepared is not None and self.prepared.histories.replay_pioneers:
            return f"world seed {self.world_seed}: the run's own world"
        return (
            f"world seed {self.world_seed} only: the intervals do not include the spread over "
            "the world's invented parts (--world-seeds K)"
        )

    @property
    def world_seed(self) -> int | None:
        """The seed of the world the fit was made on."""
        return None if self.prepared is None else int(self.prepared.setup.world.seed)

    def parameters(self) -> pd.DataFrame:
        """One row per parameter: estimate, standard error, 95% Wald interval, scenario value."""
        lower, upper = self.fit.interval(Z95)
        return pd.DataFrame(
            {
                "key": [p.key for p in self.params],
                "label": [p.label for p in self.params],
                "estimate": self.fit.values,
                "se": self.fit.se,
                "lower95": lower,
                "upper95": upper,
                "interval_scale": np.where(
                    self.fit.log_scale & (self.fit.values > 0), "log", "natural"
                ),
                "scenario_value": [p.value for p in self.params],
                "on_bound": self.fit.on_bound,
            }
        )

    def summary(self) -> str:
        """The estimates, the layer table and the channel shares, as text."""
        fit = self.fit
        lines = [
            f"{self.n_adoptions} adoptions over {self.n_cells} city-steps at risk (steps 1.."
            f"{self.steps}); data: {self.data}",
            f"log L = {fit.loglik:.3f}, AIC = {fit.aic:.2f}, {fit.evaluations} evaluations, "
            f"{'converged' if fit.converged else 'NOT converged'}",
            self._world_line(),
            "",
            f"{'parameter':<36} {'estimate':>11} {'se':>10}   {'95% interval':<25} {'scenario':>9}",
        ]
        for row in self.parameters().itertuples(index=False):
            interval = f"[{row.lower95:.4g}, {row.upper95:.4g}]"
            flag = "  (on a bound)" if row.on_bound else ""
            lines.append(
                f"{row.key:<36} {row.estimate:11.4g} {row.se:10.3g}   {interval:<25} "
                f"{row.scenario_value:9.4g}{flag}"
            )
        if self.layer_table is not None:
            lines += ["", "Which network carried it (likelihood ratio against all layers):"]
            lines.append(format_layer_table(self.layer_table))
        lines += ["", "Share of adoptions by channel and layer, 95% interval from the fit:"]
        for kind in ("channel", "layer"):
            part = self.shares[self.shares["kind"] == kind]
            text = ", ".join(
                f"{r.name} {r.share:.3f} [{r.lower95:.3f}, {r.upper95:.3f}]"
                for r in part.itertuples(index=False)
            )
            lines.append(f"  {'channels' if kind == 'channel' else 'layers':<9} {text}")
        lines += validation_lines(self.validation)
        lines += self.comparison
        for note in self.notes:
            lines.append(f"note: {note}")
        for warning in self.warnings:
            lines.append(f"warning: {warning}")
        return "\n".join(lines)

    def manifest(self) -> dict[str, Any]:
        return {
            "kind": "estimate",
            "scenario_name": self.scenario.name,
            "scenario_file": self.scenario.source,
            "scenario": self.scenario.to_dict(),
            "data": self.data,
            "seed": self.seeds,
            "world_seeds": [self.world_seed],
            "steps": self.steps,
            "cells": self.n_cells,
            "runs_evaluated": self.n_runs,
            "adoptions": self.n_adoptions,
            "loglik": self.fit.loglik,
            "aic": self.fit.aic,
            "converged": self.fit.converged,
            "optimiser": f"scipy L-BFGS-B: {self.fit.message}",
            "parameters": self.parameters().to_dict(orient="records"),
            "covariance": np.where(np.isfinite(self.fit.cov), self.fit.cov, None).tolist(),
            "layers": None
            if self.layer_table is None
            else self.layer_table.to_dict(orient="records"),
            "shares": self.shares.to_dict(orient="records"),
            "validation": None
            if self.validation is None
            else self.validation.to_dict(orient="records"),
            "notes": self.notes,
            "warnings": self.warnings,
            "timings_s": {k: round(v, 3) for k, v in self.timings.items()},
            "versions": versions(),
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
        }

    def save(self, folder: str | Path) -> Path:
        """Write the tables, the summary and the manifest (last) into a new ``folder``."""
        folder = Path(folder)
        with staged(folder) as staging:
            parameters = self.parameters()
            write_csv(parameters, staging / "parameters.csv", index=False)
            cov = pd.DataFrame(self.fit.cov, index=parameters["key"], columns=parameters["key"])
            write_csv(cov, staging / "covariance.csv")
            if self.layer_table is not None:
                write_csv(self.layer_table, staging / "layers.csv", index=False)
            write_csv(self.shares, staging / "shares.csv", index=False)
            if self.validation is not None:
                write_csv(self.validation, staging / "validation.csv", index=False)
            self.adoptions.to_parquet(staging / "adoptions.parquet", index=False)
            (staging / "summary.txt").write_text(self.summary() + "\n", encoding="utf-8")
            write_manifest(staging, json_ready(self.manifest()))
        return folder


def validation_lines(table: pd.DataFrame | None) -> list[str]:
    """P(vertical) against the held-out coordinator flag, as the summary says it."""
    if table is None or table.empty:
        return []
    parts = [
        f"{r.group} {r.auc:.3f} ({r.adoptions}, {r.coordinated:.0%} coordinated)"
        for r in table.itertuples(index=False)
    ]
    return [
        "",
        "P(vertical) against the data's coordinator field (held out, not fitted), AUC:",
        "  " + "; ".join(parts),
    ]


def write_panel(
    folder: str | Path, panel: pd.DataFrame, dyads: pd.DataFrame, manifest: dict[str, Any]
) -> Path:
    """The panel and dyad tables as Parquet and CSV, manifest last, into a new ``folder``."""
    folder = Path(folder)
    with staged(folder) as staging:
        panel.to_parquet(staging / "panel.parquet", index=False)
        write_csv(panel, staging / "panel.csv", index=False)
        dyads.to_parquet(staging / "dyads.parquet", index=False)
        write_csv(dyads, staging / "dyads.csv", index=False)
        write_json(staging / "columns.json", {"panel": list(panel), "dyads": list(dyads)})
        write_manifest(staging, json_ready(manifest))
    return folder


def json_ready(value: Any) -> Any:
    """NaN and infinities as null (JSON has neither), numpy scalars as numbers."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
