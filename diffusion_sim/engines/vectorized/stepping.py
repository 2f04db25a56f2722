"""The vectorized engine's step: a few vector operations and compiled loops over what changed.

Each step (docs/ODD.md, "Process overview and scheduling"):

1. apply the step's scheduled events (:mod:`diffusion_sim.model.events`);
2. draw one uniform per city, then one per government (the only draws);
3. from the state at the start of the step, decide who changes state;
4. apply all changes at once, and add the changed cities' ties to their
   neighbours' horizontal pressure (a run touches each tie about once, not once
   per step).

Why a step at a million cities costs little more than drawing its uniforms
(docs/performance.md): a city's hazard only changes when something it depends on
changes, so the engine keeps every city's combined hazard (of adopting, for a
non-adopter; of dropping, for an adopter) and recomputes it only for the cities
whose inputs changed: those that changed state, those whose pressure changed,
those under a government that changed, and those under a mandate whose
compliance clock is running. The decision itself is one comparison ``u < h``
over all cities; which channel fired is worked out only for the cities that
change. Both are compiled loops (:mod:`diffusion_sim.engines.vectorized.kernels`) over the
mechanisms' scalar rules, so the result is identical to evaluating every city
every step with numpy (:func:`diffusion_sim.engines.vectorized.full_hazard`;
tests/test_performance_paths.py) and to the agents engine (tests/test_engines.py).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from diffusion_sim.engines.interface import GovernmentState, run_steps
from diffusion_sim.engines.vectorized import kernels
from diffusion_sim.engines.vectorized.context import KeptContext
from diffusion_sim.engines.vectorized.reference import full_hazard
from diffusion_sim.engines.vectorized.state import RunState
from diffusion_sim.mechanisms import compiling, horizontal
from diffusion_sim.mechanisms.registry import (
    ADOPTION_CODES,
    EXIT_CODES,
    GOVERNMENT_DECISIONS,
    INNOVATION,
)
from diffusion_sim.model import events, provenance
from diffusion_sim.model.events import Boost
from diffusion_sim.model.setup import ResolvedEvent, Setup
from diffusion_sim.model.trajectory import ADOPT, DROP, EVENT_SOURCE, Recorder, Trajectory
from diffusion_sim.scenario import Scenario

NO_ESCAPE = np.empty(0)
"""Contagion's escape probabilities when the rule is not contagion (never read)."""
NO_U, NO_CHANNEL, NO_WITHIN = np.empty(0), np.empty(0, dtype=np.int8), np.empty(0)
"""kernels.city_hazards without uniforms: refresh the kept hazards, choose no channel."""


class VectorizedEngine:
    """Runs a :class:`Setup` with numpy and kernels.py's loops; see the module docstring.

    State lives in :class:`~diffusion_sim.engines.vectorized.state.RunState` (``self.run``),
    the governments' effects in :class:`~diffusion_sim.engines.vectorized.context.KeptContext`
    (``self.kept``); this class steps them. It implements the engine interface
    (:class:`~diffusion_sim.engines.interface.Engine`) and the event verbs
    (:class:`diffusion_sim.model.events.EngineVerbs`).
    """

    def __init__(self, setup: Setup, rng: np.random.Generator) -> None:
        self.setup = setup
        self.rng = rng
        self.mech = setup.scenario.mechanisms
        self._scenario = setup.scenario
        self.recorder = Recorder()
        self.steps = 0
        self.run_state = RunState(setup, self.recorder)
        self.gov_states = self.run_state.gov_states
        self.kept = KeptContext(self.run_state)
        n = setup.n_cities
        self.n = n
        self._u = np.full(n, 0.0)
        self._below = np.full(n, False)
        self._channel = np.full(n, 0, dtype=np.int8)
        self._within = np.full(n, 0.0)
        self._adoption_sources: Callable | None = None
        self._all_cities = np.arange(n, dtype=np.int64)
        self._boost_in_hazard = 1.0
        self._adoption_codes = np.array(ADOPTION_CODES, dtype=np.int8)
        self._exit_codes = np.array(EXIT_CODES, dtype=np.int8)
        run, kept = self.run_state, self.kept
        self._city_hazards = compiling.bind(
            kernels.city_hazards,
            self._all_cities,
            0,
            1.0,
            NO_ESCAPE,
            self._u,
            run.cities,
            run.state,
            kept.context,
            run.params,
            self._channel,
            self._within,
        )
        g = setup.n_governments
        self._gov_channel = np.full(g, -1, dtype=np.int8)
        self._gov_population = np.ascontiguousarray(setup.gov_population[:g])
        self._gov_cities = np.ascontiguousarray(setup.gov_cities[:g])
        self._response = np.ascontiguousarray(setup.response, dtype=np.float64)
        self._choose_governments = compiling.bind(
            kernels.choose_governments,
            np.zeros(g),
            run.gov_states.stance,
            self._gov_population,
            self._gov_cities,
            self._response,
            run.governments,
            run.params,
            self._gov_channel,
        )
        events.start(self, setup)

    # --------------------------------------------------------- state access
    @property
    def adopted(self) -> np.ndarray:
        """Per city: has the policy now (the engine's own array: read, do not write)."""
        return self.run_state.state.adopted

    @property
    def hazard(self) -> np.ndarray:
        """Per city: the kept combined hazard of its possible change."""
        return self.run_state.state.hazard

    @property
    def pressure(self) -> np.ndarray:
        return self.run_state.state.pressure

    @property
    def influence(self):
        return self.run_state.influence

    @property
    def _refresh_all(self) -> bool:
        return self.run_state.refresh_all

    @_refresh_all.setter
    def _refresh_all(self, value: bool) -> None:
        self.run_state.refresh_all = value

    def city_adopted(self) -> np.ndarray:
        """Per city: has the policy now (a copy)."""
        return self.adopted.copy()

    def government_state(self) -> GovernmentState:
        """Each government's adoption, mandate in force, stance and preemption now (copies)."""
        return self.gov_states.snapshot()

    def full_pressure(self, out: np.ndarray | None = None) -> np.ndarray:
        """Every city's horizontal pressure from scratch (the one pass over every tie)."""
        return self.run_state.full_pressure(out)

    def full_hazard(self, t: int) -> np.ndarray:
        """Every city's combined hazard at step t from scratch, with numpy (the reference)."""
        return full_hazard(self, t)

    # ---------------------------------------------------------------- verbs
    def adopt_cities(self, step: int, cities: np.ndarray) -> None:
        fresh = self.run_state.adopt(cities)
        self.recorder.cities(
            step, fresh, ADOPT, np.full(len(fresh), ADOPTION_CODES[INNOVATION]), EVENT_SOURCE
        )

    def resize_network(self, network: int, size: int) -> None:
        self.run_state.network_sizes[network] = size
        self.run_state.networks_changed()

    @property
    def boost(self) -> Boost:
        return self.run_state.boost

    @boost.setter
    def boost(self, value: Boost) -> None:
        self.run_state.boost = value

    @property
    def scenario(self) -> Scenario:
        """The scenario in force: the setup's, with the ``set`` events so far."""
        return self._scenario

    def set_parameter(self, event: ResolvedEvent, scenario: Scenario) -> None:
        self._scenario = scenario
        self.mech = scenario.mechanisms
        self.run_state.parameters_changed(scenario)
        self.kept.all_govs_changed = True  # the top-down hazard kept per city reads a rate

    # -------------------------------------------------------------- hazards
    def _escaped(self, cities: np.ndarray) -> np.ndarray:
        """Contagion's escape probabilities of ``cities`` (numpy's exp), under contagion only."""
        if self.run_state.params.horizontal_rule != kernels.CONTAGION_RULE:
            return NO_ESCAPE
        return horizontal.escape_probability(self.pressure[cities])

    def _bring_hazards_up_to_date(self, t: int) -> None:
        """Recompute the hazard of every city whose inputs changed since the last step."""
        run = self.run_state
        boost = run.boost_at(t)
        if boost != self._boost_in_hazard or run.params.novelty:
            self._boost_in_hazard = boost  # novelty: every voluntary hazard moves every step
            run.refresh_all = True
        self.kept.bring_up_to_date(t, self._all_cities)
        state = run.state
        state.stale[self.kept.mandates_due(t)] = True
        cities = self._all_cities if run.refresh_all else np.flatnonzero(state.stale)
        state.stale.fill(False)
        run.refresh_all = False
        escaped = self._escaped(cities)
        self._city_hazards(
            cities,
            t,
            boost,
            escaped,
            NO_U,
            run.cities,
            state,
            self.kept.context,
            run.params,
            NO_CHANNEL,
            NO_WITHIN,
        )

    # ----------------------------------------------------------------- step
    def step(self, t: int | None = None) -> None:
        """Advance one step (to step ``t``, which must be the next one, if given)."""
        t = self.steps + 1 if t is None else t
        events.apply_events(self, self.setup, t)
        u_city = self.rng.random(self.n, out=self._u)
        u_gov = self.rng.random(self.setup.n_governments)
        self._bring_hazards_up_to_date(t)

        # A city changes state iff u < its combined hazard (docs/ODD.md); the
        # channel is then chosen among its hazards, for the changing cities only.
        run, state = self.run_state, self.run_state.state
        changing = np.flatnonzero(np.less(u_city, state.hazard, out=self._below))
        channel = self._channel[: len(changing)]
        within = self._within[: len(changing)]
        if len(changing):
            self._city_hazards(
                changing,
                t,
                run.boost_at(t),
                self._escaped(changing),
                u_city[changing],
                run.cities,
                state,
                self.kept.context,
                run.params,
                channel,
                within,
            )
        leaving = state.adopted[changing]
        adopting, dropping = changing[~leaving], changing[leaving]
        adopt_channel = channel[~leaving]
        sources, rest = self._sources(adopting, adopt_channel, within[~leaving])
        adopt_code = self._adoption_codes[adopt_channel]
        exit_code = self._exit_codes[channel[leaving]]

        gov_adopting = self._government_choices(u_gov, t)

        # Apply everything at once.
        state.adopted[adopting] = True
        state.adopted[dropping] = False
        run.cities_change(adopting, +1)
        run.cities_change(dropping, -1)
        self.recorder.cities(t, adopting, ADOPT, adopt_code, sources, rest)
        self.recorder.cities(t, dropping, DROP, exit_code)
        for gov, gov_channel in gov_adopting:
            self.gov_states.adopt(t, gov, gov_channel)
        self.steps = t

    def _sources(
        self, adopting: np.ndarray, channel: np.ndarray, within: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """What carried each adoption, from the state at the start of the step (provenance.py)."""
        sources = np.empty(len(adopting), dtype=np.int64)
        rest = np.empty(len(adopting))
        if not len(adopting):
            return sources, rest
        by_target = self.influence.by_target
        args = (
            adopting,
            channel,
            within,
            (by_target.indptr, by_target.indices, by_target.data),
            self.adopted,
            self.setup.city_gov,
            self.run_state.governments.support,
            self.run_state.governments.mandate_step,
            self.kept.context.mandate_start,
            sources,
            rest,
        )
        if self._adoption_sources is None:
            self._adoption_sources = compiling.bind(provenance.adoption_sources, *args)
        self._adoption_sources(*args)
        return sources, rest

    def _government_choices(self, u_gov: np.ndarray, t: int) -> list[tuple[int, str]]:
        """Governments that adopt this step, with their channel (bottom-up or harmonization).

        With both mechanisms off no government adopts but by an event (the uniforms
        are drawn all the same, so the random numbers stay common to every scenario).
        """
        setup, mech, run = self.setup, self.mech, self.run_state
        g = setup.n_governments
        if g == 0 or not (mech.vertical.enabled or mech.hierarchical.enabled):
            return []
        channel = self._gov_channel
        self._choose_governments(
            u_gov,
            run.gov_states.stance,
            self._gov_population,
            self._gov_cities,
            self._response,
            run.governments,
            run.params,
            channel,
        )
        chosen = np.flatnonzero(run.gov_states.open_to_adoption(t) & (channel >= 0))
        return [(int(k), GOVERNMENT_DECISIONS[channel[k]]) for k in chosen]

    def run(self, steps: int, progress: Callable[[int], None] | None = None) -> Trajectory:
        """Run ``steps`` steps and return the change events."""
        return run_steps(self, steps, progress)
