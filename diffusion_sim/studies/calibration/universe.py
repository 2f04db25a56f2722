"""Which rows of the data count on a world: one row per city, within the world's universe.

A register may list a city twice (the first date counts); a JRC file on a real world
counts only signatories the world could hold (its population floor, its countries),
and names that are not the world's cities are counted still but named in a warning.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from diffusion_sim.scenario import Scenario
from diffusion_sim.world import World


def lines_text(lines: np.ndarray, rows: np.ndarray) -> str:
    """'line(s) 3, 7 and 4 more': where the rows are in the file (the first five named)."""
    shown = ", ".join(str(lines[i]) for i in rows[:5])
    return f"line(s) {shown}" + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")


def universe_floor(data_format: str, scenario: Scenario, world: World) -> int | None:
    """The population floor of a JRC file's universe on a real world (None: every row counts).

    The world's cities are those of at least ``world.min_population`` inhabitants (or,
    with ``world.max_cities``, the largest N, whose smallest is then the floor)."""
    if data_format != "jrc" or world.meta.get("generator") != "real":
        return None
    floor = scenario.world.min_population
    if scenario.world.max_cities is not None:
        floor = max(floor, int(world.population.min()))
    return int(floor)


def in_universe(table: pd.DataFrame, floor: int, world: World) -> pd.DataFrame:
    """The JRC rows of at least ``floor`` inhabitants in the world's countries."""
    codes = set(world.meta.get("country_codes", ()))
    return table[(table["population"] >= floor) & table["country"].isin(codes)]


def first_adoptions(table: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Each city's first row (earliest date; file order among equal dates) and how many
    repeated rows were dropped: a city signs once, however often a register lists it."""
    from diffusion_sim.studies.estimation.matching import (
        normal,  # here: estimation imports this module
    )

    key = table["city"].map(normal)
    if "country" in table:
        key = table["country"].astype(str) + "|" + key
    order = table.assign(_key=key.to_numpy()).sort_values(["date", "line"], kind="stable")
    first = order[~order["_key"].duplicated()].drop(columns="_key").sort_index()
    return first, len(table) - len(first)


def unmatched_warning(table: pd.DataFrame, world: World) -> tuple[str, ...]:
    """A warning naming a few of the data's cities that the world does not have."""
    from diffusion_sim.studies.estimation.matching import examples, find_cities

    if table.empty:
        return ()
    country = table["country"].to_numpy() if "country" in table else None
    found, _ = find_cities(table["city"].to_numpy(dtype=object), world, country)
    missing = np.flatnonzero(found < 0)
    if not len(missing):
        return ()
    names = table["city"].to_numpy(dtype=object)
    lines = table["line"].to_numpy()
    return (
        f"{len(missing)} of {len(table)} cities of the data are not cities of this world "
        f"({world.n_cities} cities), e.g. {examples(names[missing])} ({lines_text(lines, missing)}"
        "): the curve still counts them, as a share of the world's cities; check that the "
        "data is for this scenario's world (estimate refuses such names)",
    )
