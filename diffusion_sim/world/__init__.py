"""A world of cities: arrays plus sparse tie layers, built once, never changed by a run.

A run's state lives in the engines; the world is pure data, so it can be cached
and shared between replicates and workers (docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from diffusion_sim.errors import InputError

LEADER, FOLLOWER, LAGGARD = 0, 1, 2
LADDER_NAMES = ("leader", "follower", "laggard")

SIZE_CLASSES = (
    ("small", 0, 100_000),
    ("medium", 100_000, 1_000_000),
    ("large", 1_000_000, 10_000_000),
    ("mega", 10_000_000, np.inf),
)
"""Size classes of cities: (name, lowest population, first above); 10M: the UN's megacity bar."""


def ladder_position(
    capacity: np.ndarray, leaning: np.ndarray, leader_cutoff: float, laggard_cutoff: float
) -> np.ndarray:
    """Kern's ladder from readiness = sqrt(capacity x leaning).

    Leaders have both resources and will; laggards lack one of them badly
    (Kern 2019: leaders, followers and laggards).
    """
    readiness = np.sqrt(capacity * leaning)
    position = np.full(readiness.shape, FOLLOWER, dtype=np.int8)
    position[readiness >= leader_cutoff] = LEADER
    position[readiness < laggard_cutoff] = LAGGARD
    return position


@dataclass(frozen=True)
class NetworkInfo:
    """A city network: its rule-given ranking of candidate members and its flags.

    The members at size ``s`` are ``ranking[:s]``, so opening a network to more
    members only adds cities.
    """

    name: str
    rule: str
    size: int
    ranking: np.ndarray
    monitors: bool = False
    lobbies: bool = False
    tie_weight: float = 1.0
    max_ties_per_member: int = 8
    founded_step: int = 0

    def members(self, size: int | None = None) -> np.ndarray:
        return self.ranking[: self.size if size is None else size]


@dataclass(frozen=True, eq=False)
class World:
    """Cities, their governments and the ties between them.

    Attributes
    ----------
    population : int64 (N,)
        Inhabitants; integers so that sums are exact in any order.
    capacity, leaning : float64 (N,)
        Resources and preference for the policy, both in [0, 1].
    ladder : int8 (N,)
        0 leader, 1 follower, 2 laggard (see :func:`ladder_position`).
    country, region : int32 (N,)
        Index into ``country_names`` / ``region_names`` (-1: none).
    in_bloc : bool (N,)
        The city's country belongs to the bloc.
    layers : dict of str to csr_array
        Symmetric tie weights between cities, one layer per kind
        ('proximity', 'twinning', 'graph', ...).
    """

    population: np.ndarray
    capacity: np.ndarray
    leaning: np.ndarray
    ladder: np.ndarray
    country: np.ndarray
    region: np.ndarray
    in_bloc: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    city_names: np.ndarray
    country_names: tuple[str, ...]
    region_names: tuple[str, ...]
    bloc_name: str = "Union"
    global_name: str = "World"
    layers: dict[str, sp.csr_array] = field(default_factory=dict)
    networks: tuple[NetworkInfo, ...] = ()
    threshold: np.ndarray | None = None
    receptivity: np.ndarray | None = None
    """Per city in (0, 1], a factor on every voluntary hazard read from data (e.g. the
    country's share of early signatories: :mod:`diffusion_sim.world.receptivity`); None: 1."""
    seed: int = 0
    meta: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        """A one-line summary (the arrays would print tens of thousands of characters).

        Examples
        --------
        >>> import networkx as nx
        >>> World.from_graph(nx.path_graph(4), capacity=[0.9, 0.5, 0.3, 0.1], leaning=0.5)
        World(4 cities, 3 ties in ['graph'], 1 countries, 1 regions, networks [], seed 0)
        """
        return (
            f"World({self.n_cities:,} cities, {self.n_ties:,} ties in {list(self.layers)}, "
            f"{len(self.country_names)} countries, {len(self.region_names)} regions, "
            f"networks {[n.name for n in self.networks]}, seed {self.seed})"
        )

    @property
    def n_cities(self) -> int:
        return int(self.population.shape[0])

    @property
    def n_ties(self) -> int:
        """Undirected ties over all layers (a pair tied in two layers counts twice)."""
        return int(sum(m.nnz for m in self.layers.values()) // 2)

    def with_networks(self, networks: tuple[NetworkInfo, ...]) -> World:
        return replace(self, networks=networks)

    def cities_frame(self) -> pd.DataFrame:
        """The cities as a table (what results and exports start from).

        Built once per world (a million names made strings cost about 0.15 s) and
        handed out as a copy, so a caller's changes never reach the world's table:
        with copy-on-write (always, from pandas 3) a shallow one, whose columns are
        copied only if written, else a deep one (50 ms and 100 MB at a million cities).
        """
        return self._cities_table.copy(deep=not _copy_on_write())

    @cached_property
    def _cities_table(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "city": np.arange(self.n_cities),
                "name": _strings(self.city_names),
                "country": _strings(self.country_names + ("",), self.country),
                "region": _strings(self.region_names + ("",), self.region),
                "in_bloc": self.in_bloc,
                "population": self.population,
                "capacity": self.capacity,
                "leaning": self.leaning,
                "ladder": pd.Categorical.from_codes(self.ladder, categories=LADDER_NAMES),
                "lon": self.lon,
                "lat": self.lat,
            }
        )

    # ------------------------------------------------------------ from_graph
    @classmethod
    def from_graph(
        cls,
        graph: Any,
        *,
        population: Any = None,
        country: Any = None,
        region: Any = None,
        capacity: Any = None,
        leaning: Any = None,
        threshold: Any = None,
        in_bloc: Any = None,
        lon: Any = None,
        lat: Any = None,
        names: Any = None,
        weight: str = "weight",
        leader_cutoff: float = 0.42,
        laggard_cutoff: float = 0.30,
        seed: int = 0,
    ) -> World:
        """Bring your own network: a networkx graph or a scipy sparse adjacency.

        Per-city attributes come from the keyword arrays, else from node
        attributes of the same name, else from documented defaults: population
        1, one country 'Country', one region per country, capacity and leaning
        0.5, not in the bloc, coordinates on a circle. Tie weights are taken from
        the edge attribute ``weight`` (1 where absent); a directed graph or an
        asymmetric matrix is symmetrized by the larger weight.

        Examples
        --------
        >>> import networkx as nx
        >>> w = World.from_graph(nx.path_graph(4), capacity=0.5, leaning=[0.9, 0.5, 0.4, 0.1])
        >>> w.n_cities, w.n_ties
        (4, 3)
        """
        node_attrs: dict[str, np.ndarray] = {}
        if sp.issparse(graph):
            adjacency = sp.csr_array(graph, dtype=np.float64)
            node_names = np.array([str(i) for i in range(adjacency.shape[0])], dtype=object)
        elif hasattr(graph, "nodes") and hasattr(graph, "edges"):
            import networkx as nx

            nodes = list(graph.nodes)
            adjacency = sp.csr_array(
                nx.to_scipy_sparse_array(graph, nodelist=nodes, weight=weight, format="csr"),
                dtype=np.float64,
            )
            node_names = np.array([str(n) for n in nodes], dtype=object)
            for key in (
                "population",
                "country",
                "region",
                "capacity",
                "leaning",
                "threshold",
                "in_bloc",
                "lon",
                "lat",
                "name",
            ):
                values = [graph.nodes[n].get(key) for n in nodes]
                if all(v is not None for v in values) and values:
                    node_attrs[key] = np.asarray(values)
        else:
            raise InputError(
                f"World.from_graph takes a networkx graph or a scipy sparse matrix, "
                f"not {type(graph).__name__}"
            )
        if adjacency.shape[0] != adjacency.shape[1]:
            raise InputError(f"adjacency must be square, got shape {adjacency.shape}")
        n = adjacency.shape[0]
        if n < 1:
            raise InputError("the graph has no nodes")
        adjacency.setdiag(0)
        adjacency.eliminate_zeros()
        if (adjacency.data < 0).any():
            raise InputError("tie weights must be non-negative")
        adjacency = sp.csr_array(adjacency.maximum(adjacency.T))

        def pick(name: str, given: Any, default: Any, dtype: Any) -> np.ndarray:
            value = given if given is not None else node_attrs.get(name)
            if value is None:
                value = default
            array = np.asarray(value)
            if array.ndim == 0:
                array = np.full(n, array)
            if array.shape != (n,):
                raise InputError(f"attribute '{name}' must have one value per city ({n})")
            return array.astype(dtype) if dtype is not None else array

        pop = pick("population", population, 1, np.int64)
        cap = pick("capacity", capacity, 0.5, np.float64)
        lean = pick("leaning", leaning, 0.5, np.float64)
        for attr, values in (("capacity", cap), ("leaning", lean)):
            if ((values < 0) | (values > 1)).any():
                raise InputError(f"attribute '{attr}' must lie in [0, 1]")
        if (pop < 0).any():
            raise InputError("attribute 'population' must be non-negative")
        thr = None
        if threshold is not None or "threshold" in node_attrs:
            thr = pick("threshold", threshold, 0.0, np.float64)
            if ((thr < 0) | (thr > 1)).any():
                raise InputError("attribute 'threshold' must lie in [0, 1]")
        country_labels = pick("country", country, "Country", None).astype(str)
        country_names, country_index = np.unique(country_labels, return_inverse=True)
        region_given = region is not None or "region" in node_attrs
        region_labels = pick("region", region, "", None).astype(str)
        if not region_given:
            region_labels = country_labels
        pairs = np.char.add(np.char.add(country_labels, "/"), region_labels)
        region_names, region_index = np.unique(pairs, return_inverse=True)
        if capacity is None and leaning is None and not {"capacity", "leaning"} & set(node_attrs):
            import warnings

            warnings.warn(
                "World.from_graph: no capacity or leaning given, so every city gets 0.5 and "
                "the same rung of Kern's ladder (all leaders; shares of followers and laggards "
                "are undefined); pass capacity= and leaning= (or node attributes) to place "
                "cities on the ladder",
                UserWarning,
                stacklevel=2,
            )
        angle = 2 * np.pi * np.arange(n) / n
        return cls(
            population=pop,
            capacity=cap,
            leaning=lean,
            ladder=ladder_position(cap, lean, leader_cutoff, laggard_cutoff),
            country=country_index.astype(np.int32),
            region=region_index.astype(np.int32),
            in_bloc=pick("in_bloc", in_bloc, False, bool),
            lon=pick("lon", lon, 10 * np.cos(angle), np.float64),
            lat=pick("lat", lat, 10 * np.sin(angle), np.float64),
            city_names=pick("name", names, node_names, None).astype(object),
            country_names=tuple(str(c) for c in country_names),
            region_names=tuple(str(r) for r in region_names),
            layers={"graph": adjacency},
            threshold=thr,
            seed=seed,
        )


def _strings(values: Any, codes: np.ndarray | None = None) -> Any:
    """A column of strings (``values[codes]`` if codes are given) as pandas would infer it
    from Python strings, built through Arrow where that is what pandas uses.

    pandas 3 checks every Python string before handing them to Arrow (0.3 s for a
    million names, 0.1 s for a million copies of sixty country names); Arrow takes
    them as they are, and picks by code without making Python strings at all.
    """
    strings = np.asarray(values, dtype=object)
    dtype = pd.Series([""]).dtype  # "str" on Arrow in pandas 3, object before
    arrow = isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"
    if not arrow or pd.api.types.infer_dtype(strings, skipna=False) != "string":
        return strings if codes is None else strings[codes]  # pandas infers as it would
    import pyarrow as pa

    strings = pa.array(strings, type=pa.large_string())
    if codes is not None:
        strings = strings.take(pa.array(np.asarray(codes) % len(strings)))
    return pd.array(strings, dtype=dtype)


def _copy_on_write() -> bool:
    """Whether pandas copies a shared column only when one side writes it (from 3.0, always)."""
    if int(pd.__version__.split(".")[0]) >= 3:
        return True
    return pd.get_option("mode.copy_on_write") is True
