"""Designs: the points of a sweep and the seed of every run, from one root seed.

Every sampler works in SALib's space (a float per parameter within its
``problem`` bounds) and :func:`to_values` maps a row to scenario values, so the
analysis can hand SALib the very matrix it sampled. Seeds never depend on which
worker runs a point or in what order:

- the design's generator: ``SeedSequence(seed, spawn_key=(0,))``;
- run (point i, replicate r): ``SeedSequence(seed, spawn_key=(1, i, r))``;
- with ``common_seeds``, replicate r of every point: ``SeedSequence(seed, spawn_key=(2, r))``.

The ``seed`` column of the results is a 63-bit integer drawn from that child, so
``ds.simulate(scenario, seed=row.seed)`` repeats any run.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from diffusion_sim.studies.sweep.spec import ParamInfo, Sweep


@dataclass(frozen=True)
class Points:
    """The points of a design: scenario values per parameter, and SALib's matrix."""

    values: pd.DataFrame
    x: np.ndarray
    problem: dict[str, Any]

    def __len__(self) -> int:
        return len(self.values)


def problem(params: tuple[ParamInfo, ...]) -> dict[str, Any]:
    """SALib's description of the parameter space (one bound pair per parameter).

    Integer ranges span [low, high + 1) and lists of values [0, k) so that
    :func:`to_values` can floor a sample into equally likely choices.
    """
    bounds = []
    for info in params:
        p = info.parameter
        if info.kind == "float":
            bounds.append([float(p.range[0]), float(p.range[1])])
        elif info.kind == "int":
            bounds.append([float(round(p.range[0])), float(round(p.range[1])) + 1.0])
        else:
            bounds.append([0.0, float(len(p.values))])
    return {"num_vars": len(params), "names": [i.column for i in params], "bounds": bounds}


def to_values(params: tuple[ParamInfo, ...], x: np.ndarray) -> pd.DataFrame:
    """Scenario values for each row of a design matrix in SALib's space."""
    columns = {}
    for j, info in enumerate(params):
        p = info.parameter
        col = x[:, j]
        if info.kind == "float":
            columns[info.column] = col.astype(np.float64)
        elif info.kind == "int":
            low, high = round(p.range[0]), round(p.range[1])
            columns[info.column] = np.clip(np.floor(col), low, high).astype(np.int64)
        else:
            index = np.clip(np.floor(col).astype(np.int64), 0, len(p.values) - 1)
            chosen = [p.values[k] for k in index]
            columns[info.column] = pd.array(chosen, dtype=_dtype_of(p.values))
    return pd.DataFrame(columns)


def _dtype_of(values: tuple) -> str:
    first = values[0]
    if isinstance(first, bool):
        return "boolean"
    if isinstance(first, str):
        return "string"
    if all(isinstance(v, int) for v in values):
        return "Int64"
    return "Float64"


def _grid_axis(info: ParamInfo, levels: int) -> np.ndarray:
    p = info.parameter
    if info.kind == "float":
        return np.linspace(p.range[0], p.range[1], levels)
    if info.kind == "int":
        axis = np.unique(np.round(np.linspace(p.range[0], p.range[1], levels)))
        return axis + 0.5  # the middle of each integer's [k, k + 1) cell
    return np.arange(len(p.values)) + 0.5


def design_generator(seed: int) -> np.random.Generator:
    """The generator of the design's own draws (independent of every run's seed)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0,)))


def sample(sweep: Sweep) -> Points:
    """The design's points, the same for the same sweep file on every machine."""
    spec, params = sweep.spec, sweep.params
    prob = problem(params)
    design = spec.design
    rng = design_generator(spec.seed)
    if design.method == "grid":
        axes = [_grid_axis(info, design.levels) for info in params]
        x = np.array(list(itertools.product(*axes)), dtype=np.float64).reshape(-1, len(params))
    elif design.method == "random":
        bounds = np.array(prob["bounds"])
        u = rng.random((design.samples, len(params)))
        x = bounds[:, 0] + u * (bounds[:, 1] - bounds[:, 0])
    elif design.method == "lhs":
        from SALib.sample import latin

        x = latin.sample(prob, design.samples, seed=rng)
    elif design.method == "sobol":
        from SALib.sample import sobol

        x = sobol.sample(prob, design.samples, calc_second_order=design.second_order, seed=rng)
    elif design.method == "morris":
        from SALib.sample import morris

        x = morris.sample(prob, design.samples, num_levels=design.levels, seed=rng)
    else:  # pragma: no cover - the schema allows only the methods above
        raise ValueError(design.method)
    x = np.asarray(x, dtype=np.float64)
    return Points(values=to_values(params, x), x=x, problem=prob)


def run_seed(seed: int, point: int, replicate: int, *, common: bool = False) -> int:
    """The seed of one run: a 63-bit integer from its own child of the root seed."""
    key = (2, replicate) if common else (1, point, replicate)
    state = np.random.SeedSequence(seed, spawn_key=key).generate_state(1, np.uint64)[0]
    return int(state >> np.uint64(1))
