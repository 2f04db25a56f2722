"""City networks: who may join (membership rules) and the ties membership creates.

Rules follow the real networks in ../shared/domain.md: C40 admits only the
largest cities (exclusive), Eurocities large cities of the EU (regional), the
Covenant of Mayors anyone who pledges (open), and UCLG works through national
municipal associations (national).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from diffusion_sim.world import NetworkInfo, World


def rank_candidates(world: World, rule: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """Order cities by how early they join under a membership rule.

    The first ``size`` are the members; a network that opens later takes the
    next ones, so membership only grows.
    """
    n = world.n_cities
    by_size = np.lexsort((np.arange(n), -world.population))
    if rule == "exclusive":
        return by_size
    if rule == "regional":
        return by_size[world.in_bloc[by_size]]
    if rule == "open":
        # Cities inclined to the policy and able to act pledge first, with noise:
        # a Gumbel-top-k draw, each next member chosen with probability
        # proportional to readiness^3 (strong self-selection of willing cities).
        readiness = np.sqrt(world.capacity * world.leaning) + 1e-9
        keys = 3.0 * np.log(readiness) + rng.gumbel(size=n)
        return np.argsort(-keys, kind="stable")
    if rule == "national":
        # Every country's association takes its largest cities first: rank
        # within country, then interleave countries by that rank.
        order = np.lexsort((np.arange(n), -world.population, world.country))
        country = world.country[order]
        starts = np.flatnonzero(np.r_[True, country[1:] != country[:-1]])
        within = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
        eligible = within < size
        order, within = order[eligible], within[eligible]
        return order[np.lexsort((-world.population[order], within))]
    raise ValueError(f"unknown membership rule {rule!r}")


def build_networks(world: World, specs: dict, rng: np.random.Generator) -> tuple[NetworkInfo, ...]:
    """Networks from scenario specs (``Scenario.networks``), in the specs' order."""
    networks = []
    for name, spec in specs.items():
        ranking = rank_candidates(world, spec.rule, spec.size, rng).astype(np.int64)
        size = spec.size
        if spec.rule == "national":
            size = len(ranking)
        networks.append(
            NetworkInfo(
                name=name,
                rule=spec.rule,
                size=min(size, len(ranking)),
                ranking=ranking,
                monitors=spec.monitors,
                lobbies=spec.lobbies,
                tie_weight=spec.tie_weight,
                max_ties_per_member=spec.max_ties_per_member,
                founded_step=spec.founded_step,
            )
        )
    return tuple(networks)


def comember_ties(
    members: np.ndarray,
    n_cities: int,
    max_ties: int,
    rng: np.random.Generator,
    group: np.ndarray | None = None,
) -> sp.csr_array:
    """Symmetric 0/1 ties among members, each member tied to ``max_ties`` random co-members.

    Tying every member to every other would make a 9,000-member Covenant a
    dense block of 81 million ties; a bounded number of random co-members keeps
    the layer sparse while keeping its members connected. ``group`` (a label per
    member) restricts ties to members with the same label (national associations).
    """
    members = np.asarray(members, dtype=np.int64)
    if group is not None:
        blocks = [
            comember_ties(members[group == g], n_cities, max_ties, rng) for g in np.unique(group)
        ]
        return sp.csr_array(sum(blocks, sp.csr_array((n_cities, n_cities))))
    m = len(members)
    if m < 2:
        return sp.csr_array((n_cities, n_cities), dtype=np.float64)
    if m <= max_ties + 1:
        rows, cols = np.meshgrid(members, members, indexing="ij")
        keep = rows != cols
        rows, cols = rows[keep], cols[keep]
    else:
        k = max(1, max_ties // 2)  # each side picks half; symmetrizing doubles it
        picks = rng.integers(0, m - 1, size=(m, k))
        picks += picks >= np.arange(m)[:, None]  # skip self
        rows = np.repeat(members, k)
        cols = members[picks.ravel()]
    matrix = sp.coo_array((np.ones(len(rows)), (rows, cols)), shape=(n_cities, n_cities)).tocsr()
    matrix = matrix.maximum(matrix.T)
    matrix.data[:] = 1.0
    return sp.csr_array(matrix)
