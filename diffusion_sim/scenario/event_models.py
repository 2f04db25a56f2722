"""The scenario's events: what can happen at a step, to whom (a government or a group).

An event that acts on governments names one (``government``) or a group: every
government of a ``level``, those whose cities all lie in the ``bloc`` or in the
listed ``countries`` (combined, they narrow: ``level = "nation"`` with
``bloc = "European Union"`` is the bloc's nations). A ``pioneers`` event can
pick its cities within a network, a size class or a rung of Kern's ladder. A
``set`` event changes one parameter from its step on; only the parameters the
engines read at every step (:data:`SETTABLE`) can change. Names are resolved
against the world when a run is set up (``diffusion_sim.model.setup``), with a
did-you-mean; everything else is checked here.
"""

from __future__ import annotations

import difflib
from typing import Literal

from pydantic import Field, field_validator, model_validator

from diffusion_sim.scenario.keys import bounds, field_at
from diffusion_sim.scenario.sections import MAX_CITIES, MAX_STEPS, Mechanisms
from diffusion_sim.scenario.types import AT, LEVELS, Label, Section, Stance

SIZE_CLASS_NAMES = ("small", "medium", "large", "mega")
"""Size classes of cities (``diffusion_sim.world.SIZE_CLASSES``; a test keeps them equal)."""
RUNG_NAMES = ("leader", "follower", "laggard")
"""Rungs of Kern's ladder (``diffusion_sim.world.LADDER_NAMES``; a test keeps them equal)."""

SETTABLE = (
    "mechanisms.innovation.rate",
    "mechanisms.vertical.top_down_rate",
    "mechanisms.vertical.bottom_up_rate",
    "mechanisms.vertical.lobbying_weight",
    "mechanisms.hierarchical.government_rate",
    "mechanisms.hierarchical.compliance_steps",
    "mechanisms.hierarchical.preemption_enforcement",
    "mechanisms.abandonment.rate",
    "mechanisms.abandonment.monitoring_reduction",
)
"""The parameters a ``set`` event may change: the numbers both engines read at every
step. The others are read once, when a run is set up (tie weights, thresholds,
defiance, deterrence and response tables) or are switches, so they cannot change
mid-run."""


class _Event(Section):
    step: int = Field(
        ge=1, le=MAX_STEPS, description="step at which it happens (before that step's draws)"
    )


class _GovernmentEvent(_Event):
    government: Label | None = Field(None, description="name of one government")
    level: Literal["region", "nation", "bloc", "global"] | None = Field(
        None, description="or: every government of this level (with bloc or countries: theirs)"
    )
    bloc: Label | None = Field(
        None, description="or: the governments whose cities all lie in this bloc (its name)"
    )
    countries: tuple[Label, ...] | None = Field(
        None,
        strict=False,
        min_length=1,
        max_length=1000,
        description="or: the governments whose cities all lie in these countries "
        "(each nation and its regions)",
    )

    @model_validator(mode="after")
    def _one_target(self) -> _GovernmentEvent:
        group = [k for k in ("level", "bloc", "countries") if getattr(self, k) is not None]
        if self.government is not None and group:
            raise ValueError(
                f"government{AT}give either one government or a group ({', '.join(group)}), "
                "not both"
            )
        if self.government is None and not group:
            raise ValueError(
                f'government{AT}target missing: a {self.kind} event needs government = "<name>", '
                'or a group: level = "nation", bloc = "<name>", countries = ["<name>", ...] '
                "(a level with a bloc or countries: that level's governments there)"
            )
        return self


class StanceEvent(_GovernmentEvent):
    """Governments change stance (e.g. a nation turns hostile and preempts)."""

    kind: Literal["stance"]
    stance: Stance = Field(description="the new stance")
    preempts: bool = Field(False, description="forbids the policy while hostile")


class GovernmentAdoptsEvent(_GovernmentEvent):
    """Governments adopt the policy (with a mandate where their level mandates)."""

    kind: Literal["government_adopts"]


class GovernmentWithdrawsEvent(_GovernmentEvent):
    """Governments drop the policy and their mandates (e.g. the 2017 US withdrawal),
    and with lock_steps or until stay out: no adoption through their own hazard meanwhile."""

    kind: Literal["government_withdraws"]
    lock_steps: int | None = Field(
        None,
        ge=1,
        le=MAX_STEPS,
        description="stay out this many steps, the withdrawal's included (none: may re-adopt "
        "at once); a government_adopts event still adopts",
    )
    until: int | None = Field(
        None, ge=1, le=MAX_STEPS, description="or: stay out up to and including this step"
    )

    @model_validator(mode="after")
    def _one_lock(self) -> GovernmentWithdrawsEvent:
        if self.lock_steps is not None and self.until is not None:
            raise ValueError(f"until{AT}give either lock_steps or until, not both")
        if self.until is not None and self.until < self.step:
            raise ValueError(
                f"until{AT}step {self.until} comes before the withdrawal (step {self.step})"
            )
        return self


class NetworkFoundedEvent(_Event):
    """A network starts: its ties and memberships count from this step."""

    kind: Literal["network_founded"]
    network: Label = Field(description="name of a network in [networks]; its ties start now")


class NetworkOpensEvent(_Event):
    """A network opens its membership to more cities."""

    kind: Literal["network_opens"]
    network: Label = Field(description="name of a network in [networks]")
    size: int = Field(ge=1, le=MAX_CITIES, description="members after opening")


class SummitEvent(_Event):
    """A summit multiplies horizontal influence for a while (e.g. COP mayors' summits)."""

    kind: Literal["summit"]
    boost: float = Field(ge=1, le=100, description="multiplier on horizontal influence")
    duration: int = Field(1, ge=1, le=MAX_STEPS, description="steps the boost lasts")


class PioneersEvent(_Event):
    """Named cities, or the most ready ones, of all cities or of a group, adopt at this step."""

    kind: Literal["pioneers"]
    cities: tuple[Label, ...] = Field(
        default=(), strict=False, max_length=100_000, description="names of cities that adopt"
    )
    count: int = Field(
        0,
        ge=0,
        le=MAX_CITIES,
        description="or: this many non-adopters with the highest readiness adopt (of the "
        "group if one is given; 0 with a group: every city of it)",
    )
    network: Label | None = Field(
        None, description="group: the members of this network at the event's step"
    )
    size_class: Literal["small", "medium", "large", "mega"] | None = Field(
        None, description="group: cities of this size class (outcomes' share_<class>)"
    )
    rung: Literal["leader", "follower", "laggard"] | None = Field(
        None, description="group: cities on this rung of Kern's ladder"
    )


class SetEvent(_Event):
    """A parameter takes a new value from this step on (e.g. top-down support cut to 0)."""

    kind: Literal["set"]
    key: str = Field(
        description="dotted key of a parameter the engines read every step: " + ", ".join(SETTABLE)
    )
    value: float = Field(description="its new value, within the key's own range")

    @field_validator("key")
    @classmethod
    def _settable(cls, key: str) -> str:
        if key in SETTABLE:
            return key
        close = difflib.get_close_matches(key, SETTABLE, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        known = field_at(Mechanisms, key.removeprefix("mechanisms.")) is not None
        why = (
            "is read once, when a run is set up (or is a switch), so it cannot change mid-run"
            if known and key.startswith("mechanisms.")
            else "is not a parameter a set event can change"
        )
        raise ValueError(f"{key!r} {why}; {hint}allowed: {', '.join(SETTABLE)}")

    @model_validator(mode="after")
    def _value_in_range(self) -> SetEvent:
        field = field_at(Mechanisms, self.key.removeprefix("mechanisms."))
        symbols = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}
        tests = {
            "ge": lambda v, b: v >= b,
            "gt": lambda v, b: v > b,
            "le": lambda v, b: v <= b,
            "lt": lambda v, b: v < b,
        }
        limits = bounds(field)
        if not all(tests[a](self.value, b) for a, b in limits.items()):
            allowed = ", ".join(f"{symbols[a]} {b}" for a, b in limits.items())
            raise ValueError(f"value{AT}{self.key} must be {allowed}; got {self.value}")
        if field.annotation is int and self.value != int(self.value):
            raise ValueError(f"value{AT}{self.key} is a whole number of steps; got {self.value}")
        return self


EVENT_MODELS = (
    StanceEvent,
    GovernmentAdoptsEvent,
    GovernmentWithdrawsEvent,
    NetworkFoundedEvent,
    NetworkOpensEvent,
    SummitEvent,
    PioneersEvent,
    SetEvent,
)

GOVERNMENT_EVENTS = ("stance", "government_adopts", "government_withdraws")
"""The event kinds aimed at governments (one, or a group)."""

assert LEVELS == ("region", "nation", "bloc", "global")  # the level Literal above
