"""Shared fixtures: small worlds and scenarios that run in milliseconds."""

from __future__ import annotations

from pathlib import Path

import pytest

import diffusion_sim as ds
from diffusion_sim.mechanisms.registry import MECHANISM_NAMES

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
SHIPPED = sorted(p for p in SCENARIOS.glob("*.toml") if not p.name.startswith("_"))


def small(scenario: ds.Scenario, cities: int = 300, steps: int = 40) -> ds.Scenario:
    """The same scenario on a small world, for fast tests."""
    overrides = {"run.steps": steps}
    if scenario.world.generator == "synthetic":
        overrides["world.n_cities"] = cities
    else:  # a real world: its largest cities only (the names scenarios use stay in it)
        overrides["world.max_cities"] = cities
    return scenario.with_overrides(overrides)


@pytest.fixture
def embedded() -> ds.Scenario:
    return small(ds.load_scenario(SCENARIOS / "embedded.toml"))


def only(scenario: ds.Scenario, *mechanisms: str, abandonment: bool = False) -> ds.Scenario:
    """The scenario with only the named mechanisms (and optionally abandonment) on."""
    overrides = {f"mechanisms.{m}.enabled": m in mechanisms for m in MECHANISM_NAMES}
    overrides["mechanisms.abandonment.enabled"] = abandonment
    return scenario.with_overrides(overrides)
