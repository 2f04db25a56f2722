"""The cities at risk at every step, with all but the horizontal exposure their hazard reads.

The scenario's own timeline is replayed on the observed histories with the
event verbs both engines implement (:class:`diffusion_sim.model.events.EngineVerbs`):
:class:`Replay` is a third implementation, whose state is what was observed.
So stances, preemption, summits, governments adopting by event and pioneers
events act here exactly as in a run (:func:`diffusion_sim.model.events.apply_events`),
and each city's government context (support, hostile governments, preemption,
mandate start) comes from the engine's own reference
(:func:`diffusion_sim.engines.vectorized.reference.government_context`), not from a copy.

Timing, as in a run (docs/ODD.md §3): events of step t act before its
decisions; a city or government that adopts by its hazard at t counts from
t + 1; a city that drops at d is at risk again from d + 1; a pioneer added by an
event at t is adopted for t's decisions and is not at risk at t.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from diffusion_sim.engines.vectorized import bundles
from diffusion_sim.engines.vectorized.bundles import Cities
from diffusion_sim.engines.vectorized.reference import government_context
from diffusion_sim.errors import InputError
from diffusion_sim.mechanisms import compose, hierarchical
from diffusion_sim.mechanisms.compose import Params
from diffusion_sim.model import events
from diffusion_sim.model.events import Boost
from diffusion_sim.model.governments import GovernmentStates
from diffusion_sim.model.setup import ResolvedEvent, Setup
from diffusion_sim.studies.estimation.histories import Histories, changes_at


class Replay:
    """Observed state under the scenario's timeline; implements the engines' event verbs.

    ``run_state`` is itself: the engine reference reads governments from an
    engine's ``run_state`` and ``setup``.
    """

    def __init__(self, setup: Setup, pioneers: bool) -> None:
        self.setup = setup
        self.scenario = setup.scenario
        self.run_state = self
        self.pioneers = pioneers
        self.gov_states = GovernmentStates(setup)
        """The governments, changed by the one set of verbs (nothing recorded)."""
        self.adopted = np.zeros(setup.n_cities, dtype=bool)
        self.forced: list[np.ndarray] = []
        self.boost = Boost()

    # the verbs (diffusion_sim.model.events.EngineVerbs)
    def city_adopted(self) -> np.ndarray:
        return self.adopted.copy()

    def adopt_cities(self, step: int, cities: np.ndarray) -> None:
        if self.pioneers:
            cities = np.asarray(cities, dtype=np.int64)
            fresh = cities[~self.adopted[cities]]
            self.adopted[fresh] = True
            self.forced.append(fresh)

    def resize_network(self, network: int, size: int) -> None:
        """Networks are read per step from :func:`diffusion_sim.model.events.network_sizes_at`."""

    def set_parameter(self, event: ResolvedEvent, scenario) -> None:
        """Refused: the likelihood fits one value of each parameter over the whole run."""
        raise InputError(
            f"key '{event.where}.key': a set event (step {event.step}, {event.key} = "
            f"{event.value}) changes a parameter mid-run, which the estimation cannot replay: "
            "it fits one value of each parameter over the whole run; remove the event "
            "or estimate on a scenario without it",
            source=self.setup.scenario.source,
        )

    def boost_at(self, t: int) -> float:
        return self.boost.at(t)


@dataclass(frozen=True)
class Snapshot:
    """The governments while some steps are decided (what the panel reports per level)."""

    stance: np.ndarray
    adopted: np.ndarray
    mandate: np.ndarray
    """In force: adopted with a mandate."""


@dataclass(frozen=True)
class Cells:
    """Every (city, step) at risk of adopting, steps 1..T, with its non-horizontal context.

    Arrays are per cell, in step order then city order. ``intervals`` are the
    adopted spells of every city, as (city, first step, last step) of the
    decisions at which it counts as adopted: the sources of exposure.
    """

    steps: int
    city: np.ndarray
    step: np.ndarray
    adopted: np.ndarray
    snapshot: np.ndarray
    support: np.ndarray
    n_hostile: np.ndarray
    blocked: np.ndarray
    mandate_start: np.ndarray
    compliance: np.ndarray
    boost: np.ndarray
    epoch: np.ndarray
    epochs: tuple[dict[int, int], ...]
    snapshots: tuple[Snapshot, ...]
    intervals: tuple[np.ndarray, np.ndarray, np.ndarray]
    forced: int
    """Adoptions after step 0 caused by scheduled events (pioneers), not in the likelihood."""
    initial: int
    """Adopters at step 0 (pioneers, or the data's first period)."""

    @property
    def n(self) -> int:
        return len(self.city)


def build_cells(setup: Setup, histories: Histories) -> Cells:
    """Replay the timeline on the histories; every at-risk (city, step) with its context."""
    histories.check(setup.n_cities)
    mech = setup.scenario.mechanisms
    steps = histories.steps
    adopts, drops = changes_at(histories, steps)
    gov_at = [histories.government[histories.government_step == t] for t in range(steps + 1)]
    replay = Replay(setup, histories.replay_pioneers)
    params, cities = bundles.make_params(setup), bundles.make_cities(setup)
    events.start(replay, setup)
    replay.forced.clear()
    replay.adopted[:] = False
    replay.adopted[adopts[0]] = True
    since = np.full(setup.n_cities, -1, dtype=np.int64)
    since[adopts[0]] = 0
    spells: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    govs = replay.gov_states
    for g in gov_at[0]:
        if not govs.adopted[g]:
            govs.adopt(0, int(g), "vertical")

    parts: dict[str, list[np.ndarray]] = {k: [] for k in Cells.__dataclass_fields__}
    snapshots: list[Snapshot] = []
    epochs: dict[tuple, int] = {}
    context = None
    forced_total = 0
    for t in range(1, steps + 1):
        events.apply_events(replay, setup, t)
        forced = np.concatenate(replay.forced) if replay.forced else np.empty(0, np.int64)
        replay.forced.clear()
        forced_total += len(forced)
        since[forced] = t
        if govs.changed or context is None:
            context = _context(replay, setup, params, cities)
            snapshots.append(Snapshot(govs.stance.copy(), govs.adopted.copy(), govs.in_force()))
            govs.changed.clear()
        support, n_hostile, blocked, start = context
        at_risk = np.flatnonzero(~replay.adopted)
        hazard_adopts = np.setdiff1d(adopts[t], forced, assume_unique=True)
        if replay.adopted[hazard_adopts].any() or not replay.adopted[drops[t]].all():
            raise InputError(
                f"{histories.source}: at step {t} a city adopts that had already adopted, or "
                "drops that had not; the histories do not fit the scenario's timeline"
            )
        y = np.zeros(setup.n_cities, dtype=bool)
        y[hazard_adopts] = True
        sizes = events.network_sizes_at(setup, t)
        epoch = epochs.setdefault(tuple(sorted(sizes.items())), len(epochs))
        elapsed = t - start[at_risk] - 1
        compliance = (
            hierarchical.compliance_hazard(elapsed, mech.hierarchical.compliance_steps)
            if mech.hierarchical.enabled
            else np.zeros(len(at_risk))
        )
        for name, value in (
            ("city", at_risk),
            ("step", np.full(len(at_risk), t, dtype=np.int32)),
            ("adopted", y[at_risk]),
            ("snapshot", np.full(len(at_risk), len(snapshots) - 1, dtype=np.int32)),
            ("support", support[at_risk]),
            ("n_hostile", n_hostile[at_risk]),
            ("blocked", blocked[at_risk]),
            ("mandate_start", start[at_risk]),
            ("compliance", np.asarray(compliance, dtype=np.float64)),
            ("boost", np.full(len(at_risk), replay.boost_at(t))),
            ("epoch", np.full(len(at_risk), epoch, dtype=np.int32)),
        ):
            parts[name].append(value)
        # apply the step's changes: adopters count from t + 1, droppers until t
        replay.adopted[hazard_adopts] = True
        since[hazard_adopts] = t + 1
        leaving = drops[t]
        spells.append((leaving, since[leaving].copy(), np.full(len(leaving), t)))
        replay.adopted[leaving] = False
        since[leaving] = -1
        for g in gov_at[t]:
            if not govs.adopted[g]:
                govs.adopt(t, int(g), "vertical")
    holding = np.flatnonzero(since >= 0)
    spells.append((holding, since[holding], np.full(len(holding), steps)))
    spell = [np.concatenate([s[k] for s in spells]).astype(np.int64) for k in range(3)]
    keep = spell[1] <= spell[2]  # an adopter of the last step never counts
    arrays = {k: np.concatenate(v) for k, v in parts.items() if v}
    return Cells(
        steps=steps,
        **arrays,
        epochs=tuple(dict(key) for key in epochs),
        snapshots=tuple(snapshots),
        intervals=(spell[0][keep], np.maximum(spell[1][keep], 1), spell[2][keep]),
        forced=forced_total,
        initial=len(adopts[0]),
    )


def _context(
    replay: Replay, setup: Setup, params: Params, cities: Cities
) -> tuple[np.ndarray, ...]:
    """Per city: top-down support, hostile governments, blocked, mandate start.

    The governments above each city gathered by the engine's reference, then
    :func:`diffusion_sim.mechanisms.compose.city_context` as every engine applies it.
    """
    above = government_context(replay)
    context = bundles.make_context(setup.n_cities)
    compose.every_city_context(params, above, cities, context)
    total_support, n_hostile = above[0], above[1].astype(np.int64)
    return total_support, n_hostile, context.blocked, context.mandate_start
