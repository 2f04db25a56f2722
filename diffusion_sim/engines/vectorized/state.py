"""The vectorized engine's state: cities' and governments' state and what follows a change.

A city that adopts or drops moves its neighbours' horizontal pressure (one pass
over its own ties) and the tallies of the governments above it; a network event
rebuilds the tie weights and recomputes every pressure once. The arrays live in
the named bundles of :mod:`diffusion_sim.engines.vectorized.bundles`, written in place.
"""

from __future__ import annotations

import numpy as np

from diffusion_sim.engines.vectorized import bundles, kernels
from diffusion_sim.mechanisms import compiling
from diffusion_sim.model.events import Boost
from diffusion_sim.model.governments import GovernmentStates
from diffusion_sim.model.setup import Setup
from diffusion_sim.model.ties import Influence
from diffusion_sim.model.trajectory import Recorder
from diffusion_sim.scenario import Scenario


class RunState:
    """Cities' and governments' state during a run; see the module docstring."""

    def __init__(self, setup: Setup, recorder: Recorder) -> None:
        self.setup = setup
        self.mech = setup.scenario.mechanisms
        """The mechanisms in force: the scenario's, with the ``set`` events so far."""
        n, g = setup.n_cities, setup.n_governments
        self.n = n
        self.cities = bundles.make_cities(setup)
        self.state = bundles.make_state(n)
        self.governments = bundles.make_governments(g)
        self.params = bundles.make_params(setup)
        self.gov_states = GovernmentStates(setup, recorder)
        """Every government's state; ``gov_states.changed``: since the context was updated."""
        self.boost = Boost()
        self.refresh_all = True
        """Recompute every city's hazard at the next update (a network or the boost changed)."""
        no_cities = np.empty(0, dtype=np.int64)
        self._tally_kernel = compiling.bind(
            kernels.tally_governments, no_cities, 1.0, self.cities, self.state, self.governments
        )
        self.network_sizes = setup.initial_network_sizes()
        self.influence: Influence
        self.networks_changed()

    def boost_at(self, t: int) -> float:
        """Multiplier on horizontal influence at step t (:meth:`Boost.at`)."""
        return self.boost.at(t)

    def parameters_changed(self, scenario: Scenario) -> None:
        """Read ``scenario``'s mechanisms from now on (a ``set`` event), every hazard refreshed.

        The kernels' parameters are rebuilt, innovation's own hazard of every city
        recomputed, and every city's context and hazard recomputed at the next
        update: a set event is rare, so it pays for one full refresh.
        """
        self.mech = scenario.mechanisms
        self.params = bundles.make_params(self.setup, scenario.mechanisms)
        bundles.fill_innovation(self.setup, self.mech, self.cities.innovation)
        self.refresh_all = True

    def networks_changed(self) -> None:
        """Rebuild tie weights, membership flags and tallies after a network event."""
        setup, state = self.setup, self.state
        self.influence = setup.influence(self.network_sizes)
        monitored, lobbying = setup.network_flags(self.network_sizes)
        np.copyto(state.total, self.influence.total)
        np.copyto(state.monitored, monitored)
        np.copyto(state.lobbying, lobbying)
        self.full_pressure(out=state.pressure)
        self.governments.population_adopted.fill(0.0)
        self.governments.lobbying_adopted.fill(0.0)
        self.tally(np.flatnonzero(state.adopted), +1)
        self.refresh_all = True

    def full_pressure(self, out: np.ndarray | None = None) -> np.ndarray:
        """Every city's horizontal pressure from scratch: the one pass over every tie.

        Integer-valued weights summed exactly, whatever the order, so it equals
        the incremental updates of :meth:`cities_change`.
        """
        out = np.empty(self.n) if out is None else out
        adopted = self.state.adopted
        if not adopted.any():
            out[:] = 0.0
            return out
        by_target = self.influence.by_target
        mask = adopted.view(np.uint8)
        kernels.gather_pressure(by_target.indptr, by_target.indices, by_target.data, mask, out)
        return out

    def cities_change(self, cities: np.ndarray, sign: int) -> None:
        """Add (sign +1) or remove (-1) cities' influence and government tallies.

        The cities themselves and (if pressure moves hazards) the cities whose
        pressure moved are marked stale. Tallies feed only the vertical mechanism.
        """
        if not len(cities):
            return
        by_source, state = self.influence.by_source, self.state
        kernels.spread_influence(
            by_source.indptr,
            by_source.indices,
            by_source.data,
            cities,
            float(sign),
            state.pressure,
            self.mech.horizontal.enabled,
            state.adopted,
            state.stale,
        )
        state.stale[cities] = True
        self.tally(cities, sign)

    def tally(self, cities: np.ndarray, sign: int) -> None:
        """Add (or remove) cities' population and lobbying voice to the governments above.

        Only the vertical mechanism reads these tallies, so without it they stay at 0.
        """
        if self.mech.vertical.enabled and len(cities):
            self._tally_kernel(cities, float(sign), self.cities, self.state, self.governments)

    # ------------------------------------------------------------- the verbs' state
    def adopt(self, cities: np.ndarray) -> np.ndarray:
        """The cities among ``cities`` not yet adopters adopt; returns them."""
        cities = np.asarray(cities, dtype=np.int64)
        fresh = cities[~self.state.adopted[cities]]
        self.state.adopted[fresh] = True
        self.cities_change(fresh, +1)
        return fresh
