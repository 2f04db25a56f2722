"""Sweep files: TOML naming a base scenario, what varies, the design and the outcomes.

A sweep file is data, parsed into a frozen, validated :class:`SweepSpec`; bad
input raises :class:`~diffusion_sim.errors.InputError` naming the file, the key
(and line) and what is allowed, like scenario files. :func:`load_sweep` also
resolves the base scenario and checks every varied key against the scenario
schema, so a typo in a parameter name fails before the first run.
"""

from __future__ import annotations

import copy
import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from diffusion_sim.errors import InputError
from diffusion_sim.outcomes import OUTCOME_NAMES
from diffusion_sim.scenario import (
    FolderName,
    Label,
    Scenario,
    Text,
    allowed_keys,
    find_scenario,
    format_validation_errors,
    line_of,
    load_scenario,
    read_toml_file,
    scenario_dirs,
    set_dotted,
    toml_reference,
)

Scalar = bool | int | float | str
METHODS = ("grid", "random", "lhs", "sobol", "morris")
_CONDITION = re.compile(r"^\s*([a-z_0-9]+)\s*(<=|>=|==|!=|<|>)\s*([-+0-9.eE]+|nan)\s*$")


MAX_RUNS = 10_000_000
"""Most runs (points x replicates) a sweep may have: its plan is held in memory."""


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
    outcomes: tuple[str, ...] = Field(OUTCOME_NAMES, strict=False, description="outcomes to record")
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
        unknown = [o for o in outcomes if o not in OUTCOME_NAMES]
        if unknown:
            close = difflib.get_close_matches(unknown[0], OUTCOME_NAMES, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ValueError(
                f"unknown outcome(s) {unknown}{hint} Allowed: {', '.join(OUTCOME_NAMES)}"
            )
        return outcomes

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
        reserved = {"point", "replicate", "seed", "status", "error", *OUTCOME_NAMES}
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
        if outcome not in OUTCOME_NAMES:
            close = difflib.get_close_matches(outcome, OUTCOME_NAMES, n=1)
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


# ------------------------------------------------------------------ errors


def _allowed_here(loc: tuple) -> list[str]:
    model: type[BaseModel] | None = SweepSpec
    for part in loc[:-1]:
        if model is None:
            return []
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return []
        annotation = field.annotation
        args = getattr(annotation, "__args__", ())
        candidates = [annotation, *args]
        model = next(
            (c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None
        )
    return list(model.model_fields) if model else []


def _format_errors(exc: ValidationError, text: str | None) -> str:
    return format_validation_errors(exc, text, header="invalid sweep:", allowed_at=_allowed_here)


# ------------------------------------------------------------------ loading


def parse_sweep(data: dict[str, Any], *, source: str | None = None, text: str | None = None):
    """Validate plain data (as read from TOML) into a :class:`SweepSpec`."""
    try:
        return SweepSpec.model_validate(data)
    except ValidationError as exc:
        raise InputError(_format_errors(exc, text), source=source) from None


def _is_path(name: str) -> bool:
    """Whether a sweep's ``scenario`` is a file path rather than a shipped scenario's name."""
    return not _SHIPPED_NAME.match(name)


_SHIPPED_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")


def _shipped(name: str) -> Path:
    """A shipped scenario by name (./scenarios, then the checkout's): never a path."""
    for folder in scenario_dirs():
        if (folder / f"{name}.toml").is_file():
            return folder / f"{name}.toml"
    return Path(name)  # load_scenario reports it missing, with a did-you-mean


def _resolve_scenario(name: str, sweep_path: Path | None) -> Path:
    if sweep_path is not None:
        beside = sweep_path.parent / name
        if beside.is_file():
            return beside
    return find_scenario(name)


def _lookup(data: dict, key: str) -> tuple[bool, Any]:
    node: Any = data
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _field_errors(base: dict, key: str, value: Any) -> list[str]:
    """Errors of setting ``key`` to ``value`` that concern the key itself.

    Errors of cross-field rules (like laggard_cutoff <= leader_cutoff) are left to
    the run: they depend on the other parameters of a point, and a failing point is
    recorded in the results rather than refused up front.
    """
    data = copy.deepcopy(base)
    try:
        set_dotted(data, key, value, declared=("networks",))
    except InputError as exc:
        return [str(exc)]
    try:
        Scenario.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            here = ".".join(str(p) for p in loc)
            if err["type"] == "extra_forbidden":
                allowed = [a for a in allowed_keys(Scenario, loc) if a]
                close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                problems.append(
                    f"'{here}' is not a scenario key{hint}"
                    + (f" Allowed here: {', '.join(allowed)}" if allowed else "")
                )
            elif here == key or here.startswith(key + "."):
                problems.append(f"{err['msg']} (got {value!r})")
        return problems
    return []


def _kind_of(param: Parameter, base: dict) -> Literal["float", "int", "values"]:
    if param.values is not None:
        return "values"
    found, current = _lookup(base, param.key)
    if found and isinstance(current, bool | str):
        raise ValueError(f"'{param.key}' takes {type(current).__name__} values: use 'values'")
    if found and isinstance(current, int):
        return "int"
    if found and isinstance(current, float):
        return "float"
    low, high = param.range
    return "int" if float(low).is_integer() and float(high).is_integer() and not found else "float"


def check_sweep(spec: SweepSpec, base: Scenario, source: str | None = None) -> Sweep:
    """Resolve the base (constants, world seed) and check every varied key and value."""
    problems: list[str] = []
    fixed = dict(spec.constants)
    if base.world.seed is None and "world.seed" not in fixed:
        # One world for the whole sweep unless world.seed varies: replicates then differ
        # in their run seeds only, and worlds can be cached.
        fixed["world.seed"] = spec.seed
    try:
        resolved = base.with_overrides(fixed).model_copy(update={"source": None})
    except InputError as exc:
        raise InputError(f"in [constants]: {exc}", source=source) from None
    base_data = resolved.to_dict()
    params = []
    for section in ("uncertainties", "levers"):
        for i, param in enumerate(getattr(spec, section)):
            where = f"{section}[{i}] '{param.key}'"
            try:
                kind = _kind_of(param, base_data)
            except ValueError as exc:
                problems.append(f"{where}: {exc}")
                continue
            trial = list(param.values) if param.values is not None else list(param.range)
            if kind == "int":
                trial = [round(v) for v in trial]
            for value in trial:
                errors = _field_errors(base_data, param.key, value)
                if errors:
                    problems.extend(f"{where}: {e}" for e in errors)
                    break
            params.append(ParamInfo(param, kind))
    if problems:
        raise InputError("\n  ".join(["invalid sweep:", *problems]), source=source)
    sweep = Sweep(spec=spec, base=resolved, params=tuple(params), source=source)
    runs = design_runs(sweep)
    if runs > MAX_RUNS:
        line = line_of(source and _text_of(source), "design")
        where = "key 'design'" + (f" (line {line})" if line else "")
        raise InputError(
            f"{where}: the design has {runs:,} runs ({design_points(sweep):,} points x "
            f"{spec.replicates} replicate(s)); a sweep may have at most {MAX_RUNS:,}. "
            "Use fewer levels, samples, values or replicates",
            source=source,
        )
    return sweep


def _text_of(source: str) -> str | None:
    try:
        return Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def design_points(sweep: Sweep) -> int:
    """Points the design draws, counted without drawing them (exact Python integers).

    A grid of many levels over many parameters is astronomically large; counting
    first lets a sweep be refused before any memory or time is spent on it.
    """
    design, params = sweep.spec.design, sweep.params
    dims = len(params)
    if design.method == "grid":
        total = 1
        for info in params:
            p = info.parameter
            if p.values is not None:
                total *= len(p.values)
            elif info.kind == "int":
                low, high = round(p.range[0]), round(p.range[1])
                total *= min(design.levels, high - low + 1)
            else:
                total *= design.levels
        return total
    samples = design.samples or 0
    if design.method == "sobol":
        return samples * ((2 * dims + 2) if design.second_order else (dims + 2))
    if design.method == "morris":
        return samples * (dims + 1)
    return samples


def design_runs(sweep: Sweep) -> int:
    """Runs of a sweep: its design's points times the replicates of each."""
    return design_points(sweep) * sweep.spec.replicates


def load_sweep(path: str | Path) -> Sweep:
    """Read a sweep file, its base scenario, and check both.

    Raises
    ------
    InputError
        If the file is missing, is not TOML, breaks the schema, names a scenario
        that does not load, or varies a key the scenario does not have.
    """
    path = Path(path)
    data, text = read_toml_file(path, kind="sweep")
    spec = parse_sweep(data, source=str(path), text=text)
    if _is_path(spec.scenario):
        # Read relative to the sweep file, .toml only; absolute paths are allowed here
        # (sweeps written by scripts point at a checkout's scenario).
        scenario_path = toml_reference(spec.scenario, path, "scenario", text, allow_absolute=True)
    else:
        scenario_path = _shipped(spec.scenario)
    try:
        base = load_scenario(scenario_path)
    except InputError as exc:
        line = line_of(text, "scenario")
        where = "key 'scenario'" + (f" (line {line})" if line else "")
        raise InputError(f"{where}: {exc}", source=str(path)) from None
    return check_sweep(spec, base, source=str(path))


def sweep_from_dict(data: dict[str, Any], base: Scenario | None = None) -> Sweep:
    """A sweep from plain data (for Python use and tests); ``base`` overrides ``scenario``."""
    spec = parse_sweep(data)
    if base is None:
        base = load_scenario(_resolve_scenario(spec.scenario, None))
    return check_sweep(spec, base)


__all__ = [
    "MAX_RUNS",
    "METHODS",
    "Design",
    "ParamInfo",
    "Parameter",
    "Question",
    "Sweep",
    "SweepSpec",
    "check_sweep",
    "design_points",
    "design_runs",
    "load_sweep",
    "parse_condition",
    "parse_sweep",
    "sweep_from_dict",
]
