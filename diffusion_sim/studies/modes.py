"""Kern's four types of upscaling, defined once as sets of switches.

Every place that runs "the four modes" (``compare --modes``, the Learn tab, the
tutorial, benchmarks/kern_ladder.py, the tests) reads :data:`MODES`, so they
cannot drift apart. A mode switches the four adoption mechanisms on or off and
leaves every other parameter (abandonment, rates, governments, events) as the
scenario sets it. Innovation is on in every mode: pioneers act on their own
whatever else happens [Kern 2019: leading cities act voluntarily], so each mode
adds its channel to the same voluntary base.

Hierarchical upscaling needs governments that adopt. With vertical pressure
off, the only way they do is by harmonizing on their own
(``mechanisms.hierarchical.government_rate``, default above zero) or by a
scheduled event; :func:`Mode.apply` does not invent either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from diffusion_sim.mechanisms.registry import SWITCHED, of_kern_type
from diffusion_sim.scenario import Scenario

__all__ = ["CLAIMS", "MODES", "MODE_NAMES", "SWITCHED", "Claim", "Mode", "mode"]


@dataclass(frozen=True)
class Mode:
    """One of Kern's types: its name, what Kern says of it, and the switches it sets."""

    name: str
    title: str
    kern: str
    """Kern's description (2019, pp. 136-137), as the Learn tab shows it."""
    on: tuple[str, ...]
    """Mechanisms switched on (the others of :data:`SWITCHED`, the registry's, are switched off)."""
    look_for: str
    """What a reader should look for in the mode's run."""

    @property
    def overrides(self) -> dict[str, Any]:
        """The dotted overrides the mode applies to a scenario."""
        return {f"mechanisms.{m}.enabled": m in self.on for m in SWITCHED}

    def describe(self) -> str:
        """The switches in words, e.g. ``innovation+horizontal on; vertical, hierarchical off``."""
        off = [m for m in SWITCHED if m not in self.on]
        return "+".join(self.on) + " on" + (f"; {', '.join(off)} off" if off else "")

    def apply(self, scenario: Scenario) -> Scenario:
        """The scenario in this mode (named ``<scenario>-<mode>``)."""
        changed = scenario.with_overrides(self.overrides)
        return changed.model_copy(update={"name": f"{scenario.name}-{self.name}"})


MODES: tuple[Mode, ...] = (
    Mode(
        name="horizontal",
        title="Horizontal upscaling",
        kern="Voluntary action and direct relations between leading cities. A city adopts "
        "when enough of its peers (network partners, twins, neighbours) have, weighted by "
        "their prestige. No government takes part. Kern (2019) expects it to reach mostly "
        "leaders: cities with the means and the will to act.",
        on=of_kern_type("horizontal"),
        look_for="Whether adoption stays among leaders (triangles) and their partners.",
    ),
    Mode(
        name="vertical",
        title="Vertical upscaling",
        kern="Two-way relations between cities and higher levels of government. Cities "
        "and their networks push governments to adopt (bottom-up); a supportive government "
        "that has adopted funds and encourages its cities (top-down); a hostile one deters "
        "them. Kern, Eckersley & Haupt (2023): national funding drove the 2010s, and "
        "followers depended on it more than forerunners.",
        on=of_kern_type("vertical"),
        look_for="Whether followers (circles) adopt once a government above supports it.",
    ),
    Mode(
        name="hierarchical",
        title="Hierarchical upscaling",
        kern="Harmonization at regional or national level: a government that adopts with "
        "a mandate obliges every municipality under it, which complies within a set time. A "
        "hostile government can instead preempt (forbid) the policy. Kern (2019) expects it "
        "to reach even the laggards.",
        on=of_kern_type("hierarchical"),
        look_for="Whether whole countries or regions switch, laggards (squares) included.",
    ),
    Mode(
        name="embedded",
        title="Embedded upscaling",
        kern="All three at once, with feedbacks across levels: leaders spread the policy "
        "to each other, their adoption pushes governments, governments fund followers and "
        "mandate laggards. Kern (2019) links it to polycentric governance.",
        on=SWITCHED,
        look_for="Whether it reaches furthest on every rung of the ladder.",
    ),
)
"""Kern's four types in the order of her typology."""

MODE_NAMES: tuple[str, ...] = tuple(m.name for m in MODES)


def mode(name: str) -> Mode:
    """The mode called ``name``."""
    for m in MODES:
        if m.name == name:
            return m
    raise KeyError(f"no mode {name!r}; modes: {', '.join(MODE_NAMES)}")


def mode_scenarios(scenario: Scenario) -> dict[str, Scenario]:
    """The scenario in each of Kern's modes, keyed by mode name."""
    return {m.name: m.apply(scenario) for m in MODES}


def mode_legend(scenario: Scenario) -> dict[str, str]:
    """What each mode switched, and how its governments can adopt (printed under the table)."""
    legend = {}
    for m in MODES:
        text = m.describe()
        if "hierarchical" in m.on and "vertical" not in m.on:
            rate = scenario.mechanisms.hierarchical.government_rate
            text += f"; governments adopt by harmonizing (government_rate {rate:g}) or by events"
        legend[m.name] = text
    return legend


# ------------------------------------------------------------- Kern's ladder

RUNGS = ("leaders", "followers", "laggards")
LADDER_COLUMNS = ("share_leaders", "share_followers", "share_laggards", "share_cities")


@dataclass(frozen=True)
class Claim:
    """One of Kern's expectations, as a paired difference between replicates' outcomes."""

    text: str
    """What Kern expects, as the sentence starts (the numbers are added to it)."""
    plus: tuple[str, str]
    """(mode, outcome) whose value is added ..."""
    minus: tuple[tuple[str, str], ...]
    """... minus the largest of these in the same replicate."""
    margin: float
    """The difference the claim needs: its 95% interval must lie above this."""


CLAIMS: tuple[Claim, ...] = (
    Claim(
        "horizontal alone reaches leaders at least 0.2 more than laggards",
        ("horizontal", "share_leaders"),
        (("horizontal", "share_laggards"),),
        0.2,
    ),
    Claim(
        "hierarchical reaches at least 0.2 more laggards than horizontal",
        ("hierarchical", "share_laggards"),
        (("horizontal", "share_laggards"),),
        0.2,
    ),
    Claim(
        "vertical reaches more followers than horizontal",
        ("vertical", "share_followers"),
        (("horizontal", "share_followers"),),
        0.0,
    ),
    Claim(
        "embedded reaches the most cities",
        ("embedded", "share_cities"),
        tuple((m.name, "share_cities") for m in MODES if m.name != "embedded"),
        0.0,
    ),
)
"""Kern's ladder (2019, abstract; pp. 136-137) as claims a run of the four modes can test."""


def ladder_runs(
    scenario: Scenario, replicates: int = 20, seed: int = 2019, world=None, on_run=None
):
    """Per mode and replicate: the shares adopted on each rung, on one world, common seeds.

    Replicate seeds come from one ``SeedSequence(seed).spawn(replicates)`` shared by
    every mode, so replicate i of two modes differs only by the mode's switches.
    ``on_run(mode, replicate)``, if given, is called after each run (progress on screen).
    """
    import pandas as pd

    from diffusion_sim.simulation import build_world, simulate

    world = build_world(scenario, seed=seed) if world is None else world
    children = np.random.SeedSequence(seed).spawn(replicates)
    rows = []
    for m in MODES:
        changed = m.apply(scenario)
        for i, child in enumerate(children):
            sequence = np.random.SeedSequence(child.entropy, spawn_key=child.spawn_key)
            result = simulate(changed, sequence, world=world)
            out = result.outcomes()
            rows.append({"mode": m.name, "replicate": i, **{k: out[k] for k in LADDER_COLUMNS}})
            if on_run is not None:
                on_run(m.name, i)
    return pd.DataFrame(rows)


def ladder_table(runs) -> tuple[Any, Any]:
    """Means with 95% intervals per mode and rung, and each claim's paired difference.

    Intervals are statistics.bootstrap_interval's (a fixed Generator), within [0, 1].
    Returns (table indexed by mode, claims with difference, interval and verdict).
    """
    import pandas as pd

    from diffusion_sim.record.statistics import BOOTSTRAP_SEED, bootstrap_interval

    rng = np.random.default_rng(BOOTSTRAP_SEED)
    wide = runs.set_index(["mode", "replicate"])
    rows = []
    for m in MODES:
        row: dict[str, Any] = {"mode": m.name}
        for column in LADDER_COLUMNS:
            mean, low, high, _ = bootstrap_interval(wide.loc[m.name, column].to_numpy(), rng)
            row.update({column: mean, f"{column}_low": low, f"{column}_high": high})
        rows.append(row)
    claims = []
    for claim in CLAIMS:
        plus = wide.loc[claim.plus[0], claim.plus[1]].to_numpy()
        minus = np.max([wide.loc[m, c].to_numpy() for m, c in claim.minus], axis=0)
        diff, low, high, n = bootstrap_interval(plus - minus, rng)
        claims.append(
            {
                "claim": claim.text,
                "difference": diff,
                "low": low,
                "high": high,
                "margin": claim.margin,
                "holds": bool(low > claim.margin) if n >= 2 else False,
            }
        )
    return pd.DataFrame(rows).set_index("mode"), pd.DataFrame(claims)


def ladder_sentences(claims) -> list[str]:
    """One sentence per claim, written from the numbers (never fixed text)."""
    out = []
    for row in claims.itertuples(index=False):
        verdict = "shown" if row.holds else "NOT shown"
        out.append(
            f"Kern: {row.claim}. {verdict.capitalize()} here: difference {row.difference:+.2f} "
            f"(95% interval {row.low:+.2f} to {row.high:+.2f}; needs above {row.margin:+.2f})."
        )
    return out


def format_ladder(table, claims, title: str) -> str:
    """The ladder as a Markdown table with intervals, then the sentences."""
    head = "| mode | leaders | followers | laggards | all cities |\n|---|---|---|---|---|"
    lines = [f"**{title}**", "", head]
    for name, row in table.iterrows():
        cells = [
            f"{row[c]:.2f} [{row[c + '_low']:.2f}, {row[c + '_high']:.2f}]" for c in LADDER_COLUMNS
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("")
    lines += [f"- {s}" for s in ladder_sentences(claims)]
    return "\n".join(lines)
