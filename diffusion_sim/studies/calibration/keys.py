"""Fit keys, their schema bounds and their priors; applying values to a scenario.

A key is searched and sampled in a transformed space: log for a rate whose range
spans decades (a log-uniform prior), linear otherwise (a uniform prior). The
schema's bounds are the outer limits of both.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import BaseModel

from diffusion_sim.errors import InputError
from diffusion_sim.mechanisms.innovation import top_pioneers
from diffusion_sim.mechanisms.susceptibility import susceptibility
from diffusion_sim.scenario import Scenario, model_of
from diffusion_sim.world import World

LOG_FLOOR = 1e-5
"""A log-uniform prior on a rate bounded below by 0 starts at this fraction of its upper bound."""
PRIOR_KINDS = ("loguniform", "uniform")
INNOVATION_RATE = "mechanisms.innovation.rate"
"""The key whose search box the data centre (:func:`innovation_centre`)."""


@dataclass(frozen=True)
class FitKey:
    """A parameter to fit: its dotted key, type, schema bounds and starting value."""

    key: str
    integer: bool
    lower: float
    upper: float
    start: float


@dataclass(frozen=True)
class Prior:
    """The prior of one key: uniform on [low, high] in log space (loguniform) or linearly."""

    kind: str
    low: float
    high: float

    @property
    def log(self) -> bool:
        return self.kind == "loguniform"

    def to_z(self, value: float) -> float:
        """The transformed value (log for loguniform) in which searching and sampling happen."""
        return math.log(value) if self.log else float(value)

    def from_z(self, z: float) -> float:
        return math.exp(z) if self.log else float(z)

    @property
    def z_bounds(self) -> tuple[float, float]:
        return self.to_z(self.low), self.to_z(self.high)

    def describe(self) -> str:
        return f"{self.kind}({self.low:.3g}, {self.high:.3g})"


def fit_key(scenario: Scenario, key: str) -> FitKey:
    """Check that ``key`` names a number in the scenario and find its bounds."""
    if key.startswith("world."):
        raise InputError(
            f"--fit {key}: keys under 'world' change the world itself; fit mechanisms, "
            "networks or pioneers instead",
            source=scenario.source,
        )
    model: type[BaseModel] | None = type(scenario)
    value: Any = scenario
    parts = key.split(".")
    info = None
    skip = False
    for i, part in enumerate(parts):
        if skip:  # a name inside a dict section (networks.<name>)
            skip = False
            if not isinstance(value, dict) or part not in value:
                known = list(value) if isinstance(value, dict) else []
                raise InputError(
                    f"--fit {key}: no '{part}' in '{'.'.join(parts[:i])}'; known: "
                    f"{', '.join(known) or 'none'}",
                    source=scenario.source,
                )
            value = value[part]
            continue
        fields = model.model_fields if model is not None else {}
        if part not in fields:
            close = difflib.get_close_matches(part, list(fields), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise InputError(f"--fit {key}: unknown key '{part}'{hint}", source=scenario.source)
        info = fields[part]
        value = getattr(value, part)
        model, skip = model_of(info.annotation)
        if i == len(parts) - 1 and model is not None:
            raise InputError(f"--fit {key}: is a section, not a number", source=scenario.source)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(
            f"--fit {key}: is not a number (it is {type(value).__name__} {value!r})",
            source=scenario.source,
        )
    lower, upper = 0.0, math.inf
    for meta in info.metadata:
        for attr in ("ge", "gt"):
            if getattr(meta, attr, None) is not None:
                lower = float(getattr(meta, attr))
                if attr == "gt":
                    lower = math.nextafter(lower, math.inf)
        for attr in ("le", "lt"):
            if getattr(meta, attr, None) is not None:
                upper = float(getattr(meta, attr))
                if attr == "lt":  # an open bound: the largest value the schema accepts
                    upper = math.nextafter(upper, -math.inf) if upper else upper
    return FitKey(key, isinstance(value, int), lower, upper, float(value))


def default_prior(k: FitKey) -> Prior:
    """The prior implied by the schema: log-uniform where the range spans decades.

    A rate bounded below by 0 and started above 0 gets a log-uniform prior from
    ``LOG_FLOOR`` x its upper bound (five decades); a key started at 0 (a
    threshold switched off) or whose range spans less than two decades gets a
    uniform one. A key without an upper bound (a network's size) reaches 100 x
    its start.
    """
    upper = k.upper if math.isfinite(k.upper) else max(k.start, 1.0) * 100
    if k.lower > 0:
        kind = "loguniform" if upper / k.lower >= 100 else "uniform"
        return Prior(kind, k.lower, upper)
    if k.start > 0:
        low = min(upper * LOG_FLOOR, k.start / 1000) if math.isfinite(k.upper) else 1.0
        if k.integer:
            low = max(low, 1.0)
        return Prior("loguniform", low, upper)
    return Prior("uniform", k.lower, upper)


def parse_priors(items: Sequence[str], keys: Sequence[FitKey]) -> dict[str, Prior]:
    """Priors: the schema's defaults, overridden by ``--prior KEY=KIND:LOW:HIGH``."""
    by_key = {k.key: k for k in keys}
    priors = {k.key: default_prior(k) for k in keys}
    for item in items:
        key, sep, spec = item.partition("=")
        key = key.strip()
        parts = spec.strip().split(":")
        form = "--prior takes KEY=loguniform:LOW:HIGH or KEY=uniform:LOW:HIGH"
        if not sep or len(parts) != 3:
            raise InputError(f"{form}, got {item!r}")
        if key not in by_key:
            raise InputError(f"--prior {key}: not one of the --fit keys ({', '.join(by_key)})")
        kind = parts[0].strip().lower()
        if kind not in PRIOR_KINDS:
            raise InputError(f"--prior {key}: kind must be one of {', '.join(PRIOR_KINDS)}")
        try:
            low, high = float(parts[1]), float(parts[2])
        except ValueError:
            raise InputError(f"--prior {key}: LOW and HIGH must be numbers; {form}") from None
        k = by_key[key]
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise InputError(f"--prior {key}: needs finite LOW < HIGH, got {low:g}, {high:g}")
        if low < k.lower or high > k.upper:
            raise InputError(
                f"--prior {key}: [{low:g}, {high:g}] leaves the schema's range "
                f"[{k.lower:g}, {k.upper:g}]"
            )
        if kind == "loguniform" and low <= 0:
            raise InputError(f"--prior {key}: a loguniform prior needs LOW > 0, got {low:g}")
        priors[key] = Prior(kind, low, high)
    return priors


def innovation_centre(scenario: Scenario, world: World, share: np.ndarray) -> float | None:
    """The innovation rate the data's first step implies, or None if it implies none.

    A city's innovation hazard is a probability per step, rate x capacity x leaning
    x s (s: its susceptibility under the scenario's adoption ceiling), so the expected
    share of the world's cities adopting on their own in step 1 is rate x sum_i
    capacity_i leaning_i s_i / N over the non-pioneers. Setting it to the observed
    first-step adoptions gives the rate. Other channels also act in step 1 (the
    pioneers' influence), so this bounds the rate from above for the scenario's
    ceiling; a higher ceiling (smaller s) or deterrence by hostile governments
    needs a higher rate. The point fit centres its search box here.
    """
    if not scenario.mechanisms.innovation.enabled or len(share) < 2:
        return None
    first = float(share[1] - share[0])
    reach = (
        world.capacity
        * world.leaning
        * susceptibility(world.leaning, scenario.mechanisms.opposition_leaning)
    )
    pioneers = top_pioneers(world.capacity, world.leaning, scenario.pioneers.count)
    reach[pioneers] = 0.0
    if not first > 0 or not reach.sum() > 0:
        return None
    return first * world.n_cities / float(reach.sum())


def search_centres(
    scenario: Scenario, world: World, keys: Sequence[FitKey], share: np.ndarray
) -> list[float | None]:
    """Per key, where the data put the centre of the point fit's first box (None: its start)."""
    return [
        innovation_centre(scenario, world, share) if k.key == INNOVATION_RATE else None
        for k in keys
    ]


def apply_values(scenario: Scenario, keys: Sequence[FitKey], values: Sequence[float]) -> Scenario:
    """The scenario with the keys set (clipped to the schema, integers rounded)."""
    overrides: dict[str, Any] = {}
    for k, value in zip(keys, values, strict=True):
        value = min(max(float(value), k.lower), k.upper)
        overrides[k.key] = round(value) if k.integer else value
    return scenario.with_overrides(overrides)


def read_value(scenario: Scenario, key: str) -> float:
    """The value of a dotted key in a scenario."""
    value: Any = scenario
    for part in key.split("."):
        value = value[part] if isinstance(value, dict) else getattr(value, part)
    return float(value)
