"""City networks: who may join (membership rules) and the ties membership creates.

Rules follow the real networks as Foster & Swiney (2021, "City networks and the
glocalization of urban governance") report them: C40 admits only the
largest cities (exclusive), Eurocities large cities of the EU (regional), the
Covenant of Mayors anyone who pledges (open), and UCLG works through national
municipal associations (national).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from diffusion_sim.world import NetworkInfo, World


def rank_candidates(
    world: World,
    rule: str,
    size: int,
    rng: np.random.Generator,
    coordinated_share: float = 0.6,
    by_size: np.ndarray | None = None,
) -> np.ndarray:
    """Order cities by how early they join under a membership rule.

    The first ``size`` are the members; a network that opens later takes the
    next ones, so membership only grows. ``by_size``: :func:`largest_first`, if
    the caller has it (a sort of every city, shared by a world's networks).
    """
    n = world.n_cities
    if by_size is None:
        by_size = largest_first(world)
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
    if rule == "coordinated":
        return _coordinated_ranking(world, coordinated_share, rng)
    if rule in ("national", "umbrella"):
        # Every country's association takes its largest cities first: rank
        # within country, then interleave countries by that rank.
        order = by_size[np.argsort(world.country[by_size], kind="stable")]
        country = world.country[order]
        starts = np.flatnonzero(np.r_[True, country[1:] != country[:-1]])
        within = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
        eligible = within < size
        order, within = order[eligible], within[eligible]
        return order[np.lexsort((-world.population[order], within))]
    raise ValueError(f"unknown membership rule {rule!r}")


def largest_first(world: World) -> np.ndarray:
    """Cities from the most populous down, the lower index first among equals."""
    return np.argsort(-world.population, kind="stable")


def _coordinated_ranking(world: World, share: float, rng: np.random.Generator) -> np.ndarray:
    """Open pledges interleaved with whole regions brought in by their coordinator.

    Two queues: single cities ordered as under the open rule, and regions
    (ordered by their cities' mean readiness, with Gumbel noise) each bringing
    all its municipalities at once. Each slot takes the next city from the
    regional queue with probability ``share`` (Covenant of Mayors: 61% of
    signatories have a coordinating province or region), so every prefix, and
    so every network size, has about that share of coordinated members while
    membership still only grows.
    """
    n = world.n_cities
    readiness = np.sqrt(world.capacity * world.leaning) + 1e-9
    own_keys = 3.0 * np.log(readiness) + rng.gumbel(size=n)
    single = np.argsort(-own_keys, kind="stable")
    n_regions = int(world.region.max()) + 1 if n else 0
    has_region = world.region >= 0
    counts = np.bincount(world.region[has_region], minlength=n_regions)
    mean_ready = np.bincount(
        world.region[has_region], weights=readiness[has_region], minlength=n_regions
    ) / np.maximum(counts, 1)
    region_keys = 3.0 * np.log(mean_ready + 1e-9) + rng.gumbel(size=n_regions)
    region_rank = np.empty(n_regions, dtype=np.int64)
    region_rank[np.argsort(-region_keys, kind="stable")] = np.arange(n_regions)
    city_region_rank = np.where(has_region, region_rank[np.maximum(world.region, 0)], n_regions)
    regional = np.lexsort((-own_keys, city_region_rank))
    take_regional = rng.random(n) < share
    order = np.empty(n, dtype=np.int64)
    taken = np.zeros(n, dtype=bool)
    heads = {True: 0, False: 0}  # next unread position in each queue
    for slot in range(n):
        use_regional = bool(take_regional[slot])
        for _ in range(2):  # when one queue is used up, the other has the rest
            queue = regional if use_regional else single
            pos = heads[use_regional]
            while pos < n and taken[queue[pos]]:
                pos += 1
            heads[use_regional] = pos
            if pos < n:
                break
            use_regional = not use_regional
        order[slot] = queue[pos]
        taken[queue[pos]] = True
    return order


def build_networks(world: World, specs: dict, rng: np.random.Generator) -> tuple[NetworkInfo, ...]:
    """Networks from scenario specs (``Scenario.networks``), in the specs' order."""
    networks = []
    by_size = largest_first(world) if specs else None
    for name, spec in specs.items():
        ranking = rank_candidates(
            world, spec.rule, spec.size, rng, spec.coordinated_share, by_size
        ).astype(np.int64)
        size = spec.size
        if spec.rule in ("national", "umbrella"):
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
    if group is None:
        pairs = [_comember_pairs(members, max_ties, rng)]
    else:  # each label's members in turn, in label order (the draws' order)
        order = np.argsort(group, kind="stable")
        starts = np.flatnonzero(np.r_[True, group[order][1:] != group[order][:-1]])
        pairs = [
            _comember_pairs(part, max_ties, rng) for part in np.split(members[order], starts[1:])
        ]
    rows = np.concatenate([p[0] for p in pairs])
    cols = np.concatenate([p[1] for p in pairs])
    return _symmetric_ties(rows, cols, n_cities)


def _comember_pairs(
    members: np.ndarray, max_ties: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) of each member's picked co-members (all of them in a small network)."""
    m = len(members)
    if m < 2:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    if m <= max_ties + 1:
        rows, cols = np.meshgrid(members, members, indexing="ij")
        keep = rows != cols
        return rows[keep], cols[keep]
    k = max(1, max_ties // 2)  # each side picks half; symmetrizing doubles it
    picks = rng.integers(0, m - 1, size=(m, k))
    picks += picks >= np.arange(m)[:, None]  # skip self
    return np.repeat(members, k), members[picks.ravel()]


def _symmetric_ties(rows: np.ndarray, cols: np.ndarray, n: int) -> sp.csr_array:
    """The 0/1 CSR holding (row, col) and (col, row) of every pair, once each, rows sorted.

    Sorting the pairs' keys costs what the ties cost, where building a matrix and
    its transpose and taking their maximum costs a pass over all n rows for each
    (a tenth of a second per network at a million cities, for a few hundred ties).
    """
    keys = np.unique(np.concatenate([rows * n + cols, cols * n + rows]))
    index = np.int32 if n < 2**31 and len(keys) < 2**31 else np.int64
    indptr = np.zeros(n + 1, dtype=index)
    np.cumsum(np.bincount(keys // n, minlength=n), out=indptr[1:])
    ties = sp.csr_array((np.ones(len(keys)), (keys % n).astype(index), indptr), shape=(n, n))
    ties.has_canonical_format = True
    return ties
