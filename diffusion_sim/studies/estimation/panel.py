"""The panel event-history analysts use, from the same cells and exposure as the likelihood.

``panel``: one row per city and step at risk (steps 1..T; a city that drops is
at risk again), with

- ``adopted``: 1 if it adopted at this step by its hazard;
- per tie layer l: ``count_<l>`` adopted neighbours, ``share_<l>`` their share
  of its tie weight (sum_j R^l_ij A_j / sum_j R^l_ij), ``exposure_<l>`` the
  prestige-weighted sum sum_j R^l_ij prestige_j A_j that contagion reads;
  ``count_any`` adopted neighbours over all layers (a pair counted once);
- the governments above: ``stance_<level>`` (-1 hostile, 0 neutral, 1 supportive)
  and ``adopted_<level>`` (1 if it has the policy), both empty where the city has
  no government at that level; ``support`` (the total
  top-down support), ``hostile_above``, ``blocked`` (preempted, not defiant),
  ``mandate`` (one in force), ``mandate_elapsed`` (k of the compliance rule);
- ``boost`` (a summit's multiplier), and the city's population, capacity,
  leaning, readiness and susceptibility.

``dyads``: the directed-dyad form, one row per (step, city at risk, tied
neighbour) with the target's outcome, whether the neighbour had adopted, each
layer's tie weight and the neighbour's prestige. A world has far more such rows
than a panel, so they are capped: when the rows exceed ``max_rows``, whole target
cities are taken in a random order (seeded) until the cap, with every step and
tie of each, and the note says how many; a target's rows are never cut.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from diffusion_sim.mechanisms import horizontal
from diffusion_sim.model.setup import NO_MANDATE, Setup
from diffusion_sim.scenario import LEVELS
from diffusion_sim.studies.estimation.exposure import Exposure, ranges, unit_setup
from diffusion_sim.studies.estimation.timeline import Cells

MAX_DYAD_ROWS = 1_000_000


def panel(
    setup: Setup, cells: Cells, exposure: Exposure, start: pd.Period | None = None
) -> pd.DataFrame:
    """One row per city and step at risk (see the module docstring)."""
    world, city = setup.world, cells.city
    columns: dict[str, np.ndarray] = {
        "city": city,
        "name": np.asarray(world.city_names, dtype=object)[city],
        "step": cells.step,
    }
    if start is not None:
        columns["period"] = np.asarray([str(start + int(s)) for s in range(cells.steps + 1)])[
            cells.step
        ]
    columns["adopted"] = cells.adopted.astype(np.int8)
    for k, name in enumerate(exposure.layers):
        raw = exposure.raw[k]
        total = exposure.totals[cells.epoch, k, city]
        numerator = exposure.sums(raw)
        with np.errstate(invalid="ignore", divide="ignore"):
            columns[f"share_{name}"] = np.where(total > 0, numerator / total, np.nan)
        columns[f"count_{name}"] = np.rint(exposure.sums((raw > 0).astype(float))).astype(np.int32)
        columns[f"exposure_{name}"] = exposure.sums(exposure.weighted[k])
    columns["count_any"] = np.rint(exposure.sums(np.ones(exposure.n_dyads))).astype(np.int32)
    levels = sorted(set(setup.gov_level.tolist()))
    g = setup.n_governments
    stance = np.array([np.append(s.stance, 0) for s in cells.snapshots], dtype=np.float64)
    adopted = np.array([np.append(s.adopted, False) for s in cells.snapshots])
    for row, code in zip(setup.city_gov, levels, strict=True):
        gov = row[city]
        none = gov == g
        columns[f"stance_{LEVELS[code]}"] = np.where(none, np.nan, stance[cells.snapshot, gov])
        columns[f"adopted_{LEVELS[code]}"] = np.where(none, np.nan, adopted[cells.snapshot, gov])
    in_force = cells.mandate_start != NO_MANDATE
    columns["support"] = cells.support
    columns["hostile_above"] = cells.n_hostile.astype(np.int16)
    columns["blocked"] = cells.blocked.astype(np.int8)
    columns["mandate"] = in_force.astype(np.int8)
    columns["mandate_elapsed"] = np.where(in_force, cells.step - cells.mandate_start - 1, -1)
    columns["boost"] = cells.boost
    columns["population"] = world.population[city]
    columns["capacity"] = world.capacity[city]
    columns["leaning"] = world.leaning[city]
    columns["readiness"] = setup.readiness[city]
    columns["susceptibility"] = setup.susceptibility[city]
    return pd.DataFrame(columns)


def dyads(
    setup: Setup, cells: Cells, max_rows: int = MAX_DYAD_ROWS, seed: int = 0
) -> tuple[pd.DataFrame, str]:
    """The directed-dyad rows of tied pairs, capped by whole target cities (module docstring)."""
    n, steps = setup.n_cities, cells.steps
    h = setup.scenario.mechanisms.horizontal
    prestige = horizontal.prestige(setup.world.population, h.prestige_alpha)
    adopted = np.zeros((n, steps + 2), dtype=bool)
    for c, first, last in zip(*cells.intervals, strict=True):
        adopted[c, first : last + 1] = True
    unit = unit_setup(setup)
    tables = []
    for sizes in cells.epochs:
        layers = unit.tie_layers(sizes)
        union = sum((abs(m) for m in layers.values()), start=0 * next(iter(layers.values())))
        union = union.tocsr()
        union.eliminate_zeros()
        union.sort_indices()
        tables.append((layers, union))
    degree = np.array([np.diff(union.indptr) for _, union in tables])
    per_cell = degree[cells.epoch, cells.city]
    rows_per_city = np.bincount(cells.city, weights=per_cell, minlength=n)
    targets = np.flatnonzero(rows_per_city > 0)
    rng = np.random.default_rng(seed)
    chosen = targets
    note = f"all {len(targets)} target cities with ties"
    if rows_per_city.sum() > max_rows:
        order = rng.permutation(targets)
        fits = np.cumsum(rows_per_city[order]) <= max_rows
        chosen = np.sort(order[fits])
        note = (
            f"{len(chosen)} of {len(targets)} target cities (random order, seed {seed}), every "
            f"step and tie of each: {int(rows_per_city[chosen].sum()):,} of "
            f"{int(rows_per_city.sum()):,} rows (cap {max_rows:,})"
        )
    keep = np.isin(cells.city, chosen)
    parts = []
    for e, (layers, union) in enumerate(tables):
        mask = keep & (cells.epoch == e)
        city, step, y = cells.city[mask], cells.step[mask], cells.adopted[mask]
        counts = np.diff(union.indptr)[city]
        starts = union.indptr[city]
        which = np.repeat(np.arange(len(city)), counts)
        position = ranges(starts, counts)
        source = union.indices[position]
        target, at = city[which], step[which]
        frame = {
            "step": at,
            "city": target,
            "source": source,
            "adopted": y[which].astype(np.int8),
            "source_adopted": adopted[source, at].astype(np.int8),
        }
        for name, matrix in layers.items():
            frame[f"tie_{name}"] = np.asarray(sp_lookup(matrix, target, source))
        frame["source_prestige"] = prestige[source]
        frame["source_population"] = setup.world.population[source]
        parts.append(pd.DataFrame(frame))
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if len(table):
        table = table.sort_values(["step", "city", "source"], ignore_index=True)
        layer_columns = [c for c in table.columns if c.startswith("tie_")]
        table[layer_columns] = table[layer_columns].fillna(0.0)
    return table, note


def sp_lookup(matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """matrix[rows[k], cols[k]] for every k (0 where the pair has no entry), vectorized."""
    csr = matrix.tocsr()
    csr.sum_duplicates()
    csr.sort_indices()
    n = csr.shape[1]
    keys = np.repeat(np.arange(csr.shape[0], dtype=np.int64), np.diff(csr.indptr)) * n
    keys = keys + csr.indices
    query = rows.astype(np.int64) * n + cols
    position = np.minimum(np.searchsorted(keys, query), max(len(keys) - 1, 0))
    out = np.zeros(len(query))
    if len(keys):
        hit = keys[position] == query
        out[hit] = csr.data[position[hit]]
    return out
