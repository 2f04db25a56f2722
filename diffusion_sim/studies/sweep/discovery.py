"""Scenario discovery: PRIM (EMA Workbench's) boxes of the parameters that answer a question."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from diffusion_sim.studies.sweep.data import SweepData, condition_mask


def _prim_inputs(data: SweepData, frame: pd.DataFrame) -> pd.DataFrame:
    x = pd.DataFrame(index=range(len(frame)))
    for p in data.plan["parameters"]:
        column = frame[p["column"]].reset_index(drop=True)
        numeric = ("Float64", "float64", "Int64", "int64")
        if p["kind"] in ("float", "int") or str(column.dtype) in numeric:
            # Integers too go in as floats: EMA Workbench's peeling writes half-way
            # limits (7.5) into integer columns, which pandas 3 refuses.
            x[p["column"]] = column.astype(np.float64)
        else:
            x[p["column"]] = column.astype(str).astype("category")
    return x


def discover(data: SweepData, name: str, condition: str, threshold: float = 0.8) -> dict[str, Any]:
    """PRIM's best box for one question: the parameter ranges where it mostly holds.

    The box chosen is the one of highest coverage among those whose density
    reaches ``threshold`` (else the densest).
    """
    ok = data.ok.reset_index(drop=True)
    y = condition_mask(ok, condition)
    answer: dict[str, Any] = {
        "question": name,
        "condition": condition,
        "threshold": threshold,
        "runs": len(ok),
        "share_true": float(y.mean()) if len(y) else float("nan"),
    }
    if len(y) == 0 or y.all() or not y.any():
        answer["note"] = (
            "the condition never holds" if not y.any() else "the condition always holds"
        ) + " in this sweep, so there is no box to find"
        return answer
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim

        finder = prim.Prim(_prim_inputs(data, ok), y, threshold=threshold)
        box = finder.find_box()
    trajectory = box.peeling_trajectory
    meets = trajectory[trajectory["density"] >= threshold]
    chosen = int(meets["coverage"].idxmax() if len(meets) else trajectory["density"].idxmax())
    # The box's limits against the initial box (not PrimBox.inspect, whose table
    # breaks on pandas 3 when a categorical parameter is restricted).
    stats = trajectory.loc[chosen]
    limits, initial = box.box_lims[chosen], finder.box_init
    restrictions = []
    for param in limits.columns:
        low, high = limits.loc[0, param], limits.loc[1, param]
        if isinstance(low, set | frozenset):
            if set(low) != set(initial.loc[0, param]):
                restrictions.append(f"`{param}` in {{{', '.join(sorted(map(str, low)))}}}")
        elif low > initial.loc[0, param] or high < initial.loc[1, param]:
            restrictions.append(f"{low:.4g} <= `{param}` <= {high:.4g}")
    if not restrictions:
        answer["note"] = (
            f"the condition already holds in {answer['share_true']:.0%} of all runs, at or "
            f"above the density threshold {threshold:.0%}: no restriction is needed (raise "
            "the threshold to ask for near-certainty)"
        )
    answer.update(
        {
            "box": chosen,
            "coverage": float(stats["coverage"]),
            "density": float(stats["density"]),
            "mass": float(stats["mass"]),
            "restrictions": restrictions,
            "trajectory": trajectory[["coverage", "density", "mass", "res_dim"]],
        }
    )
    return answer
