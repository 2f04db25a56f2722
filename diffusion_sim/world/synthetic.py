"""A synthetic world: Zipf-sized cities in countries of uneven size.

City sizes follow Zipf's law closely (Swiney 2020, Michigan Journal of
International Law 41; Gabaix 1999, Quarterly Journal of Economics 114(3));
countries get cities in proportion to rank^-c, so a few large countries sit
beside many small ones, as in the Covenant of Mayors (JRC GCoM-MyCovenant
dataset, 5th release, 2024: Italy 5,215 signatories, Spain 2,964, then a long
tail). Everything comes from one generator, so the same seed gives the same
world.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from diffusion_sim.scenario import WorldSpec
from diffusion_sim.world import World, ladder_position


def unit_vectors(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Points on the unit sphere, so that nearest neighbours respect geography."""
    lon_r, lat_r = np.radians(lon), np.radians(lat)
    return np.column_stack(
        (np.cos(lat_r) * np.cos(lon_r), np.cos(lat_r) * np.sin(lon_r), np.sin(lat_r))
    )


def morton_code(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Z-order (Morton) code of each point on a 65,536 x 65,536 grid over the points' extent.

    Interleaving the bits of the two grid coordinates gives a number that is close
    for points close in space (mostly): sorting by it lays a map out along a curve.
    """

    def spread(v: np.ndarray) -> np.ndarray:  # 16 bits -> the even bits of 32
        v = v.astype(np.uint64)
        v = (v | (v << np.uint64(8))) & np.uint64(0x00FF00FF)
        v = (v | (v << np.uint64(4))) & np.uint64(0x0F0F0F0F)
        v = (v | (v << np.uint64(2))) & np.uint64(0x33333333)
        return (v | (v << np.uint64(1))) & np.uint64(0x55555555)

    def grid(x: np.ndarray) -> np.ndarray:
        low, span = x.min(), max(float(np.ptp(x)), 1e-12)
        return np.minimum((x - low) / span * 65536, 65535).astype(np.uint64)

    return spread(grid(lon)) | (spread(grid(lat)) << np.uint64(1))


def spatial_order(lon: np.ndarray, lat: np.ndarray, group: np.ndarray) -> np.ndarray:
    """City order by group (e.g. region), then along a Z-order curve within the group.

    Numbering cities in this order gives cities near each other nearby indices, so a
    step's gathers and scatters over proximity ties hit the cache (docs/performance.md),
    and the cities of one government are contiguous.
    """
    return np.lexsort((morton_code(lon, lat), group))


def proximity_ties(lon: np.ndarray, lat: np.ndarray, k: int) -> sp.csr_array:
    """Symmetric 0/1 ties from each city to its ``k`` nearest cities."""
    n = len(lon)
    k = min(k, n - 1)
    if k <= 0:
        return sp.csr_array((n, n), dtype=np.float64)
    points = unit_vectors(lon, lat)
    tree = cKDTree(points, balanced_tree=False, compact_nodes=False)
    # Query in the tree's own (spatial) order: neighbouring queries then share cache
    # lines, about 3x faster at a million cities. The answer does not depend on it.
    order = tree.indices
    found = tree.query(points[order], k=k + 1, workers=-1)[1]
    neighbours = np.empty((n, k), dtype=np.int32)  # int32 and no COO: a third of the memory
    neighbours[order] = found[:, 1:]
    del found
    neighbours.sort(axis=1)  # sorted rows: a canonical matrix, which runs need
    rows = np.arange(n, dtype=np.int32)[:, None]
    not_self = (neighbours != rows).ravel().astype(np.float64)  # coincident points
    indptr = np.arange(0, n * k + 1, k, dtype=np.int64 if n * k >= 2**31 else np.int32)
    ties = sp.csr_array((not_self, neighbours.ravel(), indptr), shape=(n, n))
    ties.eliminate_zeros()
    ties = ties.maximum(ties.T)
    ties.data[:] = 1.0
    return sp.csr_array(ties)


def twinning_ties(
    population: np.ndarray, country: np.ndarray, mean_per_city: float, rng: np.random.Generator
) -> sp.csr_array:
    """Twinning: pairs of similar-sized cities in different countries.

    Each pair joins a city to one a few ranks away in size (twins tend to be
    alike), dropping pairs within one country.
    """
    n = len(population)
    n_pairs = round(mean_per_city * n / 2)
    if n_pairs == 0 or n < 2:
        return sp.csr_array((n, n), dtype=np.float64)
    by_size = np.argsort(-population, kind="stable")
    rank_a = rng.integers(0, n, size=n_pairs)
    offset = rng.geometric(0.05, size=n_pairs) * rng.choice([-1, 1], size=n_pairs)
    rank_b = np.clip(rank_a + offset, 0, n - 1)
    a, b = by_size[rank_a], by_size[rank_b]
    keep = (a != b) & (country[a] != country[b])
    ties = sp.coo_array((np.ones(keep.sum()), (a[keep], b[keep])), shape=(n, n)).tocsr()
    ties = ties.maximum(ties.T)
    ties.data[:] = 1.0
    return sp.csr_array(ties)


def synthetic_world(spec: WorldSpec, seed: int) -> World:
    """Build a synthetic world from its spec and a seed."""
    rng = np.random.default_rng(seed)
    n, n_countries = spec.n_cities, min(spec.n_countries, spec.n_cities)

    rank = np.arange(1, n + 1, dtype=np.float64)
    population = np.maximum(
        1, np.round(spec.largest_population * rank**-spec.zipf_exponent)
    ).astype(np.int64)

    country_weight = np.arange(1, n_countries + 1, dtype=np.float64) ** -spec.country_size_exponent
    country = rng.choice(n_countries, size=n, p=country_weight / country_weight.sum())
    country[:n_countries] = rng.permutation(n_countries)  # every country has a city
    country = country.astype(np.int32)

    # Countries on a coarse grid; cities scattered around their country's centre.
    side = int(np.ceil(np.sqrt(n_countries)))
    centre_lon = -10 + 8.0 * (np.arange(n_countries) % side)
    centre_lat = 35 + 6.0 * (np.arange(n_countries) // side)
    spread = 1.0 + 2.0 * np.sqrt(country_weight / country_weight.max())
    lon = centre_lon[country] + rng.normal(0, 1, n) * spread[country]
    lat = np.clip(centre_lat[country] + rng.normal(0, 0.6, n) * spread[country], -89, 89)

    # Regions: sectors around the country's centre.
    angle = np.arctan2(lat - centre_lat[country], lon - centre_lon[country]) + np.pi
    sector = np.minimum(
        (angle / (2 * np.pi) * spec.regions_per_country).astype(np.int32),
        spec.regions_per_country - 1,
    )
    pair = country.astype(np.int64) * spec.regions_per_country + sector
    used, region = np.unique(pair, return_inverse=True)
    region_names = tuple(
        f"Region {int(p // spec.regions_per_country) + 1}.{int(p % spec.regions_per_country) + 1}"
        for p in used
    )

    # Capacity grows with size; leaning has a national component (political culture).
    log_pop = np.log(population)
    size_score = (log_pop - log_pop.min()) / max(np.ptp(log_pop), 1e-12)
    capacity = np.clip(0.15 + 0.65 * size_score + rng.normal(0, 0.12, n), 0.01, 1.0)
    national_leaning = rng.normal(0, 0.1, n_countries)
    leaning = np.clip(rng.beta(2.5, 2.5, n) + national_leaning[country], 0.01, 0.99)

    n_bloc = round(spec.bloc_share * n_countries)
    bloc_countries = rng.permutation(n_countries)[:n_bloc]
    in_bloc = np.isin(country, bloc_countries)

    # Twins are drawn among cities of similar size rank, so draw them in rank order.
    twinning = twinning_ties(population, country, spec.twinning_per_city, rng)

    # Then number cities in space (region, then a Z-order curve), not by size: ties
    # join neighbours, so they then join nearby indices, and a step's gathers and
    # scatters hit the cache. The world is the same, relabelled; names keep the size
    # rank ("City 1" is the largest city wherever it sits).
    order = spatial_order(lon, lat, region)
    population, country, region = population[order], country[order], region[order]
    capacity, leaning, in_bloc = capacity[order], leaning[order], in_bloc[order]
    lon, lat = lon[order], lat[order]

    layers = {
        "proximity": proximity_ties(lon, lat, spec.proximity_neighbours),
        "twinning": sp.csr_array(twinning[order][:, order]).sorted_indices(),
    }
    return World(
        population=population,
        capacity=capacity,
        leaning=leaning,
        ladder=ladder_position(
            capacity, leaning, spec.ladder.leader_cutoff, spec.ladder.laggard_cutoff
        ),
        country=country,
        region=region.astype(np.int32),
        in_bloc=in_bloc,
        lon=lon,
        lat=lat,
        city_names=np.array([f"City {i}" for i in (order + 1).tolist()], dtype=object),
        country_names=tuple(f"Nation {c + 1}" for c in range(n_countries)),
        region_names=region_names,
        layers=layers,
        seed=seed,
        meta={"generator": "synthetic"},
    )
