"""The agents engine: a Mesa model with a CityAgent per city and a GovernmentAgent per government.

It reads the same :class:`~diffusion_sim.model.setup.Setup` and draws the same
vectors in the same order as the vectorized engine (one uniform per city, then
one per government, at the start of each step), so a scenario and seed give
the same trajectory on both, event for event.
"""

from __future__ import annotations

from collections.abc import Callable

import mesa
import numpy as np
from mesa.agent import AgentSet

from diffusion_sim.engines.agents.agents import CityAgent, GovernmentAgent
from diffusion_sim.engines.interface import GovernmentState, run_steps
from diffusion_sim.mechanisms import compose, innovation
from diffusion_sim.mechanisms.registry import ADOPTION_CODES, INNOVATION
from diffusion_sim.model import events
from diffusion_sim.model.events import Boost
from diffusion_sim.model.governments import GovernmentStates
from diffusion_sim.model.setup import ResolvedEvent, Setup
from diffusion_sim.model.trajectory import ADOPT, DROP, EVENT_SOURCE, Recorder, Trajectory
from diffusion_sim.scenario import LEVELS, Scenario


class DiffusionModel(mesa.Model):
    """Policy diffusion among cities under governments, agent by agent.

    Parameters
    ----------
    setup : Setup
        The resolved world and scenario (see :func:`diffusion_sim.model.setup.build_setup`).
    rng : numpy.random.Generator
        The run's generator, already advanced past the setup's draws.
    """

    def __init__(self, setup: Setup, rng: np.random.Generator) -> None:
        # Mesa would draw from a Generator to seed its stdlib `random`, which
        # would shift our stream; the model never uses `random`, so seed it apart.
        super().__init__(seed=setup.world.seed)
        self.rng = rng
        self.setup = setup
        self.params = compose.params_of(setup.scenario.mechanisms, setup.deterrence)
        """The mechanisms' switches and rates (:mod:`diffusion_sim.mechanisms.compose`)."""
        self.scenario: Scenario = setup.scenario
        self.recorder = Recorder()
        self.gov_states = GovernmentStates(setup, self.recorder)
        """Every government's state (the GovernmentAgents read theirs from it)."""
        self.open_to_adoption = self.gov_states.open_to_adoption(0)
        self.boost = Boost()
        self.u_city: list[float] = []
        self.u_gov: list[float] = []

        self.city_agents = [CityAgent(self, i) for i in range(setup.n_cities)]
        self.government_agents = [
            GovernmentAgent(self, k, name, LEVELS[setup.gov_level[k]])
            for k, name in enumerate(setup.gov_names)
        ]
        for row in setup.city_gov:
            for city, gov in zip(self.city_agents, row, strict=True):
                if gov < setup.n_governments:
                    city.governments.append(self.government_agents[gov])
                    self.government_agents[gov].cities.append(city)
        for gov in self.government_agents:
            gov.cities.sort(key=lambda c: c.index)
            gov.population = sum(c.population for c in gov.cities)
        self.cities = AgentSet(self.city_agents, random=self.random)
        self.governments = AgentSet(self.government_agents, random=self.random)

        self.network_sizes = setup.initial_network_sizes()
        self.networks_changed()
        events.start(self, setup)

        self.datacollector = mesa.DataCollector(
            model_reporters={
                "adopters": lambda m: sum(c.adopted for c in m.city_agents),
                "governments_adopted": lambda m: sum(g.adopted for g in m.government_agents),
            }
        )
        self.datacollector.collect(self)

    # ------------------------------------------------------------ bookkeeping
    def boost_now(self) -> float:
        """Multiplier on horizontal influence this step (:meth:`Boost.at`)."""
        return self.boost.at(self.steps)

    def networks_changed(self) -> None:
        """Give every city its influencers and memberships for the active networks."""
        influence = self.setup.influence(self.network_sizes)
        monitored, lobbying = self.setup.network_flags(self.network_sizes)
        by_source = influence.by_source
        for city in self.city_agents:
            city.influencers, city.influenced = [], []
            city.monitored, city.lobbying = bool(monitored[city.index]), float(lobbying[city.index])
        indptr = by_source.indptr
        indices, data = by_source.indices.tolist(), by_source.data.tolist()
        for source in self.city_agents:
            start, end = indptr[source.index], indptr[source.index + 1]
            for target, weight in zip(indices[start:end], data[start:end], strict=True):
                self.city_agents[target].influencers.append((source, weight))
                source.influenced.append((self.city_agents[target], weight))
        for city in self.city_agents:
            city.total_influence = sum(weight for _, weight in city.influencers)
            city.pressure = sum(weight for source, weight in city.influencers if source.adopted)

    # ----------------------------------------------- the engine interface and verbs
    def city_adopted(self) -> np.ndarray:
        """Per city: has the policy now."""
        return np.array([c.adopted for c in self.city_agents], dtype=bool)

    def government_state(self) -> GovernmentState:
        """Each government's adoption, mandate in force, stance and preemption now."""
        return self.gov_states.snapshot()

    def adopt_cities(self, step: int, cities: np.ndarray) -> None:
        """The cities not yet adopters adopt through innovation (pioneers), in index order."""
        chosen = [self.city_agents[i] for i in cities]
        fresh = sorted((c for c in chosen if not c.adopted), key=lambda c: c.index)
        for city in fresh:
            city.set_adopted(True)
            city.channel, city.adoption_step = ADOPTION_CODES[INNOVATION], step
        self.recorder.cities(
            step,
            np.array([c.index for c in fresh]),
            ADOPT,
            np.full(len(fresh), ADOPTION_CODES[INNOVATION]),
            EVENT_SOURCE,
        )

    def resize_network(self, network: int, size: int) -> None:
        self.network_sizes[network] = size
        self.networks_changed()

    def set_parameter(self, event: ResolvedEvent, scenario: Scenario) -> None:
        """Every agent reads ``scenario``'s mechanisms from now on (a ``set`` event)."""
        self.scenario = scenario
        self.params = compose.params_of(scenario.mechanisms, self.setup.deterrence)
        rate = scenario.mechanisms.innovation.rate
        for city in self.city_agents:
            city.innovation = innovation.innovation_rule(city.capacity, city.leaning, rate)

    # ------------------------------------------------------------------- step
    def step(self) -> None:
        """One synchronous step: events, draws, everyone decides, then everyone applies."""
        events.apply_events(self, self.setup, self.steps)
        # As Python floats: the same doubles as the arrays, and faster for one agent's arithmetic.
        self.u_city = self.rng.random(len(self.city_agents)).tolist()
        self.u_gov = self.rng.random(len(self.government_agents)).tolist()
        self.open_to_adoption = self.gov_states.open_to_adoption(self.steps)
        for gov in self.government_agents:  # what each gives its cities this step, worked out once
            gov.support_given = gov.support()
        self.cities.do("decide")
        self.governments.do("decide")
        self.cities.do("apply")
        adopting = [c for c in self.city_agents if c.next_change == 1]
        dropping = [c for c in self.city_agents if c.next_change == -1]
        self.recorder.cities(
            self.steps,
            np.array([c.index for c in adopting]),
            ADOPT,
            np.array([c.next_channel for c in adopting]),
            np.array([c.next_source for c in adopting], dtype=np.int64),
            np.array([c.next_source_rest for c in adopting]),
        )
        self.recorder.cities(
            self.steps,
            np.array([c.index for c in dropping]),
            DROP,
            np.array([c.next_channel for c in dropping]),
        )
        self.governments.do("apply")
        self.datacollector.collect(self)

    def run(self, steps: int, progress: Callable[[int], None] | None = None) -> Trajectory:
        return run_steps(self, steps, progress)

    # ------------------------------------------------------- Mesa-style API
    # Added for Mesa users (docs/mesa.md): build from a scenario with keyword
    # parameters, collect agent data, stop at the scenario's last step so
    # ``mesa.batch_run(DiffusionModel.from_scenario, ...)`` works. Dynamics unchanged.

    @classmethod
    def from_scenario(
        cls,
        scenario: Scenario | str = "embedded",
        seed: int | None = None,
        steps: int | None = None,
        collect_agents: bool = True,
        **overrides: object,
    ) -> DiffusionModel:
        """A model built as ``ds.simulate(scenario, seed=seed, engine="agents")`` builds it.

        Parameters
        ----------
        scenario : Scenario or str
            A scenario, or the name or path of a scenario file ("horizontal").
        seed : int, optional
            Seed of the run (and of the world unless the scenario fixes one);
            default ``scenario.run.seed``.
        steps : int, optional
            When :attr:`running` turns False; default ``scenario.run.steps``.
        collect_agents : bool
            Record each agent's ``adopted`` and ``channel`` every step (agent reporters).
        **overrides
            Dotted scenario keys, e.g. ``**{"mechanisms.horizontal.strength": 0.2}``
            (what ``mesa.batch_run`` passes as parameters).

        Examples
        --------
        >>> model = DiffusionModel.from_scenario(Scenario(), seed=1, steps=3,
        ...     **{"world.n_cities": 100})
        >>> while model.running:
        ...     model.step()
        >>> model.steps, len(model.datacollector.get_model_vars_dataframe())
        (3, 4)
        """
        from diffusion_sim.model.setup import build_setup
        from diffusion_sim.scenario import load_scenario

        if isinstance(scenario, str):
            scenario = load_scenario(scenario)
        if overrides:
            scenario = scenario.with_overrides(dict(overrides))
        sequence = np.random.SeedSequence(scenario.run.seed if seed is None else seed)
        world = cls._world_of(scenario, int(sequence.entropy))
        rng = np.random.default_rng(sequence)
        model = cls(build_setup(scenario, world, rng), rng)
        model.max_steps = scenario.run.steps if steps is None else int(steps)
        model.datacollector = model.make_datacollector(collect_agents)
        model.datacollector.collect(model)
        return model

    @staticmethod
    def _world_of(scenario: Scenario, seed: int):
        """The world ``ds.build_world(scenario, seed)`` builds (this layer may not import it)."""
        from diffusion_sim.world.networks import build_networks

        spec = scenario.world
        world_seed = spec.seed if spec.seed is not None else seed
        if spec.generator == "real":
            from diffusion_sim.world.real_world import real_world

            world = real_world(spec, world_seed, source=scenario.source)
        else:
            from diffusion_sim.world.synthetic import synthetic_world

            world = synthetic_world(spec, world_seed)
        if scenario.networks and not world.networks:
            rng = np.random.default_rng([world.seed, 1])
            world = world.with_networks(build_networks(world, scenario.networks, rng))
        return world

    def make_datacollector(self, agents: bool = True) -> mesa.DataCollector:
        """Mesa's DataCollector: model reporters (adopters, shares, governments) and, if
        ``agents``, agent reporters (kind, adopted, channel: the name of the last change;
        source: who carried a city's adoption)."""
        from diffusion_sim.mechanisms.embedded import CHANNELS

        def channel(agent: mesa.Agent) -> str | None:
            code = getattr(agent, "channel", -1)
            return CHANNELS[code] if code >= 0 else None

        # A city's source is cleared at its next decision, so read it from the run's record
        # (the events provenance.py fills), new events only, once per collected step.
        carried: dict = {"step": None, "seen": 0, "by_city": {}}

        def source(agent: mesa.Agent) -> str | None:
            """The city (horizontal) or government (vertical, hierarchical) that carried this
            city's current adoption; None for its own initiative, a scheduled event (pioneers),
            a city without the policy, and governments."""
            if isinstance(agent, GovernmentAgent) or not agent.adopted:
                return None
            model = agent.model
            if carried["step"] != model.steps:
                _record_sources(model, carried)
            return carried["by_city"].get(agent.index)

        model_reporters = {
            "adopters": lambda m: sum(c.adopted for c in m.city_agents),
            "share_cities": lambda m: sum(c.adopted for c in m.city_agents) / len(m.city_agents),
            "share_population": lambda m: (
                sum(c.population for c in m.city_agents if c.adopted)
                / max(sum(c.population for c in m.city_agents), 1)
            ),
            "governments_adopted": lambda m: sum(g.adopted for g in m.government_agents),
        }
        agent_reporters = {
            "kind": lambda a: "government" if isinstance(a, GovernmentAgent) else "city",
            "name": "name",
            "adopted": "adopted",
            "channel": channel,
            "source": source,
        }
        return mesa.DataCollector(
            model_reporters=model_reporters, agent_reporters=agent_reporters if agents else None
        )

    @property
    def running(self) -> bool:
        """Mesa's flag: False once ``max_steps`` steps are done (``from_scenario`` sets it)."""
        limit = getattr(self, "max_steps", None)
        return self._running and (limit is None or self.steps < limit)

    @running.setter
    def running(self, value: bool) -> None:
        self._running = bool(value)


def _record_sources(model: DiffusionModel, carried: dict) -> None:
    """Bring ``carried["by_city"]`` (city index -> name of its adoption's source) up to date
    with the events recorded since the last call (the agent reporter ``source``)."""
    from diffusion_sim.mechanisms.embedded import CHANNELS

    trajectory = model.recorder.finish(model.steps)
    new = slice(carried["seen"], len(trajectory.city))
    cities, govs = model.setup.world.city_names, model.setup.gov_names
    by_city = carried["by_city"]
    for city, change, code, source in zip(
        trajectory.city[new].tolist(),
        trajectory.city_change[new].tolist(),
        trajectory.city_channel[new].tolist(),
        trajectory.city_source[new].tolist(),
        strict=True,
    ):
        if change == ADOPT and source >= 0:
            by_city[city] = str(cities[source] if CHANNELS[code] == "horizontal" else govs[source])
        else:  # own initiative, an event, or a drop
            by_city.pop(city, None)
    carried["seen"], carried["step"] = len(trajectory.city), model.steps
