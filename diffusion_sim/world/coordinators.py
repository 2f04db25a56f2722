"""The Covenant's coordinators as regional governments of a real world, built from data rows.

In the JRC Covenant of Mayors file a signatory names its coordinator (a province,
a region, an energy agency) when one brought it in: a direct trace of vertical
upscaling. To make the model's vertical channel mean "brought in by a higher
level", a coordinator becomes a government: every world city in its territory is
under it (it replaces the city's GeoNames region), and it has the policy from
the month its first municipality joined, so the top-down rule gives its cities
support 1 from then on (``vertical.support_rule``: a neutral government that has
the policy supports).

A territory is read from the *structure rows* only: signatories that are not
world cities (those below the world's population floor, by far the most). A
world city is under coordinator c when c coordinates more than half of the
:data:`NEIGHBOURS` nearest structure rows of its country that lie within
:data:`RADIUS_KM` (and at least one does). The rows that are world cities are
never read here, so their own coordinator field stays held out for validation
(docs/estimation.md). The rule's two numbers were chosen by leave-one-out on the
structure rows alone (``benchmarks/vertical_validation.py --choose``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from diffusion_sim.world import World
from diffusion_sim.world.synthetic import unit_vectors

NEIGHBOURS = 5
"""Structure rows consulted per city (its nearest of the same country)."""
RADIUS_KM = 30.0
"""Rows farther than this do not count."""
EARTH_KM = 6371.0
LABEL_LENGTH = 100
"""A government's name is a scenario label (at most 100 characters), so events can name it."""


def government_label(name: str) -> str:
    """``coordinator: <name>``, cut to :data:`LABEL_LENGTH` with an ellipsis when longer."""
    label = f"coordinator: {name}"
    return label if len(label) <= LABEL_LENGTH else label[: LABEL_LENGTH - 1] + "\u2026"


def territories(
    lon: np.ndarray,
    lat: np.ndarray,
    country: np.ndarray,
    rows: pd.DataFrame,
    neighbours: int = NEIGHBOURS,
    radius_km: float = RADIUS_KM,
    exclude_self: bool = False,
) -> np.ndarray:
    """Per place, the coordinator whose territory holds it ("" for none).

    Parameters
    ----------
    lon, lat, country : arrays (n,)
        The places (degrees; ISO-2 codes, upper case).
    rows : DataFrame
        Structure rows: ``lon``, ``lat``, ``country`` and ``coordinator`` ("" for none).
    exclude_self : bool
        Skip each place's nearest row (leave-one-out, when the places are the rows).
    """
    found = np.full(len(lon), "", dtype=object)
    rows = rows[np.isfinite(rows["lon"]) & np.isfinite(rows["lat"])]
    skip = int(exclude_self)
    for code, group in rows.groupby("country", sort=False):
        places = np.flatnonzero(country == code)
        k = min(neighbours + skip, len(group))
        if len(places) == 0 or k <= skip:
            continue
        tree = cKDTree(unit_vectors(group["lon"].to_numpy(), group["lat"].to_numpy()))
        chord, index = tree.query(unit_vectors(lon[places], lat[places]), k=k)
        chord = np.asarray(chord).reshape(len(places), k)[:, skip:]
        index = np.asarray(index).reshape(len(places), k)[:, skip:]
        km = 2 * EARTH_KM * np.arcsin(np.clip(chord / 2, 0, 1))
        names = group["coordinator"].to_numpy(dtype=object)[index]
        for place, near, close in zip(places, names, km <= radius_km, strict=True):
            within = near[close]
            named = Counter(n for n in within if n)
            if named:
                name, count = named.most_common(1)[0]
                if count > len(within) / 2:
                    found[place] = name
    return found


def with_coordinators(world: World, rows: pd.DataFrame) -> tuple[World, dict[str, pd.Timestamp]]:
    """The world with each coordinator's territory as a regional government of its own.

    Returns the world (cities under a coordinator get a new region named after
    it; the others keep their GeoNames region; a region left without cities
    is dropped) and each coordinator's start: the
    date of its first structure row (the month it began bringing cities in).
    ``rows`` also needs ``date``.
    """
    codes = np.asarray(world.meta["country_codes"], dtype=object)[world.country]
    under = territories(world.lon, world.lat, codes, rows)
    labels = np.asarray(world.region_names, dtype=object)[world.region]
    named = np.array([government_label(str(n)) if n else "" for n in under], dtype=object)
    labels = np.where(under != "", named, labels)
    region_names, region = np.unique(labels.astype(str), return_inverse=True)
    names = sorted(set(under) - {""})
    coordinated = rows[rows["coordinator"] != ""]
    start = coordinated.groupby("coordinator")["date"].min()
    meta = dict(world.meta)
    meta["coordinators"] = {
        "governments": len(names),
        "cities": int(sum(1 for name in under if name)),
        "rule": f"majority of the {NEIGHBOURS} nearest structure rows within {RADIUS_KM:g} km",
    }
    built = replace(
        world,
        region=region.astype(np.int32),
        region_names=tuple(str(r) for r in region_names),
        meta=meta,
    )
    return built, {government_label(n): start[n] for n in names}
