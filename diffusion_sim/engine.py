"""The vectorized engine: a step is a few vector operations and compiled loops over what changed.

Each step (docs/ODD.md, "Process overview and scheduling"):

1. apply the step's scheduled events;
2. draw one uniform per city, then one per government (the only draws);
3. from the state at the start of the step, decide who changes state;
4. apply all changes at once, and add the changed cities' ties to their
   neighbours' horizontal pressure (a run touches each tie about once, not once
   per step).

Why a step at a million cities costs little more than drawing its uniforms
(docs/performance.md): a city's hazard only changes when something it depends on
changes, so the engine keeps every city's combined hazard ``h`` (of adopting,
for a non-adopter; of dropping, for an adopter) in one array and recomputes it
only for the cities whose inputs changed: those that changed state, those whose
pressure changed, those under a government that changed, and those under a
mandate whose compliance clock is running. The decision itself is then one
comparison ``u < h`` over all cities. Which channel fired is worked out only
for the few cities that changed, by the same :func:`choose_channel` on their
hazards. The work on the changed cities and their ties (pressure, tallies,
context, hazards) is done by the compiled loops of :mod:`diffusion_sim.kernels`,
which evaluate the mechanisms' formulas with the same operations in the same
order, so the result is identical to evaluating every city every step with numpy
(:meth:`VectorizedEngine.full_hazard`; tests/test_performance_paths.py checks
this), and identical to the agents engine (tests/test_engines.py).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from diffusion_sim import kernels
from diffusion_sim.mechanisms import abandonment, hierarchical, horizontal, innovation, vertical
from diffusion_sim.mechanisms.embedded import ADOPTION_CHANNELS, choose_channel, combined_hazard
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

FULL_REFRESH_SHARE = 0.25
"""Above this share of cities under governments that changed, recompute every
city's context and hazard in index order (cheaper than gathering a quarter)."""


class VectorizedEngine:
    """Runs a :class:`Setup` with numpy and kernels.py's loops; see the module docstring."""

    def __init__(self, setup: Setup, rng: np.random.Generator) -> None:
        self.setup = setup
        self.rng = rng
        self.mech = setup.scenario.mechanisms
        world = setup.world
        n, g = setup.n_cities, setup.n_governments
        self.n = n
        self.population = world.population.astype(np.float64)
        self.innovation_base = (
            innovation.innovation_hazard(world.capacity, world.leaning, self.mech.innovation.rate)
            if self.mech.innovation.enabled
            else np.zeros(n)
        )
        # Per-city arrays are written here (np.full, not np.zeros or np.empty, whose pages
        # the kernel maps on first touch), so that no step pays for first-touch page faults.
        self.adopted = np.full(n, False)
        self.gov_stance = setup.gov_stance0.copy()
        self.gov_preempts = setup.gov_preempts0.copy()
        self.gov_adopted = np.zeros(g, dtype=bool)
        self.gov_mandate = np.zeros(g, dtype=bool)
        self.gov_mandate_step = np.full(g, NO_MANDATE, dtype=np.int64)
        self.boost, self.boost_until = 1.0, -1
        self.recorder = Recorder()

        # Per-city context (effects of the governments above), kept up to date.
        self.voluntary_factor = np.ones(n)
        self.innovation_hazard = np.full(n, 0.0)
        self.top_down_hazard = np.full(n, 0.0)
        self.preempted = np.full(n, False)
        self.blocked = np.full(n, False)
        self.mandate_start = np.full(n, NO_MANDATE, dtype=np.int64)
        # The combined hazard of each city's possible change, and what makes it stale.
        self.hazard = np.full(n, 0.0)
        self._u = np.full(n, 0.0)
        self._below = np.full(n, False)
        self._mark = np.full(n, False)
        self._all_cities = np.arange(n, dtype=np.int64)
        self._stale = np.full(n, False)  # cities whose hazard must be recomputed (kernels.py)
        self._rule = (
            kernels.HORIZONTAL_OFF
            if not self.mech.horizontal.enabled
            else kernels.THRESHOLD_RULE
            if self.mech.horizontal.rule == "threshold"
            else kernels.CONTAGION_RULE
        )
        self._no_contagion = np.empty(0)
        m = self.mech
        adoption_on = (m.innovation, m.horizontal, m.vertical, m.hierarchical)
        self._adoption_channels_on = tuple(k for k, c in enumerate(adoption_on) if c.enabled)
        exit_on = (m.abandonment, m.hierarchical)  # preemption belongs to hierarchical
        self._exit_channels_on = tuple(k for k, c in enumerate(exit_on) if c.enabled)
        self._refresh_all = True
        self._all_govs_changed = True
        self._changed_govs: set[int] = set()
        self._mandated = np.empty(0, dtype=np.int64)
        self._boost_in_hazard = 1.0
        setup.gov_members  # noqa: B018 - built now, with the run's other tables, not mid-run

        self.pressure = np.full(n, 0.0)
        self.network_sizes = setup.initial_network_sizes()
        self._networks_changed()
        for k in np.flatnonzero(setup.gov_adopted0):
            self._government_adopts(0, int(k), "event")
        self._cities_adopt(0, setup.pioneers, np.full(len(setup.pioneers), INNOVATION))

    # ------------------------------------------------------------ bookkeeping
    def _networks_changed(self) -> None:
        """Rebuild tie weights, membership flags and tallies after a network event."""
        setup = self.setup
        self.influence = setup.influence(self.network_sizes)
        self.monitored, self.lobbying = setup.network_flags(self.network_sizes)
        self.full_pressure(out=self.pressure)
        size = setup.n_governments + 1
        self.gov_pop_adopted = np.zeros(size)
        self.gov_lobby_adopted = np.zeros(size)
        self._tally(np.flatnonzero(self.adopted), +1)
        self._refresh_all = True

    def full_pressure(self, out: np.ndarray | None = None) -> np.ndarray:
        """Every city's horizontal pressure from scratch: the one pass over every tie.

        Integer-valued weights summed in float64: exact whatever the order, so it
        equals the incremental updates of :meth:`_cities_change`.
        """
        out = np.empty(self.n) if out is None else out
        if not self.adopted.any():
            out[:] = 0.0
            return out
        by_target = self.influence.by_target
        mask = self.adopted.view(np.uint8)
        kernels.gather_pressure(by_target.indptr, by_target.indices, by_target.data, mask, out)
        return out

    def _cities_change(self, cities: np.ndarray, sign: int) -> None:
        """Add (sign +1) or remove (-1) cities' influence and government tallies.

        The cities themselves and (if pressure moves hazards) the cities whose
        pressure moved are marked stale. Tallies feed only the vertical mechanism.
        """
        if not len(cities):
            return
        by_source = self.influence.by_source
        kernels.spread_influence(
            by_source.indptr,
            by_source.indices,
            by_source.data,
            cities,
            float(sign),
            self.pressure,
            self.mech.horizontal.enabled,
            self.adopted,
            self._stale,
        )
        self._stale[cities] = True
        self._tally(cities, sign)

    def _tally(self, cities: np.ndarray, sign: int) -> None:
        """Add (or remove) cities' population and lobbying voice to the governments above.

        Only the vertical mechanism reads these tallies, so without it they stay at 0.
        """
        if self.mech.vertical.enabled and len(cities):
            kernels.tally_governments(
                cities,
                float(sign),
                self.setup.city_gov,
                self.population,
                self.lobbying,
                self.gov_pop_adopted,
                self.gov_lobby_adopted,
            )

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
        self._changed_govs.add(gov)

    def _unique(self, parts: list[np.ndarray]) -> np.ndarray:
        """Sorted distinct city indices from several index arrays."""
        indices = np.concatenate(parts) if len(parts) > 1 else parts[0]
        if len(indices) < self.n // 256:
            return np.unique(indices)
        self._mark[indices] = True
        found = np.flatnonzero(self._mark)
        self._mark[found] = False
        return found

    # ---------------------------------------------------------------- context
    def _update_context(self, cities: np.ndarray) -> None:
        """Per-city effects of the governments above (they change only with governments).

        The cities whose hazard may have changed are marked stale: the non-adopters,
        and the adopters whose mandate or preemption changed (nothing else moves an
        exit hazard).
        """
        setup, mech = self.setup, self.mech
        stance = np.append(self.gov_stance, vertical.NEUTRAL)
        adopted = np.append(self.gov_adopted, False)
        support = vertical.support(stance, adopted).astype(np.float64)
        is_hostile = stance == vertical.HOSTILE
        preempting = is_hostile & np.append(self.gov_preempts, False)
        hostile = is_hostile.astype(np.int64)  # summed over the levels above a city
        mandate_step = np.append(
            np.where(self.gov_mandate & self.gov_adopted, self.gov_mandate_step, NO_MANDATE),
            NO_MANDATE,
        ).astype(np.int64)
        kernels.update_context(
            cities,
            setup.city_gov,
            support,
            hostile,
            preempting,
            mandate_step,
            setup.defiant,
            setup.susceptibility,
            setup.deterrence,
            mech.vertical.enabled,
            mech.hierarchical.enabled,
            self.innovation_base,
            setup.readiness,
            float(mech.vertical.top_down_rate),
            self.adopted,
            self.voluntary_factor,
            self.innovation_hazard,
            self.top_down_hazard,
            self.preempted,
            self.blocked,
            self.mandate_start,
            self._stale,
        )

    def _cities_under_changed_governments(self) -> np.ndarray | slice:
        """Cities whose context must be recomputed (a slice for all of them)."""
        govs = sorted(self._changed_govs)
        if self._all_govs_changed:
            return slice(None)
        order, offsets = self.setup.gov_members
        affected = int(sum(offsets[k + 1] - offsets[k] for k in govs))
        if affected > FULL_REFRESH_SHARE * self.n:
            return slice(None)
        parts = [order[offsets[k] : offsets[k + 1]] for k in govs]
        return self._unique(parts) if len(parts) else np.empty(0, dtype=np.int64)

    # ---------------------------------------------------------------- hazards
    def adoption_hazards(
        self, cities: np.ndarray | slice, t: int, skip_off: bool = False
    ) -> list[np.ndarray | None]:
        """The four adoption hazards (innovation, horizontal, vertical, hierarchical) at step t.

        With ``skip_off``, a mechanism that is switched off gives None instead of zeros.
        """
        setup, mech = self.setup, self.mech
        factor = self.voluntary_factor[cities]
        zeros = np.zeros(len(factor))
        boost = self.boost if t <= self.boost_until else 1.0
        h = mech.horizontal
        if not h.enabled:
            h_horizontal = zeros
        elif h.rule == "threshold":
            h_horizontal = horizontal.threshold_hazard(
                self.pressure[cities], self.influence.total[cities], setup.threshold[cities], boost
            )
            h_horizontal *= factor
        else:
            h_horizontal = horizontal.contagion_hazard(self.pressure[cities], boost) * factor
        h_hierarchical = zeros
        if mech.hierarchical.enabled:
            start = self.mandate_start[cities]
            active = np.flatnonzero(start < t)  # elsewhere the hazard is 0 (no mandate in force)
            if len(active):
                h_hierarchical = zeros.copy()
                blocked = self.blocked[cities]
                h_hierarchical[active] = (
                    hierarchical.compliance_hazard(
                        t - start[active] - 1, mech.hierarchical.compliance_steps
                    )
                    * ~blocked[active]
                )
        hazards = [
            self.innovation_hazard[cities] if mech.innovation.enabled else zeros,
            h_horizontal,
            self.top_down_hazard[cities] if mech.vertical.enabled else zeros,
            h_hierarchical,
        ]
        if skip_off:
            on = (mech.innovation, h, mech.vertical, mech.hierarchical)
            hazards = [hz if m.enabled else None for hz, m in zip(hazards, on, strict=True)]
        return hazards

    def exit_hazards(
        self, cities: np.ndarray | slice, t: int, skip_off: bool = False
    ) -> list[np.ndarray | None]:
        """The two exit hazards of adopters (abandonment, preemption) at step t.

        With ``skip_off``, a mechanism that is switched off gives None instead of zeros
        (preemption is part of the hierarchical mechanism).
        """
        setup, mech = self.setup, self.mech
        a = mech.abandonment
        if a.enabled:
            h_abandon = abandonment.abandonment_hazard(
                self.monitored[cities], a.rate, a.monitoring_reduction
            ) * (self.mandate_start[cities] >= t)
        else:
            h_abandon = None if skip_off else np.zeros(len(self.preempted[cities]))
        if mech.hierarchical.enabled or not skip_off:
            h_preempt = hierarchical.preemption_hazard(
                self.preempted[cities],
                setup.defiant[cities],
                mech.hierarchical.preemption_enforcement,
            )
        else:
            h_preempt = None
        return [h_abandon, h_preempt]

    def full_hazard(self, t: int) -> np.ndarray:
        """Every city's combined hazard at step t, evaluated from scratch with numpy.

        The reference the kept hazards (kernels.refresh_hazards) are tested against.
        """
        joining = self._combined(self.adoption_hazards(slice(None), t, True))
        leaving = self._combined(self.exit_hazards(slice(None), t, True))
        return np.where(self.adopted, leaving, joining)

    def _combined(self, hazards: list[np.ndarray | None]) -> np.ndarray | float:
        """combined_hazard of the channels that are on.

        A channel switched off is zero everywhere, and leaving it out changes no bit:
        x * (1 - 0) == x exactly. So a scenario with one mechanism pays for one.
        """
        on = [h for h in hazards if h is not None]
        return combined_hazard(on) if on else 0.0

    def _mandates_due(self, t: int) -> np.ndarray:
        """Cities under a mandate whose hazard moves at step t: the compliance clock ticks.

        Once in force, an adopter's or a blocked city's hazard no longer moves: they
        leave the watched set.
        """
        if not len(self._mandated):
            return self._mandated
        due, keep = np.empty_like(self._mandated), np.empty_like(self._mandated)
        n_due, n_keep = kernels.mandates_due(
            self._mandated, t, self.mandate_start, self.adopted, self.blocked, due, keep
        )
        self._mandated = keep[:n_keep]
        return due[:n_due]

    def _bring_hazards_up_to_date(self, t: int) -> None:
        """Recompute the hazard of every city whose inputs changed since the last step."""
        mech = self.mech
        boost = self.boost if t <= self.boost_until else 1.0
        if boost != self._boost_in_hazard:
            self._boost_in_hazard = boost
            self._refresh_all = True
        if self._changed_govs or self._all_govs_changed:
            cities = self._cities_under_changed_governments()
            self._changed_govs.clear()
            self._all_govs_changed = False
            if isinstance(cities, slice):
                self._update_context(self._all_cities)
                self._refresh_all = True
                self._mandated = np.flatnonzero(self.mandate_start != NO_MANDATE)
            else:
                self._update_context(cities)
                start = self.mandate_start[cities]
                unsettled = (start >= t - 1) | (~self.adopted[cities] & ~self.blocked[cities])
                under = cities[(start != NO_MANDATE) & unsettled]
                self._mandated = self._unique([self._mandated, under])
        self._stale[self._mandates_due(t)] = True
        cities = self._all_cities if self._refresh_all else np.flatnonzero(self._stale)
        self._stale.fill(False)
        self._refresh_all = False
        if self._rule == kernels.CONTAGION_RULE:
            contagion = horizontal.contagion_hazard(self.pressure[cities], boost)
        else:
            contagion = self._no_contagion
        h, a = mech.hierarchical, mech.abandonment
        kernels.refresh_hazards(
            cities,
            t,
            boost,
            self._rule,
            contagion,
            mech.innovation.enabled,
            mech.vertical.enabled,
            h.enabled,
            a.enabled,
            h.compliance_steps,
            float(h.preemption_enforcement),
            float(a.rate),
            float(a.monitoring_reduction),
            self.adopted,
            self.voluntary_factor,
            self.innovation_hazard,
            self.top_down_hazard,
            self.pressure,
            self.influence.total,
            self.setup.threshold,
            self.mandate_start,
            self.blocked,
            self.preempted,
            self.setup.defiant,
            self.monitored,
            self.hazard,
        )

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
                self._changed_govs.add(event.government)
            elif event.kind == "government_adopts":
                if not self.gov_adopted[event.government]:
                    self._government_adopts(step, event.government, "event")
            elif event.kind == "government_withdraws":
                if self.gov_adopted[event.government]:
                    self.gov_adopted[event.government] = False
                    self.gov_mandate[event.government] = False
                    self.gov_mandate_step[event.government] = NO_MANDATE
                    self.recorder.government(step, event.government, GOV_WITHDRAW, "event")
                    self._changed_govs.add(event.government)
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
        setup = self.setup
        self._apply_events(t)
        u_city = self.rng.random(setup.n_cities, out=self._u)
        u_gov = self.rng.random(setup.n_governments)
        self._bring_hazards_up_to_date(t)

        # A city changes state iff u < its combined hazard (docs/ODD.md); the
        # channel is then chosen among its hazards, for the changing cities only.
        changing = np.flatnonzero(np.less(u_city, self.hazard, out=self._below))
        leaving = self.adopted[changing]
        adopting, dropping = changing[~leaving], changing[leaving]
        channel = self._channels(u_city[adopting], adopting, t, exits=False)
        exit_channel = self._channels(u_city[dropping], dropping, t, exits=True)

        gov_adopting = self._government_choices(u_gov)

        # Apply everything at once.
        self.adopted[adopting] = True
        self.adopted[dropping] = False
        self._cities_change(adopting, +1)
        self._cities_change(dropping, -1)
        self.recorder.cities(t, adopting, ADOPT, channel)
        self.recorder.cities(t, dropping, DROP, exit_channel + len(ADOPTION_CHANNELS))
        for gov, gov_channel in gov_adopting:
            self._government_adopts(t, gov, gov_channel)

    def _channels(self, u: np.ndarray, cities: np.ndarray, t: int, exits: bool) -> np.ndarray:
        """Which channel fired for each changing city (choose_channel on its hazards).

        Only the channels that are on are compared: one that is off has hazard 0 and
        never fires (its bound equals the one before it, or 0 if it is first), so the
        same channel is picked; and where one channel alone is on, it is the one.
        """
        on = self._exit_channels_on if exits else self._adoption_channels_on
        if not len(cities) or not on:
            return np.empty(0, dtype=np.int8)
        if len(on) == 1:
            return np.full(len(cities), on[0], dtype=np.int8)
        hazards = (self.exit_hazards if exits else self.adoption_hazards)(cities, t, True)
        chosen = choose_channel(u, [hazards[k] for k in on])
        return np.asarray(on, dtype=np.int8)[chosen]

    def _government_choices(self, u_gov: np.ndarray) -> list[tuple[int, str]]:
        """Governments that adopt this step, with their channel (bottom-up or harmonization).

        With both mechanisms off no government adopts but by an event (the uniforms
        are drawn all the same, so the random numbers stay common to every scenario).
        """
        setup, mech = self.setup, self.mech
        g = setup.n_governments
        if g == 0 or not (mech.vertical.enabled or mech.hierarchical.enabled):
            return []
        zeros = np.zeros(g)
        if mech.vertical.enabled:
            population = setup.gov_population[:g]
            cities = setup.gov_cities[:g]
            population_share = np.divide(
                self.gov_pop_adopted[:g], population, out=np.zeros(g), where=population > 0
            )
            lobbying_share = np.divide(
                self.gov_lobby_adopted[:g],
                cities * vertical.VOICE_UNITS,
                out=np.zeros(g),
                where=cities > 0,
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
        """Run ``steps`` steps and return the change events."""
        for t in range(1, steps + 1):
            self.step(t)
            if progress is not None:
                progress(t)
        return self.recorder.finish(steps)
