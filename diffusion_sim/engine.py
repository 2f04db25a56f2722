"""The vectorized engine: a step is a few vector operations, with no loop over cities.

Each step (docs/ODD.md, "Process overview and scheduling"):

1. apply the step's scheduled events;
2. draw one uniform per city, then one per government (the only draws);
3. from the state at the start of the step, compute every hazard;
4. apply all changes at once, and add the changed cities' ties to their
   neighbours' horizontal pressure (a run touches each tie about once, not once
   per step).

Quantities that only change when a government or a network changes (support,
deterrence, mandates, preemption) are cached and recomputed only then.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from diffusion_sim.mechanisms import abandonment, hierarchical, horizontal, innovation, vertical
from diffusion_sim.mechanisms.embedded import ADOPTION_CHANNELS, choose_channel
from diffusion_sim.setup import NO_MANDATE, Setup
from diffusion_sim.trajectory import (
    ADOPT,
    DROP,
    GOV_ADOPT,
    GOV_STANCE,
    GOV_WITHDRAW,
    Recorder,
    Trajectory,
)

INNOVATION = ADOPTION_CHANNELS.index("innovation")


def scatter_rows(
    matrix_indptr: np.ndarray,
    matrix_indices: np.ndarray,
    matrix_data: np.ndarray,
    rows: np.ndarray,
    signs: np.ndarray,
    out: np.ndarray,
) -> None:
    """out[j] += sign_r x M[r, j] for the given rows r: a sparse slice added in place."""
    starts = matrix_indptr[rows]
    lengths = matrix_indptr[rows + 1] - starts
    total = int(lengths.sum())
    if total == 0:
        return
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
    positions = np.arange(total) + offsets
    weights = matrix_data[positions] * np.repeat(signs, lengths)
    targets = matrix_indices[positions]
    if total > len(out) // 8:
        out += np.bincount(targets, weights=weights, minlength=len(out))
    else:
        np.add.at(out, targets, weights)


class VectorizedEngine:
    """Runs a :class:`Setup` with numpy/scipy; see the module docstring."""

    def __init__(self, setup: Setup, rng: np.random.Generator) -> None:
        self.setup = setup
        self.rng = rng
        self.mech = setup.scenario.mechanisms
        world = setup.world
        n, g = setup.n_cities, setup.n_governments
        self.population = world.population.astype(np.float64)
        self.innovation_base = (
            innovation.innovation_hazard(world.capacity, world.leaning, self.mech.innovation.rate)
            if self.mech.innovation.enabled
            else np.zeros(n)
        )
        self.adopted = np.zeros(n, dtype=bool)
        self.gov_stance = setup.gov_stance0.copy()
        self.gov_preempts = setup.gov_preempts0.copy()
        self.gov_adopted = np.zeros(g, dtype=bool)
        self.gov_mandate = np.zeros(g, dtype=bool)
        self.gov_mandate_step = np.full(g, NO_MANDATE, dtype=np.int64)
        self.boost, self.boost_until = 1.0, -1
        self.recorder = Recorder()
        self.network_sizes = setup.initial_network_sizes()
        self._networks_changed()
        for k in np.flatnonzero(setup.gov_adopted0):
            self._government_adopts(0, int(k), "event")
        self._cities_adopt(0, setup.pioneers, np.full(len(setup.pioneers), INNOVATION))
        self._context_dirty = True

    # ------------------------------------------------------------ bookkeeping
    def _networks_changed(self) -> None:
        """Rebuild tie weights, membership flags and tallies after a network event."""
        setup = self.setup
        self.influence = setup.influence(self.network_sizes)
        self.monitored, self.lobbying = setup.network_flags(self.network_sizes)
        self.pressure = self.influence.by_source.T @ self.adopted.astype(np.float64)
        size = setup.n_governments + 1
        self.gov_pop_adopted = np.zeros(size)
        self.gov_lobby_adopted = np.zeros(size)
        for row in setup.city_gov:
            self.gov_pop_adopted += np.bincount(
                row, weights=self.population * self.adopted, minlength=size
            )
            self.gov_lobby_adopted += np.bincount(
                row, weights=(self.adopted & self.lobbying) * 1.0, minlength=size
            )

    def _cities_change(self, cities: np.ndarray, sign: int) -> None:
        """Add (sign +1) or remove (-1) cities' influence and government tallies."""
        if not len(cities):
            return
        by_source = self.influence.by_source
        signs = np.full(len(cities), float(sign))
        scatter_rows(
            by_source.indptr, by_source.indices, by_source.data, cities, signs, self.pressure
        )
        for row in self.setup.city_gov:
            np.add.at(self.gov_pop_adopted, row[cities], sign * self.population[cities])
            np.add.at(self.gov_lobby_adopted, row[cities], sign * self.lobbying[cities])

    def _cities_adopt(self, step: int, cities: np.ndarray, channels: np.ndarray) -> None:
        cities = np.asarray(cities, dtype=np.int64)
        fresh = ~self.adopted[cities]
        cities, channels = cities[fresh], np.asarray(channels)[fresh]
        self.adopted[cities] = True
        self._cities_change(cities, +1)
        self.recorder.cities(step, cities, ADOPT, channels)

    def _government_adopts(self, step: int, gov: int, channel: str) -> None:
        self.gov_adopted[gov] = True
        self.gov_mandate[gov] = self.setup.gov_can_mandate[gov]
        self.gov_mandate_step[gov] = step if self.gov_mandate[gov] else NO_MANDATE
        self.recorder.government(step, gov, GOV_ADOPT, channel, int(self.gov_mandate[gov]))
        self._context_dirty = True

    def _compute_context(self) -> None:
        """Per-city effects of the governments above it (changes only with governments)."""
        setup, mech = self.setup, self.mech
        stance = np.append(self.gov_stance, vertical.NEUTRAL)
        adopted = np.append(self.gov_adopted, False)
        support = vertical.support(stance, adopted)
        hostile = stance == vertical.HOSTILE
        preempting = hostile & np.append(self.gov_preempts, False)
        mandate_step = np.append(
            np.where(self.gov_mandate & self.gov_adopted, self.gov_mandate_step, NO_MANDATE),
            NO_MANDATE,
        )
        n = setup.n_cities
        total_support = np.zeros(n)
        n_hostile = np.zeros(n, dtype=np.int64)
        preempted = np.zeros(n, dtype=bool)
        self.mandate_start = np.full(n, NO_MANDATE, dtype=np.int64)
        for row in setup.city_gov:
            total_support += support[row]
            n_hostile += hostile[row]
            preempted |= preempting[row]
            np.minimum(self.mandate_start, mandate_step[row], out=self.mandate_start)
        if not mech.hierarchical.enabled:
            preempted[:] = False
            self.mandate_start[:] = NO_MANDATE
        self.preempted = preempted
        self.blocked = preempted & ~setup.defiant
        factor = setup.deterrence[n_hostile] if mech.vertical.enabled else np.ones(n)
        factor[self.blocked] = 0.0
        self.voluntary_factor = factor
        self.innovation_hazard = self.innovation_base * factor
        self.top_down_hazard = (
            vertical.top_down_hazard(total_support, setup.readiness, mech.vertical.top_down_rate)
            * factor
            if mech.vertical.enabled
            else np.zeros(n)
        )
        self._context_dirty = False

    # ----------------------------------------------------------------- events
    def _apply_events(self, step: int) -> None:
        setup = self.setup
        for event in setup.events.get(step, ()):
            if event.kind == "stance":
                self.gov_stance[event.government] = event.stance
                self.gov_preempts[event.government] = (
                    event.preempts and event.stance == vertical.HOSTILE
                )
                self.recorder.government(step, event.government, GOV_STANCE, "event", event.stance)
                self._context_dirty = True
            elif event.kind == "government_adopts":
                if not self.gov_adopted[event.government]:
                    self._government_adopts(step, event.government, "event")
            elif event.kind == "government_withdraws":
                if self.gov_adopted[event.government]:
                    self.gov_adopted[event.government] = False
                    self.gov_mandate[event.government] = False
                    self.gov_mandate_step[event.government] = NO_MANDATE
                    self.recorder.government(step, event.government, GOV_WITHDRAW, "event")
                    self._context_dirty = True
            elif event.kind in ("network_founded", "network_opens"):
                net = setup.world.networks[event.network]
                size = net.size if event.kind == "network_founded" else event.size
                self.network_sizes[event.network] = min(size, len(net.ranking))
                self._networks_changed()
            elif event.kind == "summit":
                self.boost, self.boost_until = event.boost, step + event.duration - 1
            elif event.kind == "pioneers":
                named = np.asarray(event.cities, dtype=np.int64)
                taken = self.adopted.copy()
                taken[named] = True
                top = innovation.top_pioneers(
                    setup.world.capacity, setup.world.leaning, event.count, exclude=taken
                )
                cities = np.unique(np.concatenate([named, top]))
                self._cities_adopt(step, cities, np.full(len(cities), INNOVATION))

    # ------------------------------------------------------------------- step
    def step(self, t: int) -> None:
        """Advance from the state at the end of step t-1 to the end of step t."""
        setup, mech = self.setup, self.mech
        self._apply_events(t)
        u_city = self.rng.random(setup.n_cities)
        u_gov = self.rng.random(setup.n_governments)
        if self._context_dirty:
            self._compute_context()
        boost = self.boost if t <= self.boost_until else 1.0
        n = setup.n_cities
        zeros = np.zeros(n)

        # Adoption by non-adopters: four channels as competing risks.
        h = mech.horizontal
        if not h.enabled:
            h_horizontal = zeros
        elif h.rule == "threshold":
            h_horizontal = horizontal.threshold_hazard(
                self.pressure, self.influence.total, setup.threshold, boost
            )
            h_horizontal *= self.voluntary_factor
        else:
            h_horizontal = horizontal.contagion_hazard(self.pressure, boost) * self.voluntary_factor
        if mech.hierarchical.enabled:
            elapsed = t - self.mandate_start - 1
            h_hierarchical = (
                hierarchical.compliance_hazard(elapsed, mech.hierarchical.compliance_steps)
                * ~self.blocked
            )
        else:
            h_hierarchical = zeros
        hazards = [self.innovation_hazard, h_horizontal, self.top_down_hazard, h_hierarchical]
        channel = choose_channel(u_city, hazards)
        adopting = np.flatnonzero(~self.adopted & (channel >= 0))

        # Exit of adopters: abandonment (unless mandated) and preemption.
        a = mech.abandonment
        if a.enabled:
            h_abandon = abandonment.abandonment_hazard(
                self.monitored, a.rate, a.monitoring_reduction
            ) * (self.mandate_start >= t)
        else:
            h_abandon = zeros
        h_preempt = hierarchical.preemption_hazard(
            self.preempted, setup.defiant, mech.hierarchical.preemption_enforcement
        )
        exit_channel = choose_channel(u_city, [h_abandon, h_preempt])
        dropping = np.flatnonzero(self.adopted & (exit_channel >= 0))

        # Governments that have not adopted: bottom-up pressure and harmonization.
        gov_adopting = self._government_choices(u_gov)

        # Apply everything at once.
        self.adopted[adopting] = True
        self.adopted[dropping] = False
        self._cities_change(adopting, +1)
        self._cities_change(dropping, -1)
        self.recorder.cities(t, adopting, ADOPT, channel[adopting])
        self.recorder.cities(t, dropping, DROP, exit_channel[dropping] + len(ADOPTION_CHANNELS))
        for gov, gov_channel in gov_adopting:
            self._government_adopts(t, gov, gov_channel)

    def _government_choices(self, u_gov: np.ndarray) -> list[tuple[int, str]]:
        setup, mech = self.setup, self.mech
        g = setup.n_governments
        if g == 0:
            return []
        zeros = np.zeros(g)
        if mech.vertical.enabled:
            population = setup.gov_population[:g]
            cities = setup.gov_cities[:g]
            population_share = np.divide(
                self.gov_pop_adopted[:g], population, out=np.zeros(g), where=population > 0
            )
            lobbying_share = np.divide(
                self.gov_lobby_adopted[:g], cities, out=np.zeros(g), where=cities > 0
            )
            h_bottom_up = vertical.government_hazard(
                population_share,
                lobbying_share,
                setup.response[self.gov_stance + 1],
                mech.vertical.bottom_up_rate,
                mech.vertical.lobbying_weight,
            )
        else:
            h_bottom_up = zeros
        h_harmonize = (
            hierarchical.harmonization_hazard(self.gov_stance, mech.hierarchical.government_rate)
            if mech.hierarchical.enabled
            else zeros
        )
        channel = choose_channel(u_gov, [h_bottom_up, h_harmonize])
        names = ("vertical", "hierarchical")
        return [
            (int(k), names[channel[k]]) for k in np.flatnonzero(~self.gov_adopted & (channel >= 0))
        ]

    def run(self, steps: int, progress: Callable[[int], None] | None = None) -> Trajectory:
        for t in range(1, steps + 1):
            self.step(t)
            if progress is not None:
                progress(t)
        return self.recorder.finish(steps)
