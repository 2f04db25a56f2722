"""The vectorized engine's kept context: each city's effects of the governments above it.

The voluntary factor, the top-down hazard, preemption and the start of the
earliest mandate change only when a government above a city changes, so they
are kept per city (:class:`~diffusion_sim.engines.vectorized.bundles.Context`) and
recomputed (``kernels.update_context``) for the cities under the governments
that changed. Cities under a mandate whose compliance clock is running are
watched: their hazard moves every step although no input changed.
"""

from __future__ import annotations

import numpy as np

from diffusion_sim.engines.vectorized import bundles, kernels
from diffusion_sim.engines.vectorized.state import RunState
from diffusion_sim.mechanisms import compiling
from diffusion_sim.mechanisms.compose import NO_MANDATE

FULL_REFRESH_SHARE = 0.25
"""Above this share of cities under governments that changed, recompute every
city's context and hazard in index order (cheaper than gathering a quarter)."""


class KeptContext:
    """Per-city context kept up to date as governments change; see the module docstring."""

    def __init__(self, run: RunState) -> None:
        self.run = run
        self.n = run.n
        self.context = bundles.make_context(run.n)
        self.all_govs_changed = True
        self.mandated = np.empty(0, dtype=np.int64)
        """Cities under a mandate whose hazard may still move (compliance clock running)."""
        self._mark = np.full(run.n, False)
        self._update_kernel = compiling.bind(
            kernels.update_context,
            self.mandated,
            run.cities,
            run.state,
            self.context,
            run.governments,
            run.params,
        )
        govs = run.gov_states
        self._governments_kernel = compiling.bind(
            kernels.governments_now,
            govs.stance,
            govs.adopted,
            govs.preempts,
            govs.mandate,
            govs.mandate_step,
            run.governments,
        )
        run.setup.gov_members  # noqa: B018 - built now, with the run's other tables, not mid-run

    def unique(self, parts: list[np.ndarray]) -> np.ndarray:
        """Sorted distinct city indices from several index arrays."""
        indices = np.concatenate(parts) if len(parts) > 1 else parts[0]
        if len(indices) < self.n // 256:
            return np.unique(indices)
        self._mark[indices] = True
        found = np.flatnonzero(self._mark)
        self._mark[found] = False
        return found

    def _governments_now(self) -> None:
        """What each government gives the cities under it now (kernels.governments_now)."""
        run, govs = self.run, self.run.gov_states
        self._governments_kernel(
            govs.stance,
            govs.adopted,
            govs.preempts,
            govs.mandate,
            govs.mandate_step,
            run.governments,
        )

    def update(self, cities: np.ndarray) -> None:
        """Recompute the context of ``cities`` (and mark stale those whose hazard may move)."""
        self._governments_now()
        run = self.run
        self._update_kernel(
            cities, run.cities, run.state, self.context, run.governments, run.params
        )

    def _cities_under_changed_governments(self) -> np.ndarray | slice:
        """Cities whose context must be recomputed (a slice for all of them)."""
        govs = sorted(self.run.gov_states.changed)
        if self.all_govs_changed:
            return slice(None)
        order, offsets = self.run.setup.gov_members
        affected = int(sum(offsets[k + 1] - offsets[k] for k in govs))
        if affected > FULL_REFRESH_SHARE * self.n:
            return slice(None)
        parts = [order[offsets[k] : offsets[k + 1]] for k in govs]
        return self.unique(parts) if len(parts) else np.empty(0, dtype=np.int64)

    def bring_up_to_date(self, t: int, all_cities: np.ndarray) -> None:
        """Update the context under every government that changed since the last step."""
        run = self.run
        if not (run.gov_states.changed or self.all_govs_changed):
            return
        cities = self._cities_under_changed_governments()
        run.gov_states.changed.clear()
        self.all_govs_changed = False
        start = self.context.mandate_start
        if isinstance(cities, slice):
            self.update(all_cities)
            run.refresh_all = True
            self.mandated = np.flatnonzero(start != NO_MANDATE)
        else:
            self.update(cities)
            starts = start[cities]
            adopted, blocked = run.state.adopted[cities], self.context.blocked[cities]
            unsettled = (starts >= t - 1) | (~adopted & ~blocked)
            under = cities[(starts != NO_MANDATE) & unsettled]
            self.mandated = self.unique([self.mandated, under])

    def mandates_due(self, t: int) -> np.ndarray:
        """Cities under a mandate whose hazard moves at step t: the compliance clock ticks.

        Once in force, an adopter's or a blocked city's hazard no longer moves: they
        leave the watched set.
        """
        if not len(self.mandated):
            return self.mandated
        due, keep = np.empty_like(self.mandated), np.empty_like(self.mandated)
        n_due, n_keep = kernels.mandates_due(
            self.mandated,
            t,
            self.context.mandate_start,
            self.run.state.adopted,
            self.context.blocked,
            due,
            keep,
        )
        self.mandated = keep[:n_keep]
        return due[:n_due]
