"""Does the vertical channel mean "brought in by a higher level"? P(vertical) against the data.

The JRC Covenant of Mayors file names each signatory's coordinator (a province,
a region, an agency). ``estimate`` never fits that field for the signatories it
fits: this script scores each adoption's P(vertical) against it, as the AUC of
"has a coordinator" overall, within countries (pairs of one country pooled) and
per country with 30+ adoptions, for two fits of the same data:

1. ``scenario``: the scenario's own vertical channel (``eu_covenant``: top-down
   support from the supportive EU and from Italy, Spain and Belgium);
2. ``coordinators``: ``--coordinators``, the coordinators of the signatories that
   are not world cities as regional governments (docs/estimation.md), with the EU
   and the nations neutral, so that top-down support comes from coordinators only.

``--choose`` first prints the leave-one-out AUC of the territory rule on the
structure rows alone (the rows outside the world, never the held-out ones) for
a few (neighbours, radius) pairs: how the rule's two numbers were chosen.
``--territory`` prints the AUC of territory membership itself on the held-out
rows, and the same after removing structure rows within 2 km of a held-out row
(a group of municipalities registered at a member city's coordinates).

    python benchmarks/vertical_validation.py
        [--data ../shared/data/covenant_of_mayors_signatories_2024.csv]
        [--countries IT,ES] [--world-seed 7] [--choose] [--territory]

Asserts nothing; prints the tables.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

import diffusion_sim as ds
from diffusion_sim.simulation import build_world
from diffusion_sim.studies.calibration import read_adoptions
from diffusion_sim.studies.estimation import estimate
from diffusion_sim.studies.estimation.coordination import auc_table, structure_rows, universe
from diffusion_sim.studies.estimation.report import validation_lines
from diffusion_sim.world.coordinators import territories

NEUTRAL = {
    "governments.bloc": "neutral",
    "governments.overrides.Italy.stance": "neutral",
    "governments.overrides.Spain.stance": "neutral",
    "governments.overrides.Belgium.stance": "neutral",
}
FIT = {
    "params": ["innovation.rate", "vertical.top_down_rate"],
    "layers": ["proximity", "twinning", "networks"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="../shared/data/covenant_of_mayors_signatories_2024.csv")
    parser.add_argument("--countries", default="", help="comma-separated ISO-2 (default: all)")
    parser.add_argument("--world-seed", type=int, default=None)
    parser.add_argument("--choose", action="store_true")
    parser.add_argument("--territory", action="store_true")
    args = parser.parse_args()
    base = {}
    if args.countries:
        base["world.countries"] = [c.strip().upper() for c in args.countries.split(",")]
    if args.world_seed is not None:
        base["world.seed"] = args.world_seed
    scenario = ds.load_scenario("eu_covenant").with_overrides(base)
    adoptions = read_adoptions(args.data)
    if args.choose or args.territory:
        world = build_world(scenario)
        rows = structure_rows(adoptions, world, scenario.world.min_population)
        if args.choose:
            choose(rows)
        if args.territory:
            territory_check(adoptions, world, rows, scenario.world.min_population)
    for label, overrides, coordinators in (
        ("scenario", {}, False),
        ("coordinators", NEUTRAL, True),
    ):
        began = time.perf_counter()
        fit = estimate(
            scenario.with_overrides(overrides),
            adoptions,
            FIT["params"],
            FIT["layers"],
            start="2008-01",
            unmatched="drop",
            coordinators=coordinators,
            layer_tests=False,
        )
        shares = fit.shares.set_index("name")
        vertical = shares.loc["vertical"]
        print(
            f"\n== {label}: {fit.n_adoptions} adoptions, vertical share {vertical.share:.3f} "
            f"[{vertical.lower95:.3f}, {vertical.upper95:.3f}] "
            f"({time.perf_counter() - began:.0f} s)"
        )
        print("\n".join(validation_lines(fit.validation)[1:]))
        print(fit.validation.to_string(index=False, float_format=lambda v: f"{v:.3f}"))


def stratified_auc(y: np.ndarray, score: np.ndarray, country: np.ndarray) -> tuple[float, float]:
    """Overall and within-country (pairs of one country pooled) AUC."""
    frame = pd.DataFrame({"coordinated": y, "p_vertical": score, "country": country})
    table = auc_table(frame).set_index("group")["auc"]
    return float(table.get("overall", np.nan)), float(table.get("within countries", np.nan))


def choose(rows: pd.DataFrame) -> None:
    """Leave-one-out on the structure rows: each row's coordinator status from the others."""
    rows = rows[np.isfinite(rows["lon"]) & np.isfinite(rows["lat"])].reset_index(drop=True)
    y = (rows["coordinator"] != "").to_numpy()
    country = rows["country"].to_numpy(dtype=object)
    print("territory rule, leave-one-out on the structure rows (no held-out row read):")
    print(f"{'neighbours':>10} {'radius km':>9} {'overall':>8} {'within':>8}")
    for neighbours in (5, 10, 20):
        for radius in (15.0, 30.0, 50.0):
            under = territories(
                rows["lon"].to_numpy(),
                rows["lat"].to_numpy(),
                country,
                rows,
                neighbours,
                radius,
                exclude_self=True,
            )
            overall, within = stratified_auc(y, (under != "").astype(float), country)
            print(f"{neighbours:>10} {radius:>9.0f} {overall:>8.3f} {within:>8.3f}")


def territory_check(adoptions, world, rows: pd.DataFrame, floor: int) -> None:
    """AUC of territory membership itself on the held-out rows (no fit)."""
    raw = pd.read_csv(adoptions.source, dtype=str, keep_default_na=False)
    held = adoptions.table[universe(adoptions.table, world, floor)]
    lon = pd.to_numeric(raw["organisation_longitude"], errors="coerce").to_numpy()[held.index]
    lat = pd.to_numeric(raw["organisation_latitude"], errors="coerce").to_numpy()[held.index]
    ok = np.isfinite(lon) & np.isfinite(lat)
    country = held["country"].to_numpy(dtype=object)[ok]
    y = held["coordinated"].to_numpy(dtype=bool)[ok]
    lon, lat = lon[ok], lat[ok]
    from scipy.spatial import cKDTree

    from diffusion_sim.world.synthetic import unit_vectors

    near, _ = cKDTree(unit_vectors(lon, lat)).query(
        unit_vectors(rows["lon"].fillna(0).to_numpy(), rows["lat"].fillna(0).to_numpy())
    )
    far = near * 6371.0 > 2.0
    for label, kept in (("all structure rows", rows), ("none within 2 km", rows[far])):
        under = territories(lon, lat, country, kept)
        overall, within = stratified_auc(y, (under != "").astype(float), country)
        print(
            f"territory membership on {len(y)} held-out rows ({label}, {len(kept)} rows): "
            f"AUC overall {overall:.3f}, within countries {within:.3f}; "
            f"{roc_auc_score(y, under != ''):.3f} by sklearn overall"
        )


if __name__ == "__main__":
    main()
