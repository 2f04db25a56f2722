"""City and government agents: each applies the mechanisms to itself.

This is the model as a student reads it. Every hazard is the same scalar rule
the vectorized engine's compiled loops call (:mod:`diffusion_sim.mechanisms.rules`),
composed by the same :mod:`diffusion_sim.mechanisms.embedded` functions, on one
agent's numbers; each step has a
decide phase (read the state at the start of the step) and an apply phase
(write the next state), so the order in which agents act changes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from diffusion_sim.mechanisms import compose, embedded, horizontal, innovation, vertical
from diffusion_sim.mechanisms.compose import NO_MANDATE
from diffusion_sim.mechanisms.embedded import choose_channel_of_one
from diffusion_sim.mechanisms.registry import (
    ADOPTION_CODES,
    EXIT_CODES,
    FURTHER,
    GOVERNMENT_DECISIONS,
    HIERARCHICAL,
    HORIZONTAL,
    VERTICAL,
)
from diffusion_sim.model import provenance
from diffusion_sim.model.trajectory import NO_SOURCE

if TYPE_CHECKING:
    from diffusion_sim.engines.agents.model import DiffusionModel


class GovernmentAgent(mesa.Agent):
    """A region, nation, bloc or global authority over some cities."""

    model: DiffusionModel

    def __init__(self, model: DiffusionModel, index: int, name: str, level: str) -> None:
        super().__init__(model)
        self.index = index
        self.name = name
        self.level = level
        self.cities: list[CityAgent] = []
        self.population = 0
        self.next_channel = -1
        self.support_given = 0
        """Top-down support this step: the model sets it from :meth:`support` each step."""

    # My state is my entry in the model's one GovernmentStates (its verbs change it).
    @property
    def stance(self) -> int:
        return int(self.model.gov_states.stance[self.index])

    @property
    def preempts(self) -> bool:
        return bool(self.model.gov_states.preempts[self.index])

    @property
    def adopted(self) -> bool:
        return bool(self.model.gov_states.adopted[self.index])

    @property
    def mandate(self) -> bool:
        return bool(self.model.gov_states.mandate[self.index])

    @property
    def mandate_step(self) -> int:
        return int(self.model.gov_states.mandate_step[self.index])

    @property
    def preempting(self) -> bool:
        return self.stance == vertical.HOSTILE and self.preempts

    def support(self) -> int:
        """Top-down support this government gives the cities under it."""
        return vertical.support_rule(self.stance, self.adopted)

    def decide(self) -> None:
        """Bottom-up pressure from my cities, or my own harmonization."""
        self.next_channel = -1
        if not self.model.open_to_adoption[self.index]:  # has the policy, or locked out
            return
        adopted = [city for city in self.cities if city.adopted]
        hazards = compose.government_hazards(
            self.model.params,
            sum(city.population for city in adopted),
            self.population,
            sum(city.lobbying for city in adopted),  # integer units: an exact sum
            len(self.cities),
            self.model.setup.response[self.stance + 1],
            self.stance,
        )
        self.next_channel = choose_channel_of_one(self.model.u_gov[self.index], hazards)

    def apply(self) -> None:
        if self.next_channel >= 0:
            channel = GOVERNMENT_DECISIONS[self.next_channel]
            self.model.gov_states.adopt(self.model.steps, self.index, channel)


class CityAgent(mesa.Agent):
    """A municipality that may adopt the policy, and may drop it."""

    model: DiffusionModel

    def __init__(self, model: DiffusionModel, index: int) -> None:
        super().__init__(model)
        world, setup = model.setup.world, model.setup
        self.index = index
        self.name = str(world.city_names[index])
        self.population = int(world.population[index])
        self.capacity = float(world.capacity[index])
        self.leaning = float(world.leaning[index])
        self.readiness = float(setup.readiness[index])
        self.threshold = float(setup.threshold[index])
        self.defiant = bool(setup.defiant[index])
        self.susceptibility = float(setup.susceptibility[index])
        """How far voluntary channels can move me (0: opposed; mechanisms/susceptibility.py)."""
        mech = model.scenario.mechanisms
        self.innovation = innovation.innovation_rule(
            self.capacity, self.leaning, mech.innovation.rate
        )
        """My own innovation hazard (before the voluntary factor), fixed for the run."""
        mine = {
            "capacity": self.capacity,
            "leaning": self.leaning,
            "population": self.population,
            "readiness": self.readiness,
        }
        self.further = [f.hazard(getattr(mech, f.mechanism.name), mine) for f in FURTHER]
        """Further mechanisms' own hazards of mine (registry.FURTHER), fixed for the run."""
        self.governments: list[GovernmentAgent] = []
        self.influencers: list[tuple[CityAgent, float]] = []
        """Cities whose adoption weighs on me, with their integer-valued weight."""
        self.influenced: list[tuple[CityAgent, float]] = []
        """Cities my adoption weighs on (the same ties, seen from my side)."""
        self.total_influence = 0.0
        self.pressure = 0.0
        """Weight of my influencers that have adopted: kept up to date as they adopt or drop."""
        self.monitored = False
        self.lobbying = 0.0
        """My voice through lobbying networks (units of vertical.VOICE_UNITS; 0: none)."""
        self.adopted = False
        self.channel = -1
        """Code (registry.CHANNELS) of my last change; -1 if none."""
        self.adoption_step = -1
        self.next_change = 0
        self.next_channel = -1
        self.next_source, self.next_source_rest = NO_SOURCE, 0.0
        """What carries my adoption this step (diffusion_sim.model.provenance), and the rest
        of my uniform, which picks the tie layer of a horizontal one."""

    # What the governments above me do to me.
    def under_mandate_since(self) -> int:
        """Step at which the earliest mandate over me was issued (NO_MANDATE if none)."""
        steps = [g.mandate_step for g in self.governments if g.mandate and g.adopted]
        return min(steps, default=NO_MANDATE)

    def preempted(self) -> bool:
        return any(g.preempting for g in self.governments)

    def decide(self) -> None:
        """Compute my hazards from the state at the start of the step and draw my fate."""
        model, params = self.model, self.model.params
        t = model.steps
        u = model.u_city[self.index]
        self.next_change, self.next_channel = 0, -1
        self.next_source, self.next_source_rest = NO_SOURCE, 0.0
        above: tuple = (0.0, 0, False, NO_MANDATE)  # nothing above acts: as the kernels, skip
        if params.vertical or params.hierarchical:
            above = (
                float(sum(g.support_given for g in self.governments)),
                sum(1 for g in self.governments if g.stance == vertical.HOSTILE),
                self.preempted(),
                self.under_mandate_since(),
            )
        factor, top_down, preempted, blocked, start = compose.city_context(
            params, *above, self.defiant, self.susceptibility, self.readiness
        )
        if self.adopted:
            hazards = compose.exit_hazards(
                params, t, self.monitored, preempted, self.defiant, start
            )
            channel = choose_channel_of_one(u, hazards)
            if channel >= 0:
                self.next_change, self.next_channel = -1, EXIT_CODES[channel]
            return
        # self.pressure == sum(weight for city, weight in self.influencers if city.adopted)
        escaped = 1.0
        if params.horizontal_rule == compose.CONTAGION_RULE:
            escaped = float(horizontal.escape_probability(self.pressure))
        hazards = compose.adoption_hazards(
            params,
            t,
            factor,
            blocked,
            start,
            self.innovation,
            self.pressure,
            self.total_influence,
            self.threshold,
            escaped,
            model.boost_now(),
            top_down,
        )
        now = compose.voluntary_now(params, t, factor)
        further = [embedded.further_channel(now, h) for h in self.further]
        channel = choose_channel_of_one(u, hazards, further)
        if channel >= 0:
            self.next_change, self.next_channel = 1, ADOPTION_CODES[channel]
            within = embedded.position_in_channel(u, hazards, channel, further)
            self.next_source, self.next_source_rest = self.source_of(channel, within)

    def source_of(self, channel: int, within: float) -> tuple[int, float]:
        """Who carries my adoption through ``channel``, chosen by ``within`` (provenance.py)."""
        above = np.array([g.index for g in self.governments], dtype=np.int64)
        if channel == HORIZONTAL:
            weights = np.array([weight for _, weight in self.influencers])
            eligible = np.array([city.adopted for city, _ in self.influencers], dtype=bool)
            k, rest = provenance.pick_in_proportion(within, weights, eligible)
            return (self.influencers[k][0].index if k >= 0 else NO_SOURCE), rest
        governments = self.model.government_agents
        if channel == VERTICAL:
            support = np.array([g.support_given for g in governments])
            return int(provenance.strongest_supporter(above, support)), 0.0
        if channel == HIERARCHICAL:
            issued = np.array([g.mandate_step for g in governments])
            issued[[not (g.mandate and g.adopted) for g in governments]] = NO_MANDATE
            since = self.under_mandate_since()
            return int(provenance.mandating_government(above, issued, since)), 0.0
        return NO_SOURCE, 0.0

    def set_adopted(self, adopted: bool) -> None:
        """Adopt or drop, and tell the cities I influence (their pressure changes)."""
        if adopted != self.adopted:
            self.adopted = adopted
            sign = 1.0 if adopted else -1.0
            for city, weight in self.influenced:  # integer-valued weights: exact sums
                city.pressure += sign * weight

    def apply(self) -> None:
        if self.next_change == 1:
            self.set_adopted(True)
            self.channel, self.adoption_step = self.next_channel, self.model.steps
        elif self.next_change == -1:
            self.set_adopted(False)
            self.channel = self.next_channel
