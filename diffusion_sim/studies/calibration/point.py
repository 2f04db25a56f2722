"""The fast point fit: a coarse first stage, then Nelder-Mead, in each key's transformed space.

Objective (documented in docs/calibration.md): the sum over steps of the squared
difference between the model's mean share of cities adopted and the observed
share, plus, when the data says which adoptions a province or region
coordinated, the same sum for the cumulative share of cities that adopted
through the vertical channel against the coordinated ones. Both curves are
shares of the world's cities, so they weigh alike without a tuning constant.

Each key's first box is its start / span .. start x span in log space (the whole
prior for a uniform one), centred instead where the data imply a value (the
innovation rate, from the curve's first step: keys.search_centres). The first
stage evaluates a grid (one key) or Sobol points (several) in the box; Nelder-Mead
runs from the best few of them that are not neighbours, then once more from the
best point found. A value that ends at the edge of its search box is searched
again in a box widened on that side (up to ``widen`` times), starting from where
it ended as well as from the new first stage; one that still ends at the edge, or
at a schema or prior bound, is reported as a warning, never silently.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from diffusion_sim.studies.calibration.keys import FitKey, Prior
from diffusion_sim.studies.calibration.model import Evaluation, Evaluator

EDGE = 0.02
"""A value within this fraction of its box's width from a side is 'at the edge'."""
SOBOL_SEED = 20261202
"""Scrambling seed of the first stage's Sobol points (fixed: the same data give the same fit)."""


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
    """The last box searched per key, in z (log or linear, as the prior)."""
    first: list[tuple[float, float]] = field(default_factory=list)
    """The first box searched per key, in z."""
    warnings: list[str] = field(default_factory=list)


def grid_points(n_keys: int) -> int:
    """First-stage points per key: 7 for one key (a grid), 5 for two or three, 4 for more
    (a Sobol sample of at least that many to the power of the keys: :func:`design`)."""
    return {1: 7, 2: 5, 3: 5}.get(n_keys, 4)


def search_box(
    k: FitKey, prior: Prior, span: float, centre: float | None = None
) -> tuple[float, float]:
    """The first box in z (log or linear): centre / span .. centre x span, inside the prior.

    The centre is the key's start unless the data imply a value (``centre``; see
    :func:`diffusion_sim.studies.calibration.keys.search_centres`).
    """
    low_z, high_z = prior.z_bounds
    if not prior.log:
        return low_z, high_z
    start = min(max(k.start if centre is None else centre, prior.low), prior.high)
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
    centres: Sequence[float | None] | None = None,
    polish: int = 1,
    progress: Callable[[], None] | None = None,
) -> PointFit:
    """First stage, then Nelder-Mead from its best ``starts`` points (one for a single key).

    ``max_evaluations`` is the budget of each Nelder-Mead run. With several keys the
    best point is then refined again from a fresh, smaller simplex, up to ``polish``
    times while that improves it. A box whose best value sits at its edge is widened
    on that side and searched again, from a new first stage and from that value.
    ``centres``: per key, a value the data imply to centre its first box on (None:
    its start).
    """
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

    centres = list(centres) if centres is not None else [None] * len(keys)
    boxes = [search_box(k, p, span, c) for k, p, c in zip(keys, priors, centres, strict=True)]
    first = list(boxes)
    points = grid or grid_points(len(keys))
    best_z, best_f = None, math.inf
    sides = [0] * len(keys)
    for attempt in range(widen + 1):
        carried = best_z
        lows, highs = np.array(boxes).T
        tried = []
        for unit in design(len(keys), points):
            combo = lows + unit * (highs - lows)
            value = objective(combo)
            tried.append((value, unit, combo))
            if value < best_f:
                best_z, best_f = combo, value
        sizes = (highs - lows) / max(points - 1, 1)
        # Several keys can trade off along a valley, and the curve can have more than one
        # basin: refine from the best first-stage points, none next to one already chosen.
        tried.sort(key=lambda entry: entry[0])
        chosen = spread(tried, starts if len(keys) > 1 else 1, 1.0 / max(points - 1, 1))
        origins = [combo for _, _, combo in chosen]
        directions = [np.ones(len(keys))] * len(origins)
        if carried is not None:
            # The box was widened because the best point sat at its edge: refine from that
            # point too, stepping out through the widened side. The wider first stage is
            # coarser, and without this the best could stay where the first box ended.
            origins.insert(0, carried)
            directions.insert(0, np.where(np.asarray(sides) < 0, -1.0, 1.0))
        for origin, direction in zip(origins, directions, strict=True):
            step = sizes * 0.5 * direction
            z, value = _nelder_mead(objective, origin, step, boxes, max_evaluations)
            if value < best_f:
                best_z, best_f = z, value
        # Nelder-Mead stalls when its simplex collapses along a valley: restart from the
        # best point with a smaller simplex while that still helps (at most ``polish`` times).
        for _ in range(polish if len(keys) > 1 else 0):
            z, value = _nelder_mead(objective, best_z, sizes * 0.25, boxes, max_evaluations)
            if not value < best_f:
                break
            best_z, best_f = z, value
        sides = _at_edges(best_z, boxes)
        wider = [
            _widen(box, side, p, span) for box, side, p in zip(boxes, sides, priors, strict=True)
        ]
        if attempt == widen or wider == boxes:
            break
        boxes = wider
    values = [p.from_z(v) for p, v in zip(priors, best_z, strict=True)]
    fit = PointFit(values, best_f, len(cache), boxes, first)
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
            if side < 0 and bound == k.lower == 0:  # 0: none of it (a rate, a ceiling off)
                fit.warnings.append(
                    f"{k.key} = {value:.4g} ends at {what} lower bound (0, none of it): either "
                    "the data do not need it, or they want less than none and the other keys "
                    "compensate (read them with care)"
                )
                continue
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


def design(n_keys: int, points: int) -> np.ndarray:
    """The first stage's points in the unit box, one row each.

    One key: ``points`` evenly spaced values. Several: a scrambled Sobol sequence
    (fixed seed, so a fit is reproducible) of the smallest power of two at least
    ``points`` ** n_keys. A grid of that size sees only ``points`` values of each
    key, and with three keys its best points could all lie in a wrong basin
    (docs/calibration.md, Bass curves); the Sobol points see as many values of
    each key as there are points, and cover the box as evenly.
    """
    if n_keys == 1:
        return np.linspace(0.0, 1.0, points)[:, None]
    from scipy.stats import qmc

    m = math.ceil(math.log2(points**n_keys))
    return qmc.Sobol(n_keys, scramble=True, seed=SOBOL_SEED).random_base2(m)


def spread(tried: list, count: int, near: float) -> list:
    """The best ``count`` of ``tried`` (value, unit point, z; best first) of which no two
    are within ``near`` of each other on every key (in the unit box); if too few are,
    the best of the rest."""
    chosen: list = []
    for entry in tried:
        if len(chosen) == count:
            return chosen
        if all(np.max(np.abs(entry[1] - c[1])) > near + 1e-12 for c in chosen):
            chosen.append(entry)
    rest = [entry for entry in tried if not any(entry is c for c in chosen)]
    return chosen + rest[: count - len(chosen)]


def _nelder_mead(
    objective: Callable[[np.ndarray], float],
    origin: np.ndarray,
    step: np.ndarray,
    boxes: Sequence[tuple[float, float]],
    budget: int,
) -> tuple[np.ndarray, float]:
    """Nelder-Mead inside ``boxes`` from ``origin``, first simplex ``origin + diag(step)``."""
    from scipy import optimize  # here: importing it costs half a second

    lows, highs = [b[0] for b in boxes], [b[1] for b in boxes]
    simplex = np.vstack([origin, origin + np.diag(step)])
    refined = optimize.minimize(
        objective,
        origin,
        method="Nelder-Mead",
        bounds=boxes,
        options={
            "initial_simplex": np.clip(simplex, lows, highs),
            "maxfev": budget,
            "xatol": 0.01,
            "fatol": 1e-12,
        },
    )
    return np.asarray(refined.x), float(refined.fun)


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
