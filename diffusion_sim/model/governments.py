"""Every government's state during a run, and the verbs that change it, written once.

The vectorized engine, the agents engine and the estimation's replay of a
scenario's timeline each hold one :class:`GovernmentStates` and change
governments only through its verbs (:meth:`~GovernmentStates.adopt`,
:meth:`~GovernmentStates.withdraw`, :meth:`~GovernmentStates.set_stance`),
which also record the change, so no caller can apply an adoption, a mandate,
a withdrawal or its lock differently. The arrays are allocated once and written
in place: the vectorized engine's compiled loops are bound to them.

The lock rule (docs/ODD.md, "Events"): a government that withdraws with a lock
cannot adopt through its own hazard (bottom-up pressure, harmonization) up to
and including step ``locked_until``; a scheduled ``government_adopts`` event
still adopts it (an explicit event is the user's word) and ends the lock.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from diffusion_sim.model.resolving import NO_LOCK
from diffusion_sim.model.setup import NO_MANDATE, Setup
from diffusion_sim.model.trajectory import GOV_ADOPT, GOV_STANCE, GOV_WITHDRAW, Recorder


class GovernmentState(NamedTuple):
    """Each government now: has the policy, has a mandate in force, stance code, preempts."""

    adopted: np.ndarray
    mandate: np.ndarray
    stance: np.ndarray
    preempts: np.ndarray


class GovernmentStates:
    """Stance, preemption, adoption, mandate and lock of every government; the verbs.

    Parameters
    ----------
    setup : Setup
        Starting stances and preemption, and which governments can mandate.
    recorder : Recorder, optional
        Where the verbs record each change (the estimation's replay records none).
    """

    def __init__(self, setup: Setup, recorder: Recorder | None = None) -> None:
        g = setup.n_governments
        self.can_mandate = setup.gov_can_mandate
        self.recorder = recorder
        self.stance = setup.gov_stance0.copy()
        self.preempts = setup.gov_preempts0.copy()
        self.adopted = np.zeros(g, dtype=bool)
        self.mandate = np.zeros(g, dtype=bool)
        self.mandate_step = np.full(g, NO_MANDATE, dtype=np.int64)
        self.locked_until = np.full(g, NO_LOCK, dtype=np.int64)
        self.changed: set[int] = set()
        """Governments whose stance, policy or mandate changed since a caller last cleared it."""

    def _record(self, step: int, gov: int, change: int, channel: str, value: int = 0) -> None:
        if self.recorder is not None:
            self.recorder.government(step, gov, change, channel, value)

    # ------------------------------------------------------------------ the verbs
    def adopt(self, step: int, gov: int, channel: str) -> None:
        """Government ``gov`` adopts at ``step`` (with a mandate where its level mandates)."""
        self.adopted[gov] = True
        self.mandate[gov] = self.can_mandate[gov]
        self.mandate_step[gov] = step if self.mandate[gov] else NO_MANDATE
        self.locked_until[gov] = NO_LOCK
        self.changed.add(gov)
        self._record(step, gov, GOV_ADOPT, channel, int(self.mandate[gov]))

    def withdraw(self, step: int, gov: int, locked_until: int = NO_LOCK) -> None:
        """Government ``gov`` drops the policy and any mandate (recorded if it had the policy),
        and may not adopt by its own hazard up to step ``locked_until``."""
        self.locked_until[gov] = max(self.locked_until[gov], locked_until)
        if not self.adopted[gov]:
            return
        self.adopted[gov] = False
        self.mandate[gov] = False
        self.mandate_step[gov] = NO_MANDATE
        self.changed.add(gov)
        self._record(step, gov, GOV_WITHDRAW, "event")

    def set_stance(self, step: int, gov: int, stance: int, preempts: bool) -> None:
        """Government ``gov`` takes ``stance`` (and preempts or not), recorded."""
        self.stance[gov] = stance
        self.preempts[gov] = preempts
        self.changed.add(gov)
        self._record(step, gov, GOV_STANCE, "event", stance)

    # ------------------------------------------------------------------ reading
    def open_to_adoption(self, step: int) -> np.ndarray:
        """Per government: may it adopt through its own hazard at ``step`` (no policy, no lock)."""
        return ~self.adopted & (self.locked_until < step)

    def in_force(self) -> np.ndarray:
        """Per government: a mandate in force (issued, and the policy still held)."""
        return self.mandate & self.adopted

    def snapshot(self) -> GovernmentState:
        """Copies of the state now (what an engine's ``government_state()`` answers)."""
        return GovernmentState(
            adopted=self.adopted.copy(),
            mandate=self.in_force(),
            stance=self.stance.copy(),
            preempts=self.preempts.copy(),
        )
