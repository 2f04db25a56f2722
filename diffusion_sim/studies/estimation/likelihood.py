"""The log-likelihood of the observed histories under the model's own discrete-time hazard.

At every cell (city i at risk at step t) the model gives the hazard

    h_it = 1 - prod_k (1 - h_k,it),   k in (innovation, horizontal, vertical, hierarchical)

composed by :mod:`diffusion_sim.mechanisms.embedded` from the mechanisms' own
rules (the array forms of the ``@rule`` functions, as the engine's numpy
reference :func:`diffusion_sim.engines.vectorized.full_hazard` applies them), and

    log L(theta) = sum_cells [ y_it log h_it + (1 - y_it) log(1 - h_it) ],

y_it = 1 when i adopted at t by its hazard. Given the state at the start of a
step every hazard is known, so this is the exact likelihood of the adoptions
given the governments' histories, the cities' drops and the scheduled events
(which the model draws separately: their parameters factor out).

Contagion's pressure is summed unrounded (``fixed_point=False``, smooth in the
parameters, for fitting); with ``fixed_point=True`` each tie's log-escape weight
is rounded to the engines' 2^-20 units, and the hazards equal the engine's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from diffusion_sim.mechanisms import compiling, compose, horizontal, innovation, vertical
from diffusion_sim.mechanisms.embedded import ADOPTION_CHANNELS, combined_hazard
from diffusion_sim.model.setup import Setup
from diffusion_sim.studies.estimation.exposure import Exposure
from diffusion_sim.studies.estimation.parameters import Parametrisation, Values
from diffusion_sim.studies.estimation.timeline import Cells

TINY = 1e-300
"""An adoption the model gives no chance at some parameters is scored log(TINY), not -inf."""
ALMOST_ONE = 1.0 - 2.0**-52


class CellInputs(NamedTuple):
    """What :func:`~diffusion_sim.mechanisms.compose.cell_channels` reads per cell."""

    support: np.ndarray
    n_hostile: np.ndarray
    blocked: np.ndarray
    mandate_start: np.ndarray
    susceptibility: np.ndarray
    readiness: np.ndarray
    step: np.ndarray
    innovation: np.ndarray
    boost: np.ndarray


@dataclass(frozen=True)
class CellSet:
    """The arrays a hazard evaluation reads, for some cells (all informative ones, or adoptions)."""

    cells: np.ndarray
    """Indices into the :class:`Cells` (of each run's first cell)."""
    weight: np.ndarray
    """Cells each stands for: a run of steps of one city with the same hazard."""
    exposure: sp.csr_array
    """(cells x dyads) adopted sources at each cell (:meth:`Exposure.matrix`)."""
    y: np.ndarray
    susceptibility: np.ndarray
    capacity: np.ndarray
    leaning: np.ndarray
    readiness: np.ndarray
    support: np.ndarray
    n_hostile: np.ndarray
    blocked: np.ndarray
    mandate_start: np.ndarray
    step: np.ndarray
    boost: np.ndarray

    @classmethod
    def of(
        cls,
        setup: Setup,
        cells: Cells,
        exposure: Exposure,
        index: np.ndarray,
        weight: np.ndarray | None = None,
    ) -> CellSet:
        world, city = setup.world, cells.city[index]
        return cls(
            cells=index,
            weight=np.ones(len(index)) if weight is None else weight,
            exposure=exposure.matrix(index),
            y=cells.adopted[index],
            susceptibility=setup.susceptibility[city],
            capacity=world.capacity[city],
            leaning=world.leaning[city],
            readiness=setup.readiness[city],
            support=cells.support[index],
            n_hostile=cells.n_hostile[index],
            blocked=cells.blocked[index],
            mandate_start=cells.mandate_start[index].astype(np.int64),
            step=cells.step[index].astype(np.int64),
            boost=cells.boost[index],
        )


class Likelihood:
    """log L(theta) over the informative cells; see the module docstring.

    A cell is informative when some channel can move it: a cell whose hazard is
    0 (or 1) whatever the parameters adds nothing, and an adoption (or a
    non-adoption) there is impossible under the scenario; such cells are left out
    and counted (``impossible``).
    """

    def __init__(
        self,
        setup: Setup,
        cells: Cells,
        exposure: Exposure,
        parametrisation: Parametrisation,
        *,
        fixed_point: bool = False,
    ) -> None:
        self.setup, self.cells, self.exposure = setup, cells, exposure
        self.parametrisation = parametrisation
        self.fixed_point = fixed_point
        self.params = compose.params_of(setup.scenario.mechanisms, setup.deterrence)
        self.on = dict(zip(ADOPTION_CHANNELS, compose.adoption_switches(self.params), strict=False))
        self.max_hostile = len(setup.city_gov)
        self.deterrence_estimated = "mechanisms.vertical.deterrence" in parametrisation.keys
        zero_prob, one_prob = self._structure()
        informative = ~(zero_prob | one_prob)
        self.impossible = {
            "adoptions with no possible channel": int((zero_prob & cells.adopted).sum()),
            "non-adoptions where the hazard is 1": int((one_prob & ~cells.adopted).sum()),
        }
        first, weight = runs(cells, exposure, informative, every_step=self.params.novelty)
        self.all = CellSet.of(setup, cells, exposure, first, weight)
        self.adoptions = CellSet.of(setup, cells, exposure, exposure.adoption_cells)
        self.evaluations = 0

    def _structure(self) -> tuple[np.ndarray, np.ndarray]:
        """Cells whose hazard is 0, and 1, at every parameter value."""
        setup, cells = self.setup, self.cells
        city = cells.city
        not_blocked = ~cells.blocked
        base = setup.susceptibility[city] * not_blocked
        if self.on["vertical"] and not self.deterrence_estimated:
            base = base * setup.deterrence[cells.n_hostile]
        exposed = self.exposure.sums(np.ones(self.exposure.n_dyads)) > 0.5
        voluntary = np.zeros(cells.n, dtype=bool)
        world = setup.world
        if self.on["innovation"]:  # positive at some rate: positive at rate 1
            voluntary |= innovation.innovation_hazard(world.capacity, world.leaning, 1.0)[city] > 0
        if self.on["horizontal"]:
            voluntary |= exposed
        if self.on["vertical"]:
            voluntary |= vertical.top_down_hazard(cells.support, setup.readiness[city], 1.0) > 0
        compliance = cells.compliance * not_blocked if self.on["hierarchical"] else 0.0
        zero = ~((base > 0) & voluntary) & ~(compliance > 0)
        one = compliance >= 1.0
        return zero, one

    # ------------------------------------------------------------------ hazards
    def pressure(self, values: Values, which: CellSet) -> np.ndarray:
        """Contagion's log-escape pressure at the cells, in the engines' 2^-20 units."""
        p = values.beta @ self.exposure.weighted
        units = horizontal.log_escape(p) * horizontal.LOG_ESCAPE_UNITS
        if self.fixed_point:
            units = np.round(units)
        return which.exposure @ units

    def channels(
        self, values: Values, which: CellSet, pressure: np.ndarray | None = None
    ) -> tuple[np.ndarray, ...]:
        """The four channels' hazards at the cells, composed as the engines compose them.

        :func:`diffusion_sim.mechanisms.compose.cell_channels` with the scenario's switches
        and rates (:mod:`diffusion_sim.mechanisms.compose`), the estimated ones
        put in their place.
        """
        params = self.params._replace(
            top_down_rate=float(values.top_down_rate),
            deterrence=vertical.deterrence_factors(values.deterrence, self.max_hostile),
        )
        escaped = np.ones(len(which.cells))
        if params.horizontal_rule == compose.CONTAGION_RULE:
            pressure = self.pressure(values, which) if pressure is None else pressure
            escaped = horizontal.escape_probability(pressure)
        inputs = CellInputs(
            support=np.asarray(which.support, dtype=np.float64),
            n_hostile=np.asarray(which.n_hostile, dtype=np.int64),
            blocked=np.asarray(which.blocked, dtype=bool),
            mandate_start=which.mandate_start,
            susceptibility=np.asarray(which.susceptibility, dtype=np.float64),
            readiness=np.asarray(which.readiness, dtype=np.float64),
            step=which.step,
            innovation=np.asarray(
                innovation.innovation_hazard(which.capacity, which.leaning, values.innovation_rate),
                dtype=np.float64,
            ),
            boost=np.asarray(which.boost, dtype=np.float64),
        )
        out = np.empty((len(ADOPTION_CHANNELS), len(which.cells)))
        compiling.fresh_cache()
        compose.cell_channels(params, inputs, np.asarray(escaped, dtype=np.float64), out)
        return tuple(out)

    def hazard(self, values: Values, which: CellSet | None = None) -> np.ndarray:
        """The combined hazard h = 1 - prod_k (1 - h_k) at the cells (default: the runs)."""
        return combined_hazard(self.channels(values, which or self.all))

    def cell_hazards(self, theta: Sequence[float], index: np.ndarray | None = None) -> np.ndarray:
        """The combined hazard at every cell (or the cells ``index``), uncompressed.

        For checks and the panel: the engines' hazards at the same cells, when
        ``fixed_point`` is set.
        """
        index = np.arange(self.cells.n) if index is None else np.asarray(index)
        which = CellSet.of(self.setup, self.cells, self.exposure, index)
        return self.hazard(self.parametrisation.values(theta), which)

    # -------------------------------------------------------------- likelihood
    def loglik(self, theta: Sequence[float]) -> float:
        """log L at the parameter vector theta (the estimated parameters, in order)."""
        self.evaluations += 1
        h = self.hazard(self.parametrisation.values(theta))
        y, weight = self.all.y, self.all.weight
        adopted = np.log(np.maximum(h[y], TINY)).sum()
        stayed = (weight[~y] * np.log1p(-np.minimum(h[~y], ALMOST_ONE))).sum()
        return float(adopted + stayed)

    __call__ = loglik

    @property
    def n_cells(self) -> int:
        return int(self.all.weight.sum())

    @property
    def n_adoptions(self) -> int:
        return int(self.all.y.sum())


def runs(
    cells: Cells, exposure: Exposure, keep: np.ndarray, *, every_step: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The first cell and length of each run of kept cells whose hazard cannot differ.

    A city's consecutive steps at risk share their hazard at every parameter
    value until something it reads changes: a neighbour's spell starts or ends,
    its governments' support, hostility or preemption, a summit's boost, the
    compliance clock, the network configuration, or the city adopts. Each run is
    evaluated once and weighted by its length: on a real world most of a city's
    steps are alike, so this divides the work of an evaluation by about ten.
    ``every_step``: no two steps share a hazard (novelty decays every voluntary
    hazard with the step), so every cell is its own run.
    """
    index = np.flatnonzero(keep)
    order = index[np.lexsort((cells.step[index], cells.city[index]))]
    same = np.zeros(len(order), dtype=bool)
    if len(order) > 1 and not every_step:
        a, b = order[:-1], order[1:]
        same[1:] = (
            (cells.city[b] == cells.city[a])
            & (cells.step[b] == cells.step[a] + 1)
            & ~cells.adopted[a]
            & ~cells.adopted[b]
            & (cells.support[b] == cells.support[a])
            & (cells.n_hostile[b] == cells.n_hostile[a])
            & (cells.blocked[b] == cells.blocked[a])
            & (cells.boost[b] == cells.boost[a])
            & (cells.compliance[b] == cells.compliance[a])
            & (cells.epoch[b] == cells.epoch[a])
            & ~exposure.changed()[b]
        )
    starts = np.flatnonzero(~same)
    weight = np.diff(np.append(starts, len(order))).astype(np.float64)
    return order[starts], weight
