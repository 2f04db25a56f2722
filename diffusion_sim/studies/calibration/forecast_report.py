"""What a forecast reports: each method's band, its errors on the held-out periods, files.

Every figure in the table is computed here from the forecasts and the observed
counts: RMSE of each method's point forecast over the held-out periods (in
cities), its error at the last period, and the share of held-out periods whose
observed count lies inside the method's central interval. The point forecast is
the median of the band for the model's predictive, and the fitted curve itself
for a curve baseline (whose band, a bootstrap, serves only the interval: its
median moves with the bootstrap's draws while the fit does not).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from diffusion_sim.record.csv_cells import write_csv
from diffusion_sim.studies.calibration.report import Calibration


@dataclass
class MethodForecast:
    """One method's forecast: (3, T+1) counts (low, median, high) and how it was made."""

    name: str
    band: np.ndarray
    note: str
    has_interval: bool = True
    parameters: dict[str, float] = field(default_factory=dict)
    point: np.ndarray | None = None
    """(T+1,) the forecast that is scored, when it is not the band's median (a fitted curve)."""

    @property
    def central(self) -> np.ndarray:
        """The scored forecast: ``point`` if given, else the band's median."""
        return self.band[1] if self.point is None else self.point


@dataclass
class Score:
    """A method's errors on the held-out periods (counts of cities)."""

    rmse: float
    end_error: float
    coverage: float | None
    end_interval: tuple[float, float] | None


def score(method: MethodForecast, observed: np.ndarray, n_train: int) -> Score:
    """RMSE and end error of the point forecast; interval coverage over the held-out periods."""
    low, _, high = method.band
    held = slice(n_train, len(observed))
    error = method.central[held] - observed[held]
    coverage = None
    end = None
    if method.has_interval:
        inside = (low[held] <= observed[held]) & (observed[held] <= high[held])
        coverage = float(inside.mean())
        end = (float(low[-1]), float(high[-1]))
    return Score(math.sqrt(float(np.mean(error**2))), float(error[-1]), coverage, end)


@dataclass(eq=False)
class Forecast:
    """A calibration on the training periods and every method's forecast beyond them."""

    calibration: Calibration
    periods: pd.PeriodIndex
    observed: np.ndarray
    """(T+1,): observed cumulative count (cities) per period, training and held out."""
    n_train: int
    methods: list[MethodForecast]
    level: float
    denominator: int
    train_until: str
    until: str
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def scores(self) -> dict[str, Score]:
        return {m.name: score(m, self.observed, self.n_train) for m in self.methods}

    def table(self) -> pd.DataFrame:
        """One row per method: RMSE, end error, coverage and the end interval (cities)."""
        rows = []
        pct = round(self.level * 100)
        for m in self.methods:
            s = score(m, self.observed, self.n_train)
            rows.append(
                {
                    "method": m.name,
                    "rmse_cities": s.rmse,
                    "end_error_cities": s.end_error,
                    f"coverage_{pct}": s.coverage,
                    "end_point": float(m.central[-1]),
                    "end_low": s.end_interval[0] if s.end_interval else None,
                    "end_high": s.end_interval[1] if s.end_interval else None,
                    "how": m.note,
                }
            )
        return pd.DataFrame(rows)

    def summary(self) -> str:
        pct = round(self.level * 100)
        held = len(self.observed) - self.n_train
        truth = self.observed[-1]
        lines = [
            f"forecast of {self.calibration.scenario.name}: trained on {self.periods[0]}.."
            f"{self.train_until} ({self.n_train} periods), checked on {held} held-out periods "
            f"to {self.until}; observed at the end: {truth:.0f} cities",
            f"  {'method':<30} {'RMSE':>8} {'end error':>10} {f'{pct}% cover':>10}   "
            f"end: point [{pct}% interval]",
        ]
        for m in self.methods:
            s = score(m, self.observed, self.n_train)
            cover = f"{s.coverage:.0%}" if s.coverage is not None else "-"
            end = f"{m.central[-1]:.0f}"
            if s.end_interval:
                end += f" [{s.end_interval[0]:.0f}, {s.end_interval[1]:.0f}]"
            lines.append(f"  {m.name:<30} {s.rmse:>8.0f} {s.end_error:>+10.0f} {cover:>10}   {end}")
        scores = self.scores
        model = scores[self.methods[0].name]
        bass = scores["bass"]
        verdict = "beats" if model.rmse <= bass.rmse else "loses to"
        digits = 0 if round(model.rmse) != round(bass.rmse) else 1  # 68 against 68 says nothing
        lines.append(
            f"  the model's forecast {verdict} the Bass curve: RMSE {model.rmse:.{digits}f} "
            f"against {bass.rmse:.{digits}f} cities ({model.rmse / bass.rmse:.2f}x)"
        )
        for m in self.methods:
            if m.parameters:
                lines.append(
                    f"  {m.name} fitted: "
                    + ", ".join(f"{k} {v:.4g}" for k, v in m.parameters.items())
                )
        lines.append("  how: " + "; ".join(f"{m.name}: {m.note}" for m in self.methods))
        lines.append("")
        lines.append(self.calibration.summary())
        return "\n".join(lines)

    def curves(self) -> pd.DataFrame:
        """Per period: observed count, training flag, each method's low, median, high, point."""
        columns: dict[str, Any] = {
            "step": np.arange(len(self.observed)),
            "period": self.periods.astype(str),
            "observed_count": self.observed,
            "training": np.arange(len(self.observed)) < self.n_train,
        }
        for m in self.methods:
            slug = m.name.split(" (")[0].replace(" ", "_")
            columns[f"{slug}_median"] = m.band[1]
            if m.point is not None:
                columns[f"{slug}_point"] = m.point
            if m.has_interval:
                columns[f"{slug}_low"] = m.band[0]
                columns[f"{slug}_high"] = m.band[2]
        return pd.DataFrame(columns)

    def plot(self, path: str | Path) -> Path:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from diffusion_sim.record.plotting import FONT_SIZE, legend_outside

        x = self.periods.to_timestamp()
        fig, ax = plt.subplots(figsize=(10.5, 4.8), constrained_layout=True)
        pct = round(self.level * 100)
        for m in self.methods:
            if m.has_interval:
                ax.fill_between(x, m.band[0], m.band[2], alpha=0.15, label=f"{m.name}, {pct}%")
            ax.plot(x, m.central, lw=1.2, ls="--" if not m.has_interval else "-", label=m.name)
        ax.plot(x[: self.n_train], self.observed[: self.n_train], "k.", ms=3, label="observed")
        ax.plot(
            x[self.n_train :],
            self.observed[self.n_train :],
            ".",
            color="0.5",
            ms=3,
            label="observed, held out",
        )
        ax.axvline(x[self.n_train - 1], color="0.3", lw=0.8)
        ax.set_xlabel("date (training to the vertical line)", fontsize=FONT_SIZE + 1)
        ax.set_ylabel("cities adopted (cumulative)", fontsize=FONT_SIZE + 1)
        ax.tick_params(labelsize=FONT_SIZE)
        legend_outside(ax, "right")
        model, bass = self.scores[self.methods[0].name], self.scores["bass"]
        ax.set_title(
            f"{self.calibration.scenario.name}: forecast RMSE model {model.rmse:.0f}, "
            f"Bass {bass.rmse:.0f} cities",
            fontsize=FONT_SIZE + 1,
        )
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return Path(path)

    def save(self, folder: str | Path) -> Path:
        """forecast.csv/.parquet, scores.csv, forecast.png, calibration/, manifest.json last."""
        from diffusion_sim.record.storage import staged, write_manifest

        folder = Path(folder)
        with staged(folder) as staging:
            curves = self.curves()
            write_csv(curves, staging / "forecast.csv", index=False)
            curves.to_parquet(staging / "forecast.parquet", index=False)
            write_csv(self.table(), staging / "scores.csv", index=False)
            self.plot(staging / "forecast.png")
            self.calibration.save(staging / "calibration")
            write_manifest(staging, self.manifest_data())
        return folder

    def manifest_data(self) -> dict[str, Any]:
        table = self.table()
        return {
            "kind": "forecast",
            "train": [str(self.periods[0]), self.train_until],
            "until": self.until,
            "level": self.level,
            "denominator": self.denominator,
            "scores": table.drop(columns="how").to_dict(orient="records"),
            "methods": {m.name: m.note for m in self.methods},
            "baseline_parameters": {m.name: m.parameters for m in self.methods if m.parameters},
            "world_seeds": self.calibration.world_seeds,
            "calibration": "calibration/manifest.json",
            "scenario": self.calibration.scenario.to_dict(),
            **self.manifest,
        }
