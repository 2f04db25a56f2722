"""The scenario document: governments, events, the run, and :class:`Scenario` itself."""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from diffusion_sim.errors import InputError
from diffusion_sim.scenario.event_models import (
    GovernmentAdoptsEvent,
    GovernmentWithdrawsEvent,
    NetworkFoundedEvent,
    NetworkOpensEvent,
    PioneersEvent,
    SetEvent,
    StanceEvent,
    SummitEvent,
)
from diffusion_sim.scenario.further import Mechanisms
from diffusion_sim.scenario.keys import allowed_keys, set_dotted
from diffusion_sim.scenario.messages import all_attributed, format_validation_errors
from diffusion_sim.scenario.sections import (
    MAX_STEPS,
    NetworkSpec,
    Pioneers,
    WorldSpec,
)
from diffusion_sim.scenario.types import AT, FolderName, Label, NetworkName, Section, Stance, Text

# ---------------------------------------------------------------- governments


class GovernmentOverride(Section):
    """Starting state of one named government."""

    stance: Stance | None = Field(None, description="stance at step 0")
    adopted: bool = Field(False, description="has the policy at step 0")
    preempts: bool = Field(
        False, description="forbids the policy to the municipalities below while hostile"
    )


class Governments(Section):
    """Levels of government present and their starting stances."""

    levels: tuple[Literal["region", "nation", "bloc", "global"], ...] = Field(
        ("region", "nation", "bloc"), strict=False, description="levels of government present"
    )
    region: Stance = Field("neutral", description="default stance of regions")
    nation: Stance = Field("neutral", description="default stance of nations")
    bloc: Stance = Field("supportive", description="default stance of the bloc")
    global_: Stance = Field(
        "neutral", alias="global", description="default stance of the global level"
    )
    overrides: dict[Label, GovernmentOverride] = Field(
        default_factory=dict,
        max_length=100_000,
        description="per-government starting state, by name",
    )

    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, allow_inf_nan=False, populate_by_name=True
    )

    def default_stance(self, level: str) -> str:
        return self.global_ if level == "global" else getattr(self, level)


# --------------------------------------------------------------------- events

Event = Annotated[
    StanceEvent
    | GovernmentAdoptsEvent
    | GovernmentWithdrawsEvent
    | NetworkFoundedEvent
    | NetworkOpensEvent
    | SummitEvent
    | PioneersEvent
    | SetEvent,
    Field(discriminator="kind"),
]


# ------------------------------------------------------------------- run/policy


class Policy(Section):
    name: Label = Field("A local climate policy", description="what spreads")
    description: Text = Field("", description="a sentence on the policy")


class Run(Section):
    steps: int = Field(100, ge=1, le=MAX_STEPS, description="steps to simulate")
    step_unit: Label = Field("month", description="what one step means in time")
    seed: int = Field(
        0, ge=0, le=2**63 - 1, description="seed of the run (and of the world unless world.seed)"
    )
    replicates: int = Field(1, ge=1, le=100_000, description="replicates (seeds spawned from seed)")
    start: str | None = Field(
        None,
        description='date of step 0, "YYYY-MM-DD" or "YYYY-MM" (charts then show dates; '
        "needs a calendar step_unit: day, week, month, quarter or year)",
    )

    CALENDAR_UNITS: ClassVar[tuple[str, ...]] = ("day", "week", "month", "quarter", "year")

    @field_validator("start", mode="before")
    @classmethod
    def _start_is_a_date(cls, value: Any) -> Any:
        """A real calendar date, so every chart's axis can count from it.

        A TOML date (``start = 2005-02-16``, or ``--set run.start=2005-02-16``)
        is taken as its ISO text; anything else must be an ISO string.
        """
        if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
            return value.isoformat()
        if value is None:
            return None
        rule = 'must be a date written "YYYY-MM-DD" or "YYYY-MM", e.g. "2005-02-16" or "2005-02"'
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", value):
            raise ValueError(rule)
        try:
            datetime.date.fromisoformat(value if len(value) == 10 else value + "-01")
        except ValueError:
            raise ValueError(f"{rule}; no such day or month in the calendar") from None
        return value

    @model_validator(mode="after")
    def _start_needs_a_calendar_unit(self) -> Run:
        """Dates count steps in days, weeks, months, quarters or years, nothing else."""
        if self.start is not None and self.step_unit.rstrip("s") not in self.CALENDAR_UNITS:
            raise ValueError(
                f"start{AT}a start date needs run.step_unit to be one of "
                f"{', '.join(self.CALENDAR_UNITS)}; step_unit is {self.step_unit!r}"
            )
        return self


class Scenario(Section):
    """A whole scenario: frozen; change it with :meth:`with_overrides`."""

    name: FolderName = Field(
        "scenario", description="short name used for result folders (letters, digits, . _ -)"
    )
    policy: Policy = Policy()
    world: WorldSpec = WorldSpec()
    networks: dict[NetworkName, NetworkSpec] = Field(default_factory=dict, max_length=1000)
    pioneers: Pioneers = Pioneers()
    mechanisms: Mechanisms = Mechanisms()
    governments: Governments = Governments()
    events: tuple[Event, ...] = Field((), strict=False, max_length=100_000)
    run: Run = Run()
    source: str | None = Field(None, exclude=True, description="file it was read from")

    @model_validator(mode="after")
    def _everything_happens(self, info: ValidationInfo) -> Scenario:
        """A file's events and network foundings must fall within its own run.

        Checked for whole files only (``context={"file": True}``): shortening a
        run with ``--steps`` or an override deliberately cuts its timeline.
        """
        if not (info.context or {}).get("file"):
            return self
        last = self.run.steps
        for i, event in enumerate(self.events):
            if event.step > last:
                raise ValueError(
                    f"events.{i}.step{AT}a {event.kind} event at step {event.step} comes after "
                    f"the last step {last} (run.steps): it would never happen"
                )
        for name, network in self.networks.items():
            if network.founded_step > last:
                raise ValueError(
                    f"networks.{name}.founded_step{AT}step {network.founded_step} comes after "
                    f"the last step {last} (run.steps): the network would never exist"
                )
        return self

    def to_dict(self) -> dict[str, Any]:
        """The resolved scenario as plain data (what a manifest records)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    def with_overrides(
        self, overrides: Mapping[str, Any], *, origins: Mapping[str, str] | None = None
    ) -> Scenario:
        """A new scenario with dotted keys replaced, validated like a file.

        A network is named in the file, so a key under ``networks.<name>`` for a
        name the scenario lacks is refused with a did-you-mean (a typo would
        otherwise create a network); give the whole table to add one.
        ``origins`` maps a key to how the user wrote it (``--set k=v``), which
        errors then name instead of the file.

        Examples
        --------
        >>> s = Scenario().with_overrides({"mechanisms.horizontal.rule": "contagion"})
        >>> s.mechanisms.horizontal.rule
        'contagion'
        """
        data = self.model_dump(mode="json", by_alias=True, exclude_none=True)
        for key, value in overrides.items():
            origin = (origins or {}).get(key)
            try:
                set_dotted(data, key, value, declared=("networks",))
            except InputError as exc:
                raise InputError(str(exc), source=origin or self.source) from None
        # Adding events or foundings must keep them within the run (as in a file);
        # shortening the run alone (--steps) deliberately cuts the timeline.
        timeline = any(k.split(".")[0] == "events" or k.endswith("founded_step") for k in overrides)
        return parse_scenario(
            data, source=self.source, name=self.name, origins=origins, whole_file=timeline
        )

    def with_mechanisms(self, *enabled: str) -> Scenario:
        """The same scenario with only the named upscaling mechanisms switched on."""
        from diffusion_sim.mechanisms.registry import MECHANISM_NAMES as known
        from diffusion_sim.mechanisms.registry import SWITCHED

        unknown = set(enabled) - set(known)
        if unknown:
            raise InputError(f"unknown mechanism(s) {sorted(unknown)}; allowed: {known}")
        return self.with_overrides({f"mechanisms.{m}.enabled": m in enabled for m in SWITCHED})


def parse_scenario(
    data: Mapping[str, Any],
    *,
    source: str | None = None,
    name: str | None = None,
    text: str | None = None,
    origins: Mapping[str, str] | None = None,
    whole_file: bool = False,
    elsewhere: str | None = None,
    show_values: bool = True,
) -> Scenario:
    """Validate plain data (as read from TOML) into a :class:`Scenario`.

    ``whole_file`` also checks that the file's events fall within its run;
    ``origins``, ``elsewhere`` and ``show_values`` shape messages (see
    :func:`format_validation_errors`).
    """
    payload = dict(data)
    payload.setdefault("name", name or "scenario")
    payload["source"] = source
    try:
        return Scenario.model_validate(payload, context={"file": whole_file})
    except ValidationError as exc:
        ours = all_attributed(exc, origins)  # only the overrides are wrong, not the file
        message = format_validation_errors(
            exc,
            text,
            header="invalid override:" if ours else "invalid scenario:",
            allowed_at=lambda loc: allowed_keys(Scenario, loc),
            origins=origins,
            elsewhere=elsewhere,
            show_values=show_values,
        )
        if ours and message.count("\n") == 1:
            message = message.split("\n", 1)[1].strip()
        raise InputError(message, source=None if ours else source) from None
