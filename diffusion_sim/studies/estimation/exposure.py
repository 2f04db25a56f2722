"""Horizontal exposure: which adopted neighbours, over which tie layer, each city at risk had.

Contagion's hazard at a cell (city i, step t) reads

    L_i(t) = sum_j A_j(t) x -log(1 - p_ij),   p_ij = sum_l beta_l x R^l_ij x prestige_j,

with R^l the tie layers (``Setup.tie_layers`` with the scenario's layer weights
set to 1, so that beta_l is the persuasion per unit of the layer's own tie
weight) and A_j(t) whether j counts as adopted at t. Everything but beta is
fixed by the data, so it is built once here and every likelihood evaluation
is a weighted sum over the same structure:

- the **dyads** (i, j) tied in some layer while a network configuration lasts
  (an epoch: ``diffusion_sim.model.events.network_sizes_at``), kept when i is at risk
  and j adopted during it, with R^l_ij x prestige_j per layer (``weighted``);
- each dyad's **spells**: the contiguous steps at which j counts as adopted,
  written as +w at the first step and -w after the last on a (city, step)
  grid, so one ``bincount`` and one cumulative sum over steps give every
  cell's sum (:meth:`Exposure.sums`), for any per-dyad weight w;
- the same for the adoption cells alone as a sparse matrix (:meth:`Exposure.at_adoptions`),
  for the per-adoption attribution and its intervals.

A city that drops ends its spell (its neighbours' exposure falls) and is at
risk again: abandonment is handled, not assumed away.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from diffusion_sim.mechanisms import horizontal
from diffusion_sim.model.setup import Setup
from diffusion_sim.studies.estimation.timeline import Cells

UNIT_WEIGHTS = {
    "mechanisms.horizontal.proximity_weight": 1.0,
    "mechanisms.horizontal.twinning_weight": 1.0,
    "mechanisms.horizontal.network_weight": 1.0,
}
"""The scenario's layer multipliers set to 1: the layers' own tie weights (R^l)."""


def unit_setup(setup: Setup) -> Setup:
    """The same setup with every layer multiplier 1 (no draw: the arrays are shared)."""
    scenario = setup.scenario.with_overrides(UNIT_WEIGHTS)
    return dataclasses.replace(setup, scenario=scenario, _influence_cache={})


@dataclass(frozen=True)
class Exposure:
    """Dyads, their spells and the grid that turns per-dyad weights into per-cell sums."""

    layers: tuple[str, ...]
    network_layers: tuple[str, ...]
    scenario_weight: np.ndarray
    """Per layer: the scenario's multiplier (proximity_weight, ...; network_weight)."""
    raw: np.ndarray
    """(layers, dyads) R^l_ij."""
    weighted: np.ndarray
    """(layers, dyads) R^l_ij x prestige_j."""
    target: np.ndarray
    source: np.ndarray
    increments: tuple[np.ndarray, np.ndarray, np.ndarray]
    """(grid index, dyad, sign) of every spell's start (+1) and end (-1)."""
    grid_shape: tuple[int, int]
    cell_grid: np.ndarray
    """Per cell: its place (row x width + step) on the grid."""
    spells: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    """(grid row, first step, last step, dyad) of every spell, sorted by row."""
    adoption_cells: np.ndarray
    adoption_matrix: sp.csr_array
    totals: np.ndarray
    """(epochs, layers, cities): sum_j R^l_ij over all of i's ties (the share's denominator)."""
    degree: np.ndarray
    """(epochs, layers, cities): number of i's ties in each layer."""

    @property
    def n_dyads(self) -> int:
        return len(self.target)

    def sums(self, per_dyad: np.ndarray) -> np.ndarray:
        """Per cell: the sum of ``per_dyad`` over the dyads whose source counts as adopted."""
        index, dyad, sign = self.increments
        grid = np.bincount(
            index, weights=per_dyad[dyad] * sign, minlength=self.grid_shape[0] * self.grid_shape[1]
        )
        return np.cumsum(grid.reshape(self.grid_shape), axis=1).ravel()[self.cell_grid]

    def at_adoptions(self, per_dyad: np.ndarray) -> np.ndarray:
        """:meth:`sums` at the adoption cells only (``adoption_cells``), by a sparse product."""
        return self.adoption_matrix @ per_dyad

    def changed(self) -> np.ndarray:
        """Per cell: whether its exposure may differ from the step before (a spell starts/ends)."""
        marks = np.zeros(self.grid_shape[0] * self.grid_shape[1], dtype=bool)
        marks[self.increments[0]] = True
        return marks[self.cell_grid]

    def matrix(self, index: np.ndarray) -> sp.csr_array:
        """(cells ``index`` x dyads): 1 where the dyad's source counts as adopted at the cell.

        ``matrix(index) @ w`` equals ``sums(w)[index]``; for few cells it is much cheaper.
        """
        return spell_matrix(self.spells, self.cell_grid[index], self.grid_shape[1], self.n_dyads)


def build_exposure(setup: Setup, cells: Cells) -> Exposure:
    """The exposure structure of the cells (see the module docstring)."""
    n = setup.n_cities
    h = setup.scenario.mechanisms.horizontal
    prestige = horizontal.prestige(setup.world.population, h.prestige_alpha)
    unit = unit_setup(setup)
    names: list[str] = []
    per_epoch = []
    for sizes in cells.epochs:
        raw_layers = unit.tie_layers(sizes)
        names += [name for name in raw_layers if name not in names]
        per_epoch.append(raw_layers)
    world_layers = set(setup.world.layers)
    weights = _scenario_weights(setup, cells, per_epoch, names)

    rows_of = np.full(n, -1, dtype=np.int64)
    risk_cities = np.unique(cells.city)
    rows_of[risk_cities] = np.arange(len(risk_cities))
    width = cells.steps + 2
    spell_city, spell_first, spell_last = cells.intervals
    order = np.argsort(spell_city, kind="stable")
    spell_city, spell_first, spell_last = spell_city[order], spell_first[order], spell_last[order]
    spell_start = np.searchsorted(spell_city, np.arange(n + 1))

    totals = np.zeros((len(per_epoch), len(names), n))
    degree = np.zeros((len(per_epoch), len(names), n), dtype=np.int64)
    raw_parts, target_parts, source_parts = [], [], []
    inc_index, inc_dyad, inc_sign = [], [], []
    offset = 0
    steps_of_epoch = _segments(cells)
    for e, layers in enumerate(per_epoch):
        keys, layer_of, values = [], [], []
        for k, name in enumerate(names):
            if name not in layers:
                continue
            matrix = sp.coo_array(layers[name])
            keep = matrix.data != 0
            keys.append(matrix.row[keep].astype(np.int64) * n + matrix.col[keep])
            layer_of.append(np.full(int(keep.sum()), k))
            values.append(matrix.data[keep])
            totals[e, k] = np.bincount(matrix.row[keep], weights=matrix.data[keep], minlength=n)
            degree[e, k] = np.bincount(matrix.row[keep], minlength=n)
        if not keys:
            continue
        unique, inverse = np.unique(np.concatenate(keys), return_inverse=True)
        target, source = unique // n, unique % n
        raw = np.zeros((len(names), len(unique)))
        np.add.at(raw, (np.concatenate(layer_of), inverse), np.concatenate(values))
        # keep dyads whose target is ever at risk and whose source ever adopts
        useful = (rows_of[target] >= 0) & (spell_start[source + 1] > spell_start[source])
        target, source, raw = target[useful], source[useful], raw[:, useful]
        # every spell of each dyad's source, clipped to this epoch's segments
        counts = spell_start[source + 1] - spell_start[source]
        dyad = np.repeat(np.arange(len(target)), counts)
        spell = ranges(spell_start[source], counts)
        for first, last in steps_of_epoch[e]:
            lo = np.maximum(spell_first[spell], first)
            hi = np.minimum(spell_last[spell], last)
            live = lo <= hi
            d, lo, hi = dyad[live], lo[live], hi[live]
            row = rows_of[target[d]] * width
            inc_index += [row + lo, row + hi + 1]
            inc_dyad += [d + offset, d + offset]
            inc_sign += [np.ones(len(d)), -np.ones(len(d))]
        raw_parts.append(raw)
        target_parts.append(target)
        source_parts.append(source)
        offset += len(target)

    raw = np.concatenate(raw_parts, axis=1) if raw_parts else np.zeros((len(names), 0))
    target = np.concatenate(target_parts) if target_parts else np.empty(0, np.int64)
    source = np.concatenate(source_parts) if source_parts else np.empty(0, np.int64)
    increments = (
        np.concatenate(inc_index) if inc_index else np.empty(0, np.int64),
        np.concatenate(inc_dyad) if inc_dyad else np.empty(0, np.int64),
        np.concatenate(inc_sign) if inc_sign else np.empty(0),
    )
    cell_grid = rows_of[cells.city] * width + cells.step
    spells = _spells(increments, width)
    adoption_cells = np.flatnonzero(cells.adopted)
    matrix = spell_matrix(spells, cell_grid[adoption_cells], width, offset)
    return Exposure(
        layers=tuple(names),
        network_layers=tuple(name for name in names if name not in world_layers),
        scenario_weight=weights,
        raw=raw,
        weighted=raw * prestige[source],
        target=target,
        source=source,
        increments=increments,
        grid_shape=(len(risk_cities), width),
        cell_grid=cell_grid,
        spells=spells,
        adoption_cells=adoption_cells,
        adoption_matrix=matrix,
        totals=totals,
        degree=degree,
    )


def _segments(cells: Cells) -> list[list[tuple[int, int]]]:
    """Per epoch: its runs of consecutive steps (first, last)."""
    epoch_of_step = np.full(cells.steps + 1, -1)
    epoch_of_step[cells.step] = cells.epoch  # every step has cells unless all have adopted
    for t in range(1, cells.steps + 1):  # steps with no city at risk: exposure unread
        if epoch_of_step[t] < 0:
            epoch_of_step[t] = epoch_of_step[t - 1]
    runs: list[list[tuple[int, int]]] = [[] for _ in cells.epochs]
    first = 1
    for t in range(2, cells.steps + 2):
        if t == cells.steps + 1 or epoch_of_step[t] != epoch_of_step[first]:
            if epoch_of_step[first] >= 0:
                runs[epoch_of_step[first]].append((first, t - 1))
            first = t
    return runs


def _scenario_weights(setup: Setup, cells: Cells, per_epoch: list, names: list[str]) -> np.ndarray:
    """Each layer's multiplier in the scenario, read off ``tie_layers`` (so never re-listed)."""
    weights = np.zeros(len(names))
    found = np.zeros(len(names), dtype=bool)
    for sizes, raw_layers in zip(cells.epochs, per_epoch, strict=True):
        scaled = setup.tie_layers(sizes)
        for k, name in enumerate(names):
            if found[k] or name not in raw_layers:
                continue
            total = float(raw_layers[name].sum())
            if total > 0:
                weights[k] = float(scaled[name].sum()) / total
                found[k] = True
    return weights


def _spells(
    increments: tuple[np.ndarray, np.ndarray, np.ndarray], width: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(row, first, last, dyad) of every spell from its start (+) and end (-) increments."""
    index, dyad, sign = increments
    start = sign > 0  # starts and ends were written in the same order
    row, first = np.divmod(index[start], width)
    last = index[~start] % width - 1
    order = np.argsort(row, kind="stable")
    return row[order], first[order], last[order], dyad[start][order]


def spell_matrix(
    spells: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    grid: np.ndarray,
    width: int,
    n_dyads: int,
) -> sp.csr_array:
    """(cells at grid places ``grid`` x dyads): 1 where a spell of the dyad covers the cell."""
    row, first, last, dyad = spells
    cell_row, t = np.divmod(grid, width)
    lo = np.searchsorted(row, cell_row)
    hi = np.searchsorted(row, cell_row, side="right")
    which = np.repeat(np.arange(len(grid)), hi - lo)
    spell = ranges(lo, hi - lo)
    at = t[which]
    live = (first[spell] <= at) & (at <= last[spell])
    return sp.csr_array(
        (np.ones(int(live.sum())), (which[live], dyad[spell[live]])), shape=(len(grid), n_dyads)
    )


def ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The concatenated ranges [start, start + count) (without a Python loop).

    Examples
    --------
    >>> ranges(np.array([5, 0, 2]), np.array([2, 0, 3])).tolist()
    [5, 6, 2, 3, 4]
    """
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    offsets = np.repeat(np.cumsum(counts) - counts, counts)
    return np.repeat(np.asarray(starts, dtype=np.int64), counts) + np.arange(total) - offsets
