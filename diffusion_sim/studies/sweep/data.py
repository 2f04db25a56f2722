"""A finished sweep read back: plan, design and results, and the conditions questions ask.

Times never reached are censored at the horizon + 1 (``censored``), so every
analysis counts runs that never got there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from diffusion_sim.errors import InputError
from diffusion_sim.record.outcomes import kind_of
from diffusion_sim.studies.sweep.runner import DESIGN, MANIFEST, PLAN, RESULTS
from diffusion_sim.studies.sweep.spec import parse_condition
from diffusion_sim.studies.sweep.state import read_design, read_finished, read_json

_OPS = {
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
    "!=": np.not_equal,
}


@dataclass
class SweepData:
    """A finished sweep read back: its plan, design and results."""

    folder: Path
    plan: dict[str, Any]
    manifest: dict[str, Any]
    design: pd.DataFrame
    results: pd.DataFrame

    @property
    def columns(self) -> list[str]:
        return [p["column"] for p in self.plan["parameters"]]

    @property
    def outcomes(self) -> list[str]:
        return list(self.plan["spec"]["outcomes"])

    @property
    def ok(self) -> pd.DataFrame:
        return self.results[self.results["status"] == "ok"]


def load(folder: str | Path) -> SweepData:
    """Read a finished sweep's folder (an unfinished one is an input error)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("no such sweep results folder", source=str(folder))
    if not (folder / PLAN).is_file():
        raise InputError("not a sweep results folder (no sweep.json)", source=str(folder))
    if not (folder / MANIFEST).is_file():
        raise InputError(
            "the sweep is unfinished (no manifest.json); run the same sweep command again "
            "to finish it",
            source=str(folder),
        )
    plan = read_json(folder / PLAN)
    if not isinstance(plan, dict) or not isinstance(plan.get("parameters"), list):
        raise InputError("not a sweep plan (no list of parameters)", source=str(folder / PLAN))
    return SweepData(
        folder=folder,
        plan=plan,
        manifest=read_json(folder / MANIFEST),
        design=read_design(folder / DESIGN, plan),
        results=read_finished(folder, RESULTS),
    )


def censored(data: SweepData, frame: pd.DataFrame) -> pd.DataFrame:
    """Times never reached (NaN) set to the horizon + 1, so runs that never get there count
    (the horizon: the sweep's ``at`` step if it has one, else the run's last step).

    Sensitivity indices need a number for every point; a time that is never
    reached is at least one step past the end of the run.
    """
    frame = frame.copy()
    steps_key = next(
        (p["column"] for p in data.plan["parameters"] if p["key"] == "run.steps"), None
    )
    horizon = (
        frame[steps_key].astype(float)
        if steps_key
        else pd.Series(float(data.plan["base_scenario"]["run"]["steps"]), index=frame.index)
    )
    horizon = horizon.map(lambda steps: horizon_of(data, steps))  # a window ends earlier
    for name in data.outcomes:
        if kind_of(name) == "time_to":
            frame[name] = frame[name].fillna(horizon + 1)
    return frame


def horizon_of(data: SweepData, steps: float) -> float:
    """Where a time never reached is censored: the sweep's window end, else the run's end."""
    spec = data.plan["spec"]
    if spec.get("between"):
        return float(spec["between"][1])
    return float(spec["at"]) if spec.get("at") is not None else float(steps)


def point_means(data: SweepData) -> pd.DataFrame:
    """Each outcome averaged over a point's successful replicates (NaN: none succeeded)."""
    ok = censored(data, data.ok)
    means = ok.groupby("point")[data.outcomes].mean()
    return means.reindex(range(data.plan["points"]))


def condition_mask(frame: pd.DataFrame, condition: str) -> np.ndarray:
    """Where a condition holds (a time never reached, NaN, satisfies no comparison)."""
    mask = np.ones(len(frame), dtype=bool)
    for outcome, op, number in parse_condition(condition):
        values = frame[outcome].to_numpy(dtype=np.float64)
        with np.errstate(invalid="ignore"):
            mask &= _OPS[op](values, number) & ~np.isnan(values)
    return mask
