"""What a run reads: the world and scenario resolved into arrays both engines share.

A :class:`Setup` is built once per run from a world, a scenario and the run's
generator (which it advances by exactly two vectors: thresholds and defiance),
then read, never written, by either engine. Tie matrices are cached by the set
of active networks, so a network founded mid-run costs one rebuild.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from diffusion_sim.errors import InputError
from diffusion_sim.mechanisms import horizontal, susceptibility, vertical
from diffusion_sim.mechanisms.compose import NO_MANDATE as NO_MANDATE  # what a run reads
from diffusion_sim.mechanisms.innovation import top_pioneers
from diffusion_sim.mechanisms.registry import FURTHER
from diffusion_sim.model import ties
from diffusion_sim.model.resolving import ResolvedEvent, resolve_events, resolve_name
from diffusion_sim.model.ties import Influence
from diffusion_sim.scenario import LEVELS, Scenario
from diffusion_sim.world import World


@dataclass(eq=False)
class Setup:
    """Arrays and tables a run reads; see the module docstring."""

    scenario: Scenario
    world: World
    threshold: np.ndarray
    defiant: np.ndarray
    gov_names: tuple[str, ...]
    gov_level: np.ndarray
    city_gov: np.ndarray
    """(levels present, N) int32 government index of each city per level; G means none."""
    gov_stance0: np.ndarray
    gov_preempts0: np.ndarray
    gov_adopted0: np.ndarray
    gov_can_mandate: np.ndarray
    events: dict[int, list[ResolvedEvent]]
    pioneers: np.ndarray
    _influence_cache: dict = field(default_factory=dict)

    @property
    def n_cities(self) -> int:
        return self.world.n_cities

    @property
    def n_governments(self) -> int:
        return len(self.gov_names)

    @cached_property
    def further_hazards(self) -> np.ndarray:
        """(N, F) each further mechanism's own hazard of each city (registry.FURTHER)."""
        world = self.world
        attributes = {
            "capacity": np.asarray(world.capacity, dtype=np.float64),
            "leaning": np.asarray(world.leaning, dtype=np.float64),
            "population": world.population,
            "readiness": self.readiness,
        }
        out = np.zeros((self.n_cities, len(FURTHER)))
        for j, further in enumerate(FURTHER):
            out[:, j] = further.hazard(
                getattr(self.scenario.mechanisms, further.mechanism.name), attributes
            )
            if not np.all((out[:, j] >= 0) & (out[:, j] <= 1)):
                raise InputError(
                    f"mechanism {further.mechanism.name!r} ({further.mechanism.module}) gives "
                    "a hazard outside [0, 1]; a hazard is a probability per step"
                )
        return out

    @cached_property
    def gov_population(self) -> np.ndarray:
        """Inhabitants under each government (length G + 1; the last is 'none')."""
        totals = np.zeros(self.n_governments + 1)
        for row in self.city_gov:
            totals += np.bincount(row, weights=self.world.population, minlength=len(totals))
        return totals

    @cached_property
    def gov_cities(self) -> np.ndarray:
        """Number of cities under each government (length G + 1)."""
        counts = np.zeros(self.n_governments + 1)
        for row in self.city_gov:
            counts += np.bincount(row, minlength=len(counts))
        return counts

    @cached_property
    def gov_members(self) -> tuple[np.ndarray, np.ndarray]:
        """Cities under each government: those of g are ``order[offsets[g]:offsets[g + 1]]``.

        Lets the engine recompute only the cities under a government that changed.
        """
        gov = self.city_gov.ravel()
        order = np.argsort(gov, kind="stable") % max(self.n_cities, 1)
        offsets = np.zeros(self.n_governments + 2, dtype=np.int64)
        np.cumsum(np.bincount(gov, minlength=self.n_governments + 1), out=offsets[1:])
        return order, offsets

    @cached_property
    def readiness(self) -> np.ndarray:
        """sqrt(capacity x leaning): the quantity Kern's ladder is cut from."""
        return np.sqrt(self.world.capacity * self.world.leaning)

    @cached_property
    def susceptibility(self) -> np.ndarray:
        """Per city: s_i, the factor on its voluntary hazards (mechanisms/susceptibility.py),
        times the world's receptivity when it has one (world/receptivity.py)."""
        s = susceptibility.susceptibility(
            self.world.leaning, self.scenario.mechanisms.opposition_leaning
        )
        if self.world.receptivity is not None:
            s = s * self.world.receptivity
        return s

    @cached_property
    def deterrence(self) -> np.ndarray:
        return vertical.deterrence_factors(
            self.scenario.mechanisms.vertical.deterrence, len(self.city_gov)
        )

    @cached_property
    def response(self) -> np.ndarray:
        """Bottom-up response of a government, indexed by stance + 1."""
        v = self.scenario.mechanisms.vertical
        return np.array([v.hostile_response, v.neutral_response, v.supportive_response])

    def initial_network_sizes(self) -> dict[int, int]:
        """Active networks at step 0 and their sizes."""
        return {k: net.size for k, net in enumerate(self.world.networks) if net.founded_step == 0}

    def influence(self, network_sizes: dict[int, int]) -> Influence:
        """Tie weights with the given networks active (cached)."""
        key = tuple(sorted(network_sizes.items()))
        if key not in self._influence_cache:
            settings = self.scenario.mechanisms.horizontal
            layers = self.tie_layers(network_sizes)
            self._influence_cache[key] = ties.influence(layers, self.world.population, settings)
        return self._influence_cache[key]

    def tie_layers(self, network_sizes: dict[int, int]) -> dict[str, sp.csr_array]:
        """Each tie layer, weighted as the scenario weighs it, with the given networks active
        (:func:`diffusion_sim.model.ties.tie_layers`).

        Their sum is the tie matrix horizontal influence is built from; provenance
        and estimation read them one by one. Cached with the influence matrices
        (read them, do not write them: a world's own layer may be returned as is).
        """
        key = ("layers", *sorted(network_sizes.items()))
        if key not in self._influence_cache:
            settings = self.scenario.mechanisms.horizontal
            self._influence_cache[key] = ties.tie_layers(self.world, settings, network_sizes)
        return self._influence_cache[key]

    def layer_names(self) -> list[str]:
        """Every tie layer a run of this setup can have: the world's, then each network's."""
        return ties.layer_names(self.world)

    def network_flags(self, network_sizes: dict[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """Per city: member of an active monitoring network; its lobbying voice.

        The voice is the loudest of its active lobbying networks', in integer
        units of :data:`vertical.VOICE_UNITS` (0: in none).
        """
        saturation = self.scenario.mechanisms.vertical.voice_saturation
        monitored = np.zeros(self.n_cities, dtype=bool)
        voice = np.zeros(self.n_cities)
        for k, size in network_sizes.items():
            net = self.world.networks[k]
            members = net.members(size)
            if net.monitors:
                monitored[members] = True
            if net.lobbies:
                loudness = vertical.network_voice(len(members), saturation)
                voice[members] = np.maximum(voice[members], loudness)
        return monitored, voice


def build_governments(world: World, levels: tuple[str, ...]):
    """Governments of the levels present: names, level codes, and each city's per level."""
    n = world.n_cities
    names: list[str] = []
    level_codes: list[int] = []
    city_gov_rows = []
    for level in LEVELS:
        if level not in levels:
            continue
        if level == "region":
            labels, members = list(world.region_names), world.region.astype(np.int64)
        elif level == "nation":
            labels, members = list(world.country_names), world.country.astype(np.int64)
        elif level == "bloc":
            if not world.in_bloc.any():
                continue
            labels, members = [world.bloc_name], np.where(world.in_bloc, 0, -1)
        else:
            labels, members = [world.global_name], np.zeros(n, dtype=np.int64)
        offset = len(names)
        names.extend(labels)
        level_codes.extend([LEVELS.index(level)] * len(labels))
        city_gov_rows.append(np.where(members >= 0, members + offset, -1))
    g = len(names)
    city_gov = np.vstack(city_gov_rows) if city_gov_rows else np.empty((0, n), dtype=np.int64)
    city_gov = np.where(city_gov < 0, g, city_gov).astype(np.int32)
    return tuple(names), np.asarray(level_codes, dtype=np.int8), city_gov


def choose_pioneers(
    world: World,
    named: Sequence[int],
    count: int,
    adopted: np.ndarray | None = None,
    within: np.ndarray | None = None,
) -> np.ndarray:
    """Pioneers: the named cities and the ``count`` others with the highest capacity x leaning.

    The one place pioneers are chosen: at step 0 (:func:`build_setup`) and by a
    ``pioneers`` event (:mod:`diffusion_sim.model.events`), where cities that have
    already adopted are passed as ``adopted`` and not counted. ``within`` (a
    mask of a group of cities) keeps the others to the group, and with
    ``count`` 0 they are every city of it. Sorted by index.
    """
    named = np.asarray(named, dtype=np.int64)
    taken = np.zeros(world.n_cities, dtype=bool) if adopted is None else adopted.copy()
    taken[named] = True
    if within is not None and count == 0:
        top = np.flatnonzero(within & ~taken)
    else:
        exclude = taken if within is None else taken | ~within
        top = top_pioneers(world.capacity, world.leaning, count, exclude=exclude)
    return np.sort(np.concatenate([named, top]))


def influence_key(scenario: Scenario) -> str:
    """What the tie matrices depend on beyond the world: the horizontal settings but the
    thresholds. Runs on one world with equal keys may share an ``influence_cache``."""
    import json

    horizontal = scenario.mechanisms.horizontal.model_dump(mode="json", exclude={"thresholds"})
    return json.dumps(horizontal, sort_keys=True)


def build_setup(
    scenario: Scenario,
    world: World,
    rng: np.random.Generator,
    influence_cache: dict | None = None,
) -> Setup:
    """Resolve a scenario on a world; draws thresholds then defiance from ``rng``.

    ``influence_cache``: a dict the caller keeps across runs on one world with the
    same horizontal weights (``mechanisms.horizontal`` but its thresholds), so the
    tie matrices are built once, not per run (sweeps, calibration).
    """
    from diffusion_sim.mechanisms.hierarchical import defiance

    source = scenario.source
    mech = scenario.mechanisms
    n = world.n_cities
    threshold_uniforms = rng.random(n)
    defiance_uniforms = rng.random(n)
    t = mech.horizontal.thresholds
    if world.threshold is not None:
        threshold = np.asarray(world.threshold, dtype=np.float64)
    else:
        threshold = horizontal.draw_thresholds(
            threshold_uniforms,
            np.sqrt(world.capacity * world.leaning),  # readiness, as in the ladder
            t.distribution,
            t.mean,
            t.spread,
            t.readiness_effect,
        )
    defiant = defiance(defiance_uniforms, world.leaning, mech.hierarchical.defiance)

    gov_names, gov_level, city_gov = build_governments(world, scenario.governments.levels)
    g = len(gov_names)
    stance = np.array(
        [
            vertical.STANCE_CODES[scenario.governments.default_stance(LEVELS[lv])]
            for lv in gov_level
        ],
        dtype=np.int8,
    )
    preempts = np.zeros(g, dtype=bool)
    adopted = np.zeros(g, dtype=bool)
    for name, override in scenario.governments.overrides.items():
        k = resolve_name(name, gov_names, "government", f"governments.overrides.{name}", source)
        if override.stance is not None:
            stance[k] = vertical.STANCE_CODES[override.stance]
        preempts[k] = override.preempts
        adopted[k] = override.adopted
    mandate_levels = {LEVELS.index(lv) for lv in mech.hierarchical.mandate_levels}
    can_mandate = np.array(
        [mech.hierarchical.enabled and lv in mandate_levels for lv in gov_level], dtype=bool
    )

    events = resolve_events(scenario, world, gov_names, gov_level, city_gov)
    named = [
        resolve_name(c, world.city_names, "city", "pioneers.cities", source)
        for c in scenario.pioneers.cities
    ]
    pioneers = choose_pioneers(world, named, scenario.pioneers.count)
    return Setup(
        scenario=scenario,
        world=world,
        threshold=threshold,
        defiant=defiant,
        gov_names=gov_names,
        gov_level=gov_level,
        city_gov=city_gov,
        gov_stance0=stance,
        gov_preempts0=preempts,
        gov_adopted0=adopted,
        gov_can_mandate=can_mandate,
        events=events,
        pioneers=pioneers,
        _influence_cache={} if influence_cache is None else influence_cache,
    )
