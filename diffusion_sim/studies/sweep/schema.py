"""The sweep file's schema: what varies, the design, the questions, and a checked sweep.

Frozen pydantic models, strict like scenario files; :mod:`diffusion_sim.studies.sweep.spec`
reads files into them and checks them against the base scenario.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from diffusion_sim.record.outcomes import Window, kind_of, outcome_names
from diffusion_sim.record.tables import timeseries_columns
from diffusion_sim.scenario import (
    MAX_STEPS,
    FolderName,
    Label,
    Scenario,
    Text,
)
from diffusion_sim.scenario.types import AT

Scalar = bool | int | float | str
METHODS = ("grid", "random", "lhs", "sobol", "morris")
_CONDITION = re.compile(r"^\s*([a-z_0-9]+)\s*(<=|>=|==|!=|<|>)\s*([-+0-9.eE]+|nan)\s*$")


MAX_RUNS = 10_000_000
"""Most runs (points x replicates) a sweep may have: its plan is held in memory."""

SERIES_NAMES = tuple(timeseries_columns())
"""Columns of a run's ``timeseries`` (``diffusion_sim.record.tables.timeseries_table``) a sweep
may keep per step, as that table gives them (``tables.timeseries_columns``: no list here to
keep); ``governments_<level>`` exists only where that level has governments (other runs
keep it empty)."""
SERIES_INT = tuple(name for name, counts in timeseries_columns().items() if counts)
"""Per-step series that count (integers); every other series is a share."""


class _Section(BaseModel):
    # Strict like scenario files (``replicates = true`` is an error); tuple fields
    # say strict=False so TOML arrays are accepted, their items staying strict.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class Parameter(_Section):
    """One varied scenario key: a continuous ``range`` or a list of ``values``."""

    key: str = Field(
        pattern=r"^[A-Za-z0-9_-]+(\.[^.\x00-\x1f]{1,100})*$",
        max_length=300,
        description="dotted scenario key, e.g. 'mechanisms.horizontal.strength'",
    )
    name: Label | None = Field(None, description="column name in the results (default: the key)")
    range: tuple[float, float] | None = Field(
        None, strict=False, description="[low, high]; integer keys take whole numbers in it"
    )
    values: tuple[Scalar, ...] | None = Field(
        None,
        strict=False,
        min_length=1,
        max_length=10_000,
        description="the values to try (numbers, booleans or strings)",
    )

    @model_validator(mode="after")
    def _one_of(self) -> Parameter:
        if (self.range is None) == (self.values is None):
            raise ValueError("give exactly one of 'range' or 'values'")
        if self.range is not None and not self.range[0] < self.range[1]:
            raise ValueError(f"range must be [low, high] with low < high, got {list(self.range)}")
        if self.values is not None:
            kinds = {"number" if _is_number(v) else type(v).__name__ for v in self.values}
            if len(kinds) > 1:
                raise ValueError(f"values must all be of one type, got {sorted(kinds)}")
            if len(set(self.values)) != len(self.values):
                raise ValueError("values must not repeat")
        return self

    @property
    def column(self) -> str:
        """Its column in the results table."""
        return self.name or self.key


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class Design(_Section):
    """How points are drawn from the parameter space."""

    method: Literal["grid", "random", "lhs", "sobol", "morris"] = Field(
        "grid",
        description="grid: every combination; random: uniform draws; lhs: Latin hypercube; "
        "sobol: Saltelli/Sobol sequence for Sobol indices; morris: trajectories for "
        "Morris elementary effects (SALib)",
    )
    samples: int | None = Field(
        None,
        ge=1,
        le=10_000_000,
        description="random/lhs: points; sobol: base samples N (points = N(D+2), or "
        "N(2D+2) with second_order; a power of 2); morris: trajectories (points = N(D+1))",
    )
    levels: int = Field(
        5, ge=2, le=10_000, description="grid: points per range; morris: grid levels (even)"
    )
    second_order: bool = Field(False, description="sobol: also second-order indices")

    @model_validator(mode="after")
    def _needs_samples(self) -> Design:
        if self.method != "grid" and self.samples is None:
            raise ValueError(f"design '{self.method}' needs 'samples'")
        if self.method == "grid" and self.samples is not None:
            raise ValueError("design 'grid' takes 'levels', not 'samples'")
        if self.method == "sobol" and self.samples & (self.samples - 1):
            raise ValueError(f"sobol needs 'samples' to be a power of 2, got {self.samples}")
        return self


class Question(_Section):
    """A scenario-discovery question: which conditions make ``condition`` true (PRIM)."""

    name: Label = Field(description="the question in words")
    condition: str = Field(
        max_length=1000,
        description="'<outcome> <op> <number>' joined by 'and', e.g. 'share_small >= 0.8'",
    )
    threshold: float = Field(
        0.8, gt=0, le=1, description="density a box must reach (share of its runs where true)"
    )

    @model_validator(mode="after")
    def _parses(self) -> Question:
        parse_condition(self.condition)
        return self


class SweepSpec(_Section):
    """A whole sweep file."""

    name: FolderName = Field(
        description="short name (letters, digits, . _ -); results go to results/<name> by default"
    )
    description: Text = Field("", description="the question the sweep answers")
    scenario: str = Field(
        max_length=1000,
        description="base scenario: a .toml path relative to the sweep file, or a shipped name",
    )
    seed: int = Field(
        0, ge=0, le=2**63 - 1, description="root of every seed in the sweep (SeedSequence)"
    )
    replicates: int = Field(1, ge=1, le=100_000, description="runs per point")
    common_seeds: bool = Field(
        False,
        description="replicate r of every point uses the same seed (common random "
        "numbers: less noise in comparisons); else each point has its own seeds",
    )
    engine: Literal["vectorized", "agents"] = Field("vectorized", description="engine")
    constants: dict[str, Any] = Field(
        default_factory=dict,
        max_length=1000,
        description="fixed overrides of the base scenario, by dotted key",
    )
    uncertainties: tuple[Parameter, ...] = Field(
        (),
        strict=False,
        max_length=100,
        description="conditions nobody controls, as [[uncertainties]] tables",
    )
    levers: tuple[Parameter, ...] = Field(
        (),
        strict=False,
        max_length=100,
        description="what a policy maker chooses, as [[levers]] tables",
    )
    design: Design = Design()
    outcomes: tuple[str, ...] = Field(
        default_factory=outcome_names,
        strict=False,
        description="outcomes to record (default: every outcome of the registry)",
    )
    series: tuple[str, ...] = Field(
        (),
        strict=False,
        max_length=1000,
        description="per-step series to keep, from the run's timeseries columns (e.g. "
        "'share_cities', 'adopters'); written to series.parquet (default: none)",
    )
    series_every: int = Field(
        1, ge=1, le=1_000_000, description="keep the series at every k-th step (0, k, 2k, ...)"
    )
    at: int | None = Field(
        None,
        ge=0,
        le=MAX_STEPS,
        description="measure the outcomes at this step (default: the last)",
    )
    between: tuple[int, int] | None = Field(
        None,
        strict=False,
        description="or: each outcome's change from step A to step B, [A, B] with 0 <= A < B "
        "(times to a level have no change: left out)",
    )
    questions: tuple[Question, ...] = Field(
        (),
        strict=False,
        max_length=100,
        description="scenario-discovery questions for 'analyze', as [[questions]]",
    )
    runs_per_task: int | Literal["auto"] = Field(
        "auto",
        le=10_000,
        description="runs batched into one task ('auto': about 1% of the runs, 1-50)",
    )

    @field_validator("outcomes")
    @classmethod
    def _known_outcomes(cls, outcomes: tuple[str, ...]) -> tuple[str, ...]:
        known = outcome_names()
        unknown = [o for o in outcomes if o not in known]
        if unknown:
            close = difflib.get_close_matches(unknown[0], known, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ValueError(f"unknown outcome(s) {unknown}{hint} Allowed: {', '.join(known)}")
        return outcomes

    @field_validator("series")
    @classmethod
    def _known_series(cls, series: tuple[str, ...]) -> tuple[str, ...]:
        known = list(timeseries_columns())
        unknown = [s for s in series if s not in known]
        if unknown:
            close = difflib.get_close_matches(unknown[0], known, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ValueError(f"unknown series {unknown}{hint} Allowed: {', '.join(known)}")
        if len(set(series)) != len(series):
            raise ValueError("series must not repeat")
        return series

    @field_validator("between")
    @classmethod
    def _ordered(cls, between: tuple[int, int] | None) -> tuple[int, int] | None:
        if between is not None and not 0 <= between[0] < between[1]:
            raise ValueError(f"must be [A, B] with 0 <= A < B, got {list(between)}")
        return between

    @model_validator(mode="before")
    @classmethod
    def _changes_by_default(cls, data: Any) -> Any:
        """With ``between`` and no ``outcomes``: every outcome that has a change."""
        if isinstance(data, dict) and data.get("between") is not None and "outcomes" not in data:
            data = {**data, "outcomes": [o for o in outcome_names() if kind_of(o) != "time_to"]}
        return data

    @model_validator(mode="after")
    def _one_window(self) -> SweepSpec:
        if self.at is not None and self.between is not None:
            raise ValueError(f"between{AT}give 'at' (one step) or 'between' (two), not both")
        times = [o for o in self.outcomes if kind_of(o) == "time_to"]
        if self.between is not None and times:
            raise ValueError(
                f"outcomes{AT}{times} are times to a level, which have no change between two "
                "steps; leave them out, or measure them 'at' a step"
            )
        return self

    @property
    def window(self) -> Window:
        """Where the sweep's outcomes are measured (``at``, ``between`` or the last step)."""
        return Window(at=self.at, between=self.between)

    @model_validator(mode="after")
    def _consistent(self) -> SweepSpec:
        params = self.parameters
        if not params:
            raise ValueError("a sweep needs at least one [[uncertainties]] or [[levers]] entry")
        for attr in ("key", "column"):
            seen = [getattr(p, attr) for p in params]
            dupes = sorted({s for s in seen if seen.count(s) > 1})
            if dupes:
                raise ValueError(f"parameter {attr}s must be unique, repeated: {dupes}")
        clash = sorted(set(self.constants) & {p.key for p in params})
        if clash:
            raise ValueError(f"keys both constant and varied: {clash}")
        reserved = {"point", "replicate", "seed", "status", "error", *outcome_names()}
        taken = sorted(reserved & {p.column for p in params})
        if taken:
            raise ValueError(f"parameter names clash with result columns: {taken}")
        for question in self.questions:
            missing = [c[0] for c in parse_condition(question.condition)]
            missing = [o for o in missing if o not in self.outcomes]
            if missing:
                raise ValueError(
                    f"question {question.name!r} uses outcome(s) not recorded: {missing}"
                )
        if self.design.method in ("sobol", "morris") and len(params) < 2:
            raise ValueError(f"design '{self.design.method}' needs at least 2 parameters")
        if isinstance(self.runs_per_task, int) and self.runs_per_task < 1:
            raise ValueError("runs_per_task must be >= 1 or 'auto'")
        return self

    @property
    def parameters(self) -> tuple[Parameter, ...]:
        """Uncertainties then levers, the column order of the results."""
        return self.uncertainties + self.levers


def parse_condition(text: str) -> list[tuple[str, str, float]]:
    """Split ``'a >= 0.8 and b < 40'`` into ``[('a', '>=', 0.8), ('b', '<', 40.0)]``.

    Conditions are parsed, never evaluated, so a sweep file cannot run code.
    """
    clauses = []
    for part in re.split(r"\s+and\s+", text.strip()):
        match = _CONDITION.match(part)
        if not match:
            raise ValueError(
                f"cannot read condition {part!r}: write '<outcome> <op> <number>' with op one "
                "of <, <=, >, >=, ==, != (clauses joined by 'and')"
            )
        outcome, op, number = match.groups()
        if outcome not in outcome_names():
            close = difflib.get_close_matches(outcome, outcome_names(), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ValueError(f"unknown outcome {outcome!r} in condition{hint}")
        clauses.append((outcome, op, float(number)))
    return clauses


@dataclass(frozen=True)
class ParamInfo:
    """A parameter with the kind its scenario key takes: 'float', 'int' or 'values'."""

    parameter: Parameter
    kind: Literal["float", "int", "values"]

    @property
    def column(self) -> str:
        return self.parameter.column


@dataclass(frozen=True)
class Sweep:
    """A validated sweep: the spec, its resolved base scenario and its parameters."""

    spec: SweepSpec
    base: Scenario
    params: tuple[ParamInfo, ...]
    source: str | None = None

    @property
    def base_dict(self) -> dict[str, Any]:
        """The base scenario as plain data (constants applied, world seed fixed)."""
        return self.base.to_dict()
