"""Which parameters are estimated, and how a parameter vector becomes the model's numbers.

Estimable (everything else is held at the scenario's value):

- ``mechanisms.innovation.rate``, ``mechanisms.vertical.top_down_rate`` and
  ``mechanisms.vertical.deterrence``: as in the scenario;
- ``mechanisms.horizontal.strength``: scales every tie layer not estimated on
  its own, with the scenario's relative weights (proximity_weight, ...);
- ``layers.<name>``, one per tie layer, or ``layers.networks`` for all network
  layers at once: beta_l, the persuasion probability per unit of the layer's own
  tie weight and per unit of prestige. Strength and a layer's weight enter the
  hazard only as their product, so this product is what is identified; at the
  scenario's values beta_l = strength x proximity_weight (twinning_weight,
  network_weight for a network, whose tie_weight stays in its ties).

Governments' own adoption (bottom_up_rate, government_rate), exits
(abandonment, preemption) and compliance_steps are not in this likelihood: it
conditions on the governments' histories and on the cities' drops, so those
parameters are refused with a message that says so.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from diffusion_sim.errors import InputError
from diffusion_sim.scenario import Scenario, bounds, field_at
from diffusion_sim.studies.estimation.exposure import Exposure

RATES = {
    "mechanisms.innovation.rate": ("innovation", "innovation rate"),
    "mechanisms.horizontal.strength": ("horizontal", "horizontal strength"),
    "mechanisms.vertical.top_down_rate": ("vertical", "top-down rate"),
    "mechanisms.vertical.deterrence": ("vertical", "deterrence"),
}
"""Estimable scenario keys: the mechanism that must be on, and a label."""
LOG_INTERVALS = (
    "mechanisms.innovation.rate",
    "mechanisms.horizontal.strength",
    "mechanisms.vertical.top_down_rate",
)
"""Rates whose likelihood is skewed near 0: their intervals are taken on the log scale."""
LAYER = "layers."
NETWORKS = "networks"
"""``layers.networks``: one beta shared by every network layer (the network_weight)."""
LAYER_UPPER = 10.0
"""Upper bound of a layer's beta: strength (at most 1) x a layer weight (at most 10)."""
FALLBACK_START = 1e-3
"""Start of a parameter whose scenario value is 0 (a layer switched off)."""
DEFAULT = (
    "mechanisms.innovation.rate",
    "mechanisms.horizontal.strength",
    "mechanisms.vertical.top_down_rate",
)


@dataclass(frozen=True)
class Parameter:
    """One estimated parameter: its key, the scenario's value, bounds, start."""

    key: str
    label: str
    value: float
    upper: float
    start: float
    layers: tuple[int, ...] = ()
    """For a layer parameter: the exposure layers it sets."""

    @property
    def log_interval(self) -> bool:
        """Whether its interval is a Wald interval on the log scale (see :mod:`.fit`)."""
        return self.key in LOG_INTERVALS


@dataclass(frozen=True)
class Values:
    """The model's numbers at a parameter vector (held ones at the scenario's values)."""

    innovation_rate: float
    top_down_rate: float
    deterrence: float
    beta: np.ndarray
    """Per tie layer (exposure order)."""


def canonical(name: str, scenario: Scenario, flag: str = "--params") -> str:
    """The full key a user's name means (``innovation.rate`` -> ``mechanisms.innovation.rate``).

    Raises
    ------
    InputError
        An unknown key, or a scenario key this likelihood does not contain.
    """
    name = name.strip()
    if name.startswith(LAYER):
        return name
    for key in RATES:
        if name == key or key.endswith("." + name):
            return key
    estimable = ", ".join([*RATES, "layers.<layer>", "layers.networks"])
    full = name if name.startswith("mechanisms.") else f"mechanisms.{name}"
    if field_at(type(scenario), name) is None and field_at(type(scenario), full) is None:
        close = difflib.get_close_matches(name, [*RATES, *(k.split(".", 1)[1] for k in RATES)])
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise InputError(f"{flag} {name}: unknown key{hint}; estimable: {estimable}")
    raise InputError(
        f"{flag} {name}: a scenario key, but not one this likelihood contains: it models "
        "cities' adoptions given the governments' histories and the cities' drops, so "
        "governments' own adoption, exits and compliance_steps are held as the scenario "
        f"sets them; estimable: {estimable}"
    )


def check_scenario(scenario: Scenario, keys: Sequence[str], flag: str = "--params") -> None:
    """Refuse what the likelihood cannot do, before any data is read or world built."""
    mech = scenario.mechanisms
    if mech.horizontal.enabled and mech.horizontal.rule == "threshold":
        raise InputError(
            "key 'mechanisms.horizontal.rule': estimate needs rule = \"contagion\"; under the "
            "threshold rule a city's horizontal hazard is 0 or 1 given a latent threshold, so "
            "its likelihood needs the thresholds' distribution, which estimate does not "
            "model; pass --set mechanisms.horizontal.rule=contagion (or switch horizontal off)",
            source=scenario.source,
        )
    if len(set(keys)) != len(keys):
        raise InputError(f"{flag}: a parameter is named twice; name each once")
    for key in keys:
        if key.startswith(LAYER):
            if not mech.horizontal.enabled:
                raise InputError(
                    f"{flag} {key}: key 'mechanisms.horizontal.enabled' is false in the "
                    "scenario; switch it on (--set mechanisms.horizontal.enabled=true)"
                )
            continue
        mechanism = RATES[key][0]
        if not getattr(mech, mechanism).enabled:
            raise InputError(
                f"{flag} {key}: key 'mechanisms.{mechanism}.enabled' is false in the scenario, "
                f"so {key} does not act; switch it on (--set mechanisms.{mechanism}.enabled=true)"
            )


def default_keys(scenario: Scenario, strength: bool = True) -> list[str]:
    """Innovation rate, horizontal strength and top-down rate, where their mechanism is on.

    Without the strength when layers get their own weights (``strength=False``).
    """
    mech = scenario.mechanisms
    keys = [k for k in DEFAULT if getattr(mech, RATES[k][0]).enabled]
    return [k for k in keys if strength or k != "mechanisms.horizontal.strength"]


def resolve(
    scenario: Scenario, keys: Sequence[str], exposure: Exposure, flag: str = "--params"
) -> list[Parameter]:
    """The parameters named by ``keys`` (full keys, see :func:`canonical`) on this exposure."""
    h = scenario.mechanisms.horizontal
    params, covered = [], set()
    for key in keys:
        if not key.startswith(LAYER):
            field = field_at(type(scenario), key)
            upper = bounds(field).get("le", 1.0) if field is not None else 1.0
            value = float(_read(scenario, key))
            start = value if value > 0 else FALLBACK_START
            params.append(Parameter(key, RATES[key][1], value, float(upper), start))
            continue
        name = key[len(LAYER) :]
        if name == NETWORKS and NETWORKS not in exposure.layers:
            layers = tuple(exposure.layers.index(n) for n in exposure.network_layers)
            if not layers:
                raise InputError(f"{flag} {key}: the world has no network layers")
        elif name in exposure.layers:
            layers = (exposure.layers.index(name),)
        else:
            known = ", ".join([*exposure.layers, NETWORKS])
            close = difflib.get_close_matches(name, [*exposure.layers, NETWORKS], n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise InputError(
                f"--layers {name} ({key}): no tie layer '{name}' in this world{hint}; "
                f"layers: {known}"
            )
        if covered & set(layers):
            raise InputError(f"{flag} {key}: a layer is named twice (alone and in 'networks')")
        covered |= set(layers)
        value = h.strength * float(exposure.scenario_weight[layers[0]])
        start = value if value > 0 else (h.strength if h.strength > 0 else FALLBACK_START)
        params.append(Parameter(key, f"beta {name}", value, LAYER_UPPER, start, layers))
    if "mechanisms.horizontal.strength" in keys and covered >= set(range(len(exposure.layers))):
        raise InputError(
            f"{flag}: mechanisms.horizontal.strength and a beta for every layer are not "
            "identifiable together (strength only scales the layers not named); drop one"
        )
    return params


def _read(scenario: Scenario, key: str) -> float:
    value = scenario
    for part in key.split("."):
        value = getattr(value, part)
    return float(value)


class Parametrisation:
    """Maps a parameter vector to :class:`Values` (see the module docstring)."""

    def __init__(self, scenario: Scenario, exposure: Exposure, params: Sequence[Parameter]):
        self.params = list(params)
        mech = scenario.mechanisms
        self.held = {
            "mechanisms.innovation.rate": mech.innovation.rate,
            "mechanisms.vertical.top_down_rate": mech.vertical.top_down_rate,
            "mechanisms.vertical.deterrence": mech.vertical.deterrence,
            "mechanisms.horizontal.strength": mech.horizontal.strength,
        }
        self.weight = exposure.scenario_weight

    @property
    def keys(self) -> list[str]:
        return [p.key for p in self.params]

    @property
    def start(self) -> np.ndarray:
        return np.array([p.start for p in self.params])

    @property
    def upper(self) -> np.ndarray:
        return np.array([p.upper for p in self.params])

    @property
    def truth(self) -> np.ndarray:
        """The scenario's values of the parameters."""
        return np.array([p.value for p in self.params])

    def values(self, theta: Sequence[float]) -> Values:
        """The model's numbers at ``theta``: named ones from it, the rest from the scenario."""
        numbers = dict(self.held)
        for p, x in zip(self.params, theta, strict=True):
            if not p.layers:
                numbers[p.key] = float(x)
        beta = numbers["mechanisms.horizontal.strength"] * self.weight
        for p, x in zip(self.params, theta, strict=True):
            if p.layers:
                beta[list(p.layers)] = float(x)
        return Values(
            innovation_rate=numbers["mechanisms.innovation.rate"],
            top_down_rate=numbers["mechanisms.vertical.top_down_rate"],
            deterrence=numbers["mechanisms.vertical.deterrence"],
            beta=beta,
        )
