"""The outcome registry: every outcome of a run declared once, with its kind, unit and label.

Each :class:`Outcome` is a function of :class:`diffusion_sim.record.observed.Observed`
(what a run shows, built from its tables or from its change events), so the two
forms cannot drift apart: :func:`outcomes` reads a result's tables,
:func:`outcomes_from_events` a run's events (sweeps), and
``tests/test_sweep_runner.py`` checks that they agree bit for bit. Everything
that lists, formats or summarises outcomes (``Result.summary``, compare, sweeps,
charts, docs/ODD.md's table) reads :data:`REGISTRY`; :func:`register` adds one, and a
module named in ``DIFFUSION_SIM_OUTCOMES`` is imported to register its own in every process.

Kinds say how an outcome is summarised over replicates:

- ``share``: a share in [0, 1]; mean with a bootstrap interval.
- ``count``: a number of cities or governments; mean with a bootstrap interval.
- ``time_to``: the first step a level is reached, NaN if never (censored at the
  window's end); summarised as a Kaplan–Meier median with its interval and the
  share of replicates that never got there (:mod:`diffusion_sim.record.survival`).
- ``inequality``: a Gini coefficient in [0, 1]; mean with a bootstrap interval.

Windows: ``at=s`` gives the outcomes of the run as it stood at step ``s``;
:func:`change_between` the change of each share, count and inequality from step
``a`` to step ``b`` (times to a level are left out: they do not change).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from diffusion_sim.mechanisms.embedded import ADOPTION_CHANNELS
from diffusion_sim.record.observed import (
    SIZE_CLASSES,
    Observed,
    WorldFacts,
    from_events,
    from_tables,
    size_class,
    truncated,
)
from diffusion_sim.scenario import LEVELS

__all__ = [
    "KINDS",
    "REGISTRY",
    "SIZE_CLASSES",
    "Outcome",
    "Window",
    "WorldFacts",
    "change_between",
    "gini",
    "kind_of",
    "label_of",
    "outcome_names",
    "outcomes",
    "outcomes_from_events",
    "parse_between",
    "register",
    "size_class",
    "unit_of",
]

Kind = Literal["share", "count", "time_to", "inequality"]
KINDS: tuple[Kind, ...] = ("share", "count", "time_to", "inequality")


@dataclass(frozen=True)
class Outcome:
    """One outcome: its name, kind (see the module docstring), unit, label and definition."""

    name: str
    kind: Kind
    unit: str
    label: str
    value: Callable[[Observed], float]


REGISTRY: dict[str, Outcome] = {}
"""Every outcome by name, in the order runs report them."""

CARRIED = Outcome(
    "carried_<layer>",
    "share",
    "share of horizontal adoptions",
    "horizontal adoptions carried by the tie layer <layer>",
    lambda seen: float("nan"),
)
"""A family: one ``carried_<layer>`` per tie layer of the world, after the fixed outcomes."""


def register(outcome: Outcome) -> Outcome:
    """Add an outcome to every run, comparison and sweep (its name must be new)."""
    if outcome.kind not in KINDS:
        raise ValueError(f"outcome {outcome.name!r}: kind must be one of {KINDS}")
    if outcome.name in REGISTRY or outcome.name.startswith("carried_"):
        raise ValueError(f"outcome {outcome.name!r} is already declared")
    REGISTRY[outcome.name] = outcome
    return outcome


def outcome_names() -> tuple[str, ...]:
    """The outcomes every run has, in order (``carried_<layer>`` follow, per world)."""
    return tuple(REGISTRY)


def _declared(name: str) -> Outcome:
    if name in REGISTRY:
        return REGISTRY[name]
    if name.startswith("carried_"):
        return CARRIED
    raise KeyError(f"unknown outcome {name!r}")


def kind_of(name: str) -> Kind:
    """'share', 'count', 'time_to' or 'inequality'."""
    return _declared(name).kind


def unit_of(name: str) -> str:
    return _declared(name).unit


def label_of(name: str) -> str:
    outcome = _declared(name)
    return outcome.label.replace("<layer>", name.removeprefix("carried_"))


def gini(values: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 when all are equal or all zero)."""
    values = np.sort(np.asarray(values, dtype=np.float64))
    n = len(values)
    if n == 0 or values.sum() == 0:
        return 0.0
    ranks = np.arange(1, n + 1)
    return float((2 * (ranks * values).sum()) / (n * values.sum()) - (n + 1) / n)


def time_to(share: np.ndarray, level: float) -> float:
    """First step at which ``share`` reaches ``level``, NaN if never."""
    hits = np.flatnonzero(np.asarray(share) >= level)
    return float(hits[0]) if len(hits) else float("nan")


def _declare_built_ins() -> None:
    def add(name: str, kind: Kind, unit: str, label: str, value: Callable) -> None:
        register(Outcome(name, kind, unit, label, value))

    add("share_cities", "share", "share of cities", "cities adopted",
        lambda s: float(s.share_cities[-1]))  # fmt: skip
    add("share_population", "share", "share of population", "population covered",
        lambda s: float(s.share_population[-1]))  # fmt: skip
    for pct in (10, 50, 90):
        add(f"time_to_{pct}pct", "time_to", "steps", f"time to {pct}% of cities",
            lambda s, p=pct: time_to(s.share_cities, p / 100))  # fmt: skip
    for k, (name, low, high) in enumerate(SIZE_CLASSES):
        span = f"{low:,.0f}+" if high == np.inf else f"{low:,.0f}-{high:,.0f}"
        add(f"share_{name}", "share", "share of cities", f"{name} cities ({span} people)",
            lambda s, k=k: float(s.adopted[s.size_members[k]].mean())
            if s.size_members[k].any() else float("nan"))  # fmt: skip
    for rung in ("leader", "follower", "laggard"):
        add(f"share_{rung}s", "share", "share of cities", f"{rung}s adopted",
            lambda s, r=rung: s.rung_shares[r])  # fmt: skip
    add("country_gini", "inequality", "Gini (0-1)", "spread across countries (Gini)",
        lambda s: gini(s.country_means) if len(s.country_means) > 1 else 0.0)  # fmt: skip
    for level in LEVELS:
        add(f"governments_{level}", "count", "governments", f"{level} governments adopted",
            lambda s, lv=level: s.governments[lv])  # fmt: skip
    for channel in ADOPTION_CHANNELS:
        add(f"adopters_{channel}", "count", "cities", f"adopters through {channel}",
            lambda s, c=channel: s.adopters[c])  # fmt: skip
    add("leapfrogging", "count", "cities", "adopters under a hostile nation",
        lambda s: s.leapfrogging)  # fmt: skip
    add("abandonments", "count", "cities", "abandonments over the run",
        lambda s: s.drops["abandonment"])  # fmt: skip
    add("preemptions", "count", "cities", "preemptions over the run",
        lambda s: s.drops["preemption"])  # fmt: skip


_declare_built_ins()

OUTCOMES_VARIABLE = "DIFFUSION_SIM_OUTCOMES"
r"""Modules (comma-separated) imported after the built-ins; each :func:`register`\ s its own
outcomes, so a further outcome reaches sweep workers in other processes too."""


def load_further_outcomes(modules: str) -> None:
    """Import each named module (it registers its outcomes when imported)."""
    for name in (m.strip() for m in modules.split(",")):
        if name and name not in sys.modules:
            try:
                importlib.import_module(name)
            except ImportError as exc:
                raise ImportError(f"{OUTCOMES_VARIABLE}: cannot import {name!r}: {exc}") from exc


load_further_outcomes(os.environ.get(OUTCOMES_VARIABLE, ""))


def evaluate(seen: Observed, names: Iterable[str] | None = None) -> dict[str, float]:
    """The registry's outcomes of one view (all, or ``names``), then ``carried_<layer>``."""
    chosen = REGISTRY.values() if names is None else (REGISTRY[n] for n in names)
    out = {outcome.name: outcome.value(seen) for outcome in chosen}
    return out | {f"carried_{layer}": share for layer, share in seen.carried.items()}


def outcomes(result) -> dict[str, float]:
    """All outcomes of one run from its tables, at its last step."""
    return evaluate(from_tables(result))


def outcomes_from_events(
    setup, trajectory, facts: WorldFacts | None = None, *, at: int | None = None
) -> dict[str, float]:
    """:func:`outcomes` of a run straight from its change events, without building tables.

    For sweeps, compare and calibration; ``facts`` (what the outcomes read of the
    world) can be kept across runs on one world. ``at``: the run as it stood at
    that step (default: its last). Bit for bit the numbers the tables give.
    """
    if at is not None:
        trajectory = truncated(trajectory, at)
    return evaluate(from_events(setup, trajectory, facts))


def change_between(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """``after - before`` for every share, count and inequality (times to a level left out)."""
    return {
        name: after[name] - before[name]
        for name in after
        if name in before and kind_of(name) != "time_to"
    }


@dataclass(frozen=True)
class Window:
    """Where outcomes are measured: at the last step, at step ``at``, or ``between`` two steps.

    ``between = (a, b)`` gives each share, count and inequality at ``b`` minus at ``a``.
    """

    at: int | None = None
    between: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.at is not None and self.between is not None:
            raise ValueError("give a step (at) or two steps (between), not both")
        if self.between is not None and not 0 <= self.between[0] < self.between[1]:
            raise ValueError(f"between needs 0 <= A < B, got {self.between[0]}:{self.between[1]}")
        if self.at is not None and self.at < 0:
            raise ValueError(f"at needs a step >= 0, got {self.at}")

    @property
    def last_step(self) -> int | None:
        """The last step the window reads (None: the run's last)."""
        return self.between[1] if self.between else self.at

    def check(self, steps: int, where: str = "--at/--between") -> None:
        """Refuse a window past the run's ``steps``."""
        if self.last_step is not None and self.last_step > steps:
            raise ValueError(f"{where}: step {self.last_step} is after the run's last step {steps}")

    def describe(self) -> str:
        if self.between:
            return f"change from step {self.between[0]} to step {self.between[1]}"
        return f"at step {self.at}" if self.at is not None else "at the last step"

    def horizon(self, steps: int) -> int:
        """Where a time never reached is censored: the window's end."""
        return self.last_step if self.last_step is not None else steps

    def of_events(self, setup, trajectory, facts: WorldFacts | None = None) -> dict[str, float]:
        """The outcomes of one run's events in this window."""
        if self.between is None:
            return outcomes_from_events(setup, trajectory, facts, at=self.at)
        a, b = self.between
        before = outcomes_from_events(setup, trajectory, facts, at=a)
        return change_between(before, outcomes_from_events(setup, trajectory, facts, at=b))


def parse_between(text: str) -> tuple[int, int]:
    """``"60:120"`` as (60, 120); a clear ValueError otherwise."""
    first, sep, second = text.partition(":")
    try:
        pair = (int(first), int(second))
    except ValueError:
        pair = None
    if not sep or pair is None or not 0 <= pair[0] < pair[1]:
        raise ValueError(f"must be two steps A:B with 0 <= A < B, e.g. 60:120; got {text!r}")
    return pair
