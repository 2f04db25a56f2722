"""Sweep files: TOML naming a base scenario, what varies, the design and the outcomes.

A sweep file is data, parsed into a frozen, validated :class:`SweepSpec` (its
schema lives in :mod:`diffusion_sim.studies.sweep.schema`); bad input raises
:class:`~diffusion_sim.errors.InputError` naming the file, the key (and line) and
what is allowed, like scenario files. :func:`load_sweep` also resolves the base
scenario and checks every varied key against the scenario schema, so a typo in a
parameter name fails before the first run.
"""

from __future__ import annotations

import copy
import difflib
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from diffusion_sim.errors import InputError
from diffusion_sim.scenario import (
    Scenario,
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
from diffusion_sim.studies.sweep.schema import (  # re-exported: the names importers use
    MAX_RUNS,
    METHODS,
    SERIES_NAMES,
    Design,
    Parameter,
    ParamInfo,
    Question,
    Sweep,
    SweepSpec,
    parse_condition,
)

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
                    + (f"; allowed here: {', '.join(allowed)}" if allowed else "")
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
    problems += _window_problems(spec, resolved, source)
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


def _window_problems(spec: SweepSpec, base: Scenario, source: str | None) -> list[str]:
    """A window (``at``, ``between``) past the last step of the shortest run of the sweep."""
    last = spec.window.last_step
    if last is None:
        return []
    steps, where_steps = base.run.steps, "the base scenario's run.steps"
    for param in spec.parameters:
        if param.key == "run.steps":
            candidates = param.values if param.values is not None else param.range
            steps, where_steps = int(min(candidates)), "the smallest run.steps the sweep varies"
    if last <= steps:
        return []
    key = "at" if spec.at is not None else "between"
    line = line_of(source and _text_of(source), key)
    where = f"key '{key}'" + (f" (line {line})" if line else "")
    return [f"{where}: step {last} is after the last step {steps} ({where_steps})"]


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


def kept_steps(steps: int, every: int) -> int:
    """Steps a series keeps of a run of ``steps`` steps: 0, k, 2k, ... up to ``steps``.

    >>> kept_steps(40, 1), kept_steps(40, 7)
    (41, 6)
    """
    return steps // every + 1


def series_values(sweep: Sweep) -> int:
    """Values the per-step series of a sweep hold: runs x kept steps x series.

    Counted before any run, like :func:`design_runs`, so a sweep whose series would
    fill the disk is refused up front; a varied ``run.steps`` counts at its largest.
    """
    spec = sweep.spec
    if not spec.series:
        return 0
    steps = sweep.base.run.steps
    for info in sweep.params:
        if info.parameter.key == "run.steps":
            p = info.parameter
            candidates = p.values if p.values is not None else p.range
            steps = max(int(v) for v in candidates)
    return design_runs(sweep) * kept_steps(steps, spec.series_every) * len(spec.series)


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
        base = load_scenario(scenario_path, show_values=False)  # never echo another file
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
    "SERIES_NAMES",
    "Design",
    "ParamInfo",
    "Parameter",
    "Question",
    "Sweep",
    "SweepSpec",
    "check_sweep",
    "design_points",
    "design_runs",
    "kept_steps",
    "load_sweep",
    "parse_condition",
    "parse_sweep",
    "series_values",
    "sweep_from_dict",
]
