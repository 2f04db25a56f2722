"""Compare files: a what-if study written down (``diffusion-sim compare study.toml``).

A TOML file with one ``[compare]`` table names the scenarios (files beside it or
shipped names), their labels, the replicates and seed, and where the outcomes are
measured (``at`` a step or ``between`` two). Validated like scenario files: an
unknown key, a value out of range or a window past a run's last step is one
message with the key and its line. Flags given on the command line win.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from diffusion_sim.errors import InputError
from diffusion_sim.record.outcomes import Window
from diffusion_sim.scenario import (
    MAX_STEPS,
    Label,
    Scenario,
    Section,
    allowed_keys,
    find_scenario,
    format_validation_errors,
    line_of,
    load_scenario,
    read_toml_file,
    toml_reference,
)
from diffusion_sim.scenario.types import AT


class CompareSpec(Section):
    """The ``[compare]`` table: what is compared, how often, and where it is measured."""

    scenarios: tuple[str, ...] = Field(
        strict=False,
        min_length=1,
        max_length=50,
        description="scenario files (relative to this file) or shipped names; the first is "
        "the reference the differences are taken to",
    )
    labels: tuple[Label, ...] | None = Field(
        None, strict=False, description="a label per scenario for tables and charts"
    )
    replicates: int = Field(20, ge=1, le=100_000, description="replicates per scenario")
    seed: int | None = Field(
        None, ge=0, le=2**63 - 1, description="root seed (default: the first's run.seed)"
    )
    steps: int | None = Field(
        None, ge=1, le=MAX_STEPS, description="steps (default: each scenario's run.steps)"
    )
    engine: Literal["vectorized", "agents"] = Field("vectorized", description="engine")
    at: int | None = Field(
        None, ge=0, le=MAX_STEPS, description="measure outcomes at this step (default: the last)"
    )
    between: tuple[int, int] | None = Field(
        None,
        strict=False,
        description="or: each outcome's change from step A to step B, [A, B] with 0 <= A < B",
    )

    @field_validator("between")
    @classmethod
    def _ordered(cls, between: tuple[int, int] | None) -> tuple[int, int] | None:
        if between is not None and not 0 <= between[0] < between[1]:
            raise ValueError(f"must be [A, B] with 0 <= A < B, got {list(between)}")
        return between

    @model_validator(mode="after")
    def _consistent(self) -> CompareSpec:
        if self.at is not None and self.between is not None:
            raise ValueError(f"between{AT}give 'at' (one step) or 'between' (two), not both")
        if self.labels is not None:
            if len(self.labels) != len(self.scenarios):
                raise ValueError(
                    f"labels{AT}{len(self.labels)} labels for {len(self.scenarios)} scenarios"
                )
            if len(set(self.labels)) != len(self.labels):
                raise ValueError(f"labels{AT}labels must not repeat")
        return self


class CompareFile(Section):
    """A whole compare file: its ``[compare]`` table and nothing else."""

    compare: CompareSpec


@dataclass(frozen=True)
class CompareStudy:
    """A read compare file: its settings and its scenarios, labelled."""

    spec: CompareSpec
    scenarios: dict[str, Scenario]
    source: str

    @property
    def window(self) -> Window:
        return Window(at=self.spec.at, between=self.spec.between)


def is_compare_file(name: str) -> bool:
    """Whether ``name`` is a TOML file with a top-level ``[compare]`` table."""
    path = find_scenario(name)
    if not path.is_file() or path.suffix != ".toml":
        return False
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False  # the scenario loader says what is wrong with it
    return isinstance(data.get("compare"), dict)


def load_compare_file(path: str | Path) -> CompareStudy:
    """Read and check a compare file and load its scenarios.

    Raises
    ------
    InputError
        Naming the file, the key and its line, and what is allowed.
    """
    path = find_scenario(path)
    data, text = read_toml_file(path, "compare")
    try:
        spec = CompareFile.model_validate(data).compare
    except ValidationError as exc:
        message = format_validation_errors(
            exc,
            text,
            header="invalid compare file:",
            allowed_at=lambda loc: allowed_keys(CompareFile, loc),
        )
        raise InputError(message, source=str(path)) from None
    scenarios = {}
    for i, name in enumerate(spec.scenarios):
        key = f"compare.scenarios.{i}"
        if name.endswith(".toml"):
            target = toml_reference(name, path, key, text)
        else:
            target = find_scenario(name)
        try:
            scenario = load_scenario(target)
        except InputError as exc:
            raise InputError(f"{_where(text, key)}: {exc}", source=str(path)) from None
        label = spec.labels[i] if spec.labels else scenario.name
        if label in scenarios:
            raise InputError(
                f"{_where(text, key)}: two scenarios named {label!r}; give 'labels'",
                source=str(path),
            )
        scenarios[label] = scenario
    study = CompareStudy(spec, scenarios, str(path))
    _check_window(study, text)
    return study


def _where(text: str | None, key: str) -> str:
    line = line_of(text, key)
    return f"key '{key}'" + (f" (line {line})" if line else "")


def _check_window(study: CompareStudy, text: str | None) -> None:
    last = study.window.last_step
    if last is None:
        return
    key = "compare.at" if study.spec.at is not None else "compare.between"
    for label, scenario in study.scenarios.items():
        steps = study.spec.steps or scenario.run.steps
        if last > steps:
            raise InputError(
                f"{_where(text, key)}: step {last} is after the last step {steps} of "
                f"scenario {label!r} (its run.steps, or compare.steps)",
                source=study.source,
            )


def settings(study: CompareStudy, flags: dict[str, Any]) -> dict[str, Any]:
    """The file's settings with the flags given on the command line (not None) over them."""
    spec = study.spec
    chosen = {
        "replicates": spec.replicates,
        "seed": spec.seed,
        "steps": spec.steps,
        "engine": spec.engine,
        "window": study.window,
    }
    chosen.update({k: v for k, v in flags.items() if v is not None})
    return chosen
