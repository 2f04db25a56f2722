"""The fast point fit: a coarse grid, then Nelder-Mead, in each key's transformed space.

Objective (documented in docs/calibration.md): the sum over steps of the squared
difference between the model's mean share of cities adopted and the observed
share, plus, when the data says which adoptions a province or region
coordinated, the same sum for the cumulative share of cities that adopted
through the vertical channel against the coordinated ones. Both curves are
shares of the world's cities, so they weigh alike without a tuning constant.

A value that ends at the edge of its search box is searched again in a box
widened on that side (up to ``widen`` times); one that still ends at the edge,
or at a schema or prior bound, is reported as a warning, never silently.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from diffusion_sim.calibration.keys import FitKey, Prior
from diffusion_sim.calibration.model import Evaluation, Evaluator

EDGE = 0.02
"""A value within this fraction of its box's width from a side is 'at the edge'."""


@dataclass(frozen=True)
class Targets:
    """What the model is compared with: the curve, and the coordinated curve if known."""

    share: np.ndarray
    coordinated: np.ndarray | None = None

    def sse(self, evaluation: Evaluation) -> float:
        total = float(np.sum((evaluation.mean - self.share) ** 2))
        if self.coordinated is not None:
            total += float(np.sum((evaluation.vertical_mean - self.coordinated) ** 2))
        return total


@dataclass
class PointFit:
    """Best values (natural units), their objective, and what the search ran into."""

    values: list[float]
    sse: float
    evaluations: int
    boxes: list[tuple[float, float]]
    warnings: list[str] = field(default_factory=list)


def search_box(k: FitKey, prior: Prior, span: float) -> tuple[float, float]:
    """The first box in z (log or linear): start / span .. start x span, inside the prior."""
    low_z, high_z = prior.z_bounds
    if not prior.log:
        return low_z, high_z
    start = min(max(k.start, prior.low), prior.high)
    return max(math.log(start / span), low_z), min(math.log(start * span), high_z)


def point_fit(
    evaluator: Evaluator,
    priors: Sequence[Prior],
    targets: Targets,
    *,
    span: float = 30.0,
    grid: int | None = None,
    max_evaluations: int = 40,
    widen: int = 2,
    starts: int = 3,
    progress: Callable[[], None] | None = None,
) -> PointFit:
    """Grid then Nelder-Mead from the best ``starts`` grid points (one for a single key).

    ``max_evaluations`` is the budget of each Nelder-Mead run. A box whose best
    value sits at its edge is widened on that side and searched again.
    """
    from scipy import optimize  # here: importing it costs half a second

    keys = evaluator.keys
    cache: dict[tuple[float, ...], float] = {}

    def objective(z: np.ndarray) -> float:
        point = tuple(float(v) for v in z)
        if point not in cache:
            values = [p.from_z(v) for p, v in zip(priors, z, strict=True)]
            cache[point] = targets.sse(evaluator(values))
            if progress is not None:
                progress()
        return cache[point]

    boxes = [search_box(k, p, span) for k, p in zip(keys, priors, strict=True)]
    points = grid or {1: 7, 2: 5}.get(len(keys), 4)
    best_z, best_f = None, math.inf
    for attempt in range(widen + 1):
        axes = [np.linspace(low, high, points) for low, high in boxes]
        tried = []
        for combo in np.array(np.meshgrid(*axes, indexing="ij")).reshape(len(keys), -1).T:
            value = objective(combo)
            tried.append((value, combo))
            if value < best_f:
                best_z, best_f = combo, value
        sizes = np.array([(high - low) / max(points - 1, 1) for low, high in boxes])
        lows, highs = [b[0] for b in boxes], [b[1] for b in boxes]
        # Several keys can trade off along a valley: refine from the best few grid points.
        tried.sort(key=lambda pair: pair[0])
        for _, origin in tried[: starts if len(keys) > 1 else 1]:
            simplex = np.vstack([origin, origin + np.diag(sizes * 0.5)])
            refined = optimize.minimize(
                objective,
                origin,
                method="Nelder-Mead",
                bounds=boxes,
                options={
                    "initial_simplex": np.clip(simplex, lows, highs),
                    "maxfev": max_evaluations,
                    "xatol": 0.01,
                    "fatol": 1e-12,
                },
            )
            if refined.fun < best_f:
                best_z, best_f = np.asarray(refined.x), float(refined.fun)
        edges = _at_edges(best_z, boxes)
        wider = [
            _widen(box, side, p, span) for box, side, p in zip(boxes, edges, priors, strict=True)
        ]
        if attempt == widen or wider == boxes:
            break
        boxes = wider
    values = [p.from_z(v) for p, v in zip(priors, best_z, strict=True)]
    fit = PointFit(values, best_f, len(cache), boxes)
    for k, p, z, box, side in zip(
        keys, priors, best_z, boxes, _at_edges(best_z, boxes), strict=True
    ):
        value = p.from_z(z)
        if side == 0:
            continue
        limit = "upper" if side > 0 else "lower"
        bound = p.high if side > 0 else p.low
        if math.isclose(z, p.to_z(bound), rel_tol=0, abs_tol=EDGE * (box[1] - box[0])):
            what = "the schema's" if bound in (k.lower, k.upper) else "the prior's"
            fit.warnings.append(
                f"{k.key} = {value:.4g} ends at {what} {limit} bound ({bound:.4g}): the data "
                "want a value the model does not allow; the other keys compensate, so read "
                "them with care (a missing mechanism, e.g. an adoption ceiling, can cause this)"
            )
        else:
            fit.warnings.append(
                f"{k.key} = {value:.4g} ends at the {limit} edge of its search box after "
                f"{widen} widening(s); the objective is still falling beyond it"
            )
    return fit


def _at_edges(z: np.ndarray, boxes: Sequence[tuple[float, float]]) -> list[int]:
    """-1 at a box's lower side, +1 at its upper side, 0 inside."""
    sides = []
    for value, (low, high) in zip(z, boxes, strict=True):
        tol = EDGE * (high - low)
        sides.append(-1 if value <= low + tol else 1 if value >= high - tol else 0)
    return sides


def _widen(box: tuple[float, float], side: int, prior: Prior, span: float) -> tuple[float, float]:
    """The box extended on ``side`` (by a factor span in log, or to the prior linearly)."""
    low_z, high_z = prior.z_bounds
    step = math.log(span) if prior.log else (high_z - low_z)
    low, high = box
    if side < 0:
        return max(low - step, low_z), high
    if side > 0:
        return low, min(high + step, high_z)
    return box
