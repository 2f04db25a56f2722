"""A run the dashboard steps by hand: plain Python, no Solara, so it is testable alone.

:class:`LiveRun` owns one run of one scenario on one world: it builds the
setup and an engine (the vectorized one or the Mesa model) from the run's
seed exactly as :func:`diffusion_sim.simulate` does, so stepping it to the end
gives the same events as ``diffusion-sim run``. After each step it reads the
step's change events from the engine's recorder and keeps per-city state; its
timeseries is the saved run's own table (``tables.timeseries_table`` of the
events so far), so the dashboard's curves and ``diffusion-sim run``'s are one rule.

Worlds are cached by their specification and seed: switching a mechanism,
the seed of the run or the engine never rebuilds the world or its layout.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from diffusion_sim.errors import InputError
from diffusion_sim.mechanisms.registry import CHANNELS, KERN_TYPES
from diffusion_sim.model import provenance
from diffusion_sim.model.setup import build_setup
from diffusion_sim.model.trajectory import ADOPT
from diffusion_sim.record.results import Result, build_result, make_manifest
from diffusion_sim.record.storage import reserve_folder
from diffusion_sim.record.tables import timeseries_table
from diffusion_sim.scenario import LEVELS, Scenario, load_scenario, scenario_dirs
from diffusion_sim.simulation import build_world, make_engine
from diffusion_sim.world import LADDER_NAMES, World

Engine = Literal["vectorized", "agents"]
MECHANISMS = KERN_TYPES
"""Kern's types the dashboard switches (from the registry); embedded is all of them on."""
AGENTS_ENGINE_MAX_CITIES = 1000
"""Worlds up to this size start on the Mesa model; larger ones on the vectorized engine."""

_WORLD_CACHE: OrderedDict[str, World] = OrderedDict()
_WORLD_LOCK = threading.Lock()
_WORLD_CACHE_SIZE = 4


def world_key(scenario: Scenario, seed: int) -> str:
    """What a world depends on: its spec, its networks and the seed it is built from."""
    spec = scenario.world
    world_seed = spec.seed if spec.seed is not None else seed
    networks = {k: v.model_dump(mode="json") for k, v in scenario.networks.items()}
    return repr((spec.model_dump(mode="json"), networks, world_seed))


def cached_world(scenario: Scenario, seed: int) -> World:
    """The scenario's world, built once per spec and seed and shared by every run."""
    key = world_key(scenario, seed)
    with _WORLD_LOCK:
        if key in _WORLD_CACHE:
            _WORLD_CACHE.move_to_end(key)
            return _WORLD_CACHE[key]
    world = build_world(scenario, seed=seed)
    with _WORLD_LOCK:
        _WORLD_CACHE[key] = world
        while len(_WORLD_CACHE) > _WORLD_CACHE_SIZE:
            _WORLD_CACHE.popitem(last=False)
    return world


def default_engine(n_cities: int) -> Engine:
    """The Mesa model for small worlds (agent by agent), the vectorized engine for large ones."""
    return "agents" if n_cities <= AGENTS_ENGINE_MAX_CITIES else "vectorized"


def mechanism_switches(scenario: Scenario) -> dict[str, bool]:
    """Which of Kern's horizontal, vertical and hierarchical mechanisms are on."""
    return {m: bool(getattr(scenario.mechanisms, m).enabled) for m in MECHANISMS}


def with_switches(scenario: Scenario, switches: dict[str, bool]) -> Scenario:
    """The scenario with the named mechanisms switched on or off (others untouched)."""
    return scenario.with_overrides(
        {f"mechanisms.{m}.enabled": bool(on) for m, on in switches.items()}
    )


@dataclass(frozen=True)
class Snapshot:
    """What the views draw, copied under the run's lock so a step cannot tear it."""

    step: int
    steps: int
    adopted: np.ndarray
    channel: np.ndarray
    """Per city: code in CHANNELS of the last change (adoption or exit); -1 never changed."""
    adoption_step: np.ndarray
    timeseries: pd.DataFrame
    governments: pd.DataFrame


class LiveRun:
    """One run stepped on demand; see the module docstring.

    Parameters
    ----------
    scenario : Scenario
        The scenario, with the dashboard's overrides already applied.
    seed : int, optional
        Seed of the run; defaults to ``scenario.run.seed``.
    engine : {"vectorized", "agents"}
        The vectorized engine, or the Mesa model (:class:`DiffusionModel`).
    world : World, optional
        A world to reuse; else the cached one for the scenario and seed.
    """

    def __init__(
        self,
        scenario: Scenario,
        seed: int | None = None,
        *,
        engine: Engine = "vectorized",
        world: World | None = None,
    ) -> None:
        started = time.perf_counter()
        self.scenario = scenario
        self.seed = int(scenario.run.seed if seed is None else seed)
        self.engine_name: Engine = engine
        self.world = world if world is not None else cached_world(scenario, self.seed)
        sequence = np.random.SeedSequence(self.seed)
        self.seed_info = {"entropy": self.seed, "spawn_key": []}
        rng = np.random.default_rng(sequence)
        self.setup = build_setup(scenario, self.world, rng)
        self.engine: Any = make_engine(engine, self.setup, rng)
        n = self.world.n_cities
        self.steps = scenario.run.steps
        self.step_count = 0
        self.lock = threading.RLock()
        self.pause_requested = False
        """Set (under ``lock``) by the dashboard's Pause: the play loop takes no further step."""
        self.adopted = np.zeros(n, dtype=bool)
        self.channel = np.full(n, -1, dtype=np.int8)
        self.adoption_step = np.full(n, -1, dtype=np.int64)
        self._events_seen = 0
        self._absorb(0)
        self.build_seconds = time.perf_counter() - started
        self.step_seconds = 0.0

    # ------------------------------------------------------------------ state
    @property
    def finished(self) -> bool:
        return self.step_count >= self.steps

    def step(self, count: int = 1) -> int:
        """Advance up to ``count`` steps (never past ``run.steps``); return steps taken."""
        taken = 0
        with self.lock:
            started = time.perf_counter()
            while taken < count and not self.finished:
                t = self.step_count + 1
                self.engine.step()
                self.step_count = t
                self._absorb(t)
                taken += 1
            if taken:
                self.step_seconds = (time.perf_counter() - started) / taken
        return taken

    def _absorb(self, t: int) -> None:
        """Read the change events recorded since the last call into the per-city state.

        The run's record up to step t is kept (``self.trajectory``): the snapshot's
        timeseries, the inspector and the export read it instead of assembling it again.
        """
        trajectory = self.trajectory = self.engine.recorder.finish(t)
        new = slice(self._events_seen, len(trajectory.city))
        self._events_seen = len(trajectory.city)
        cities = trajectory.city[new]
        adopting = trajectory.city_change[new] == ADOPT
        self.adopted[cities] = adopting
        self.channel[cities] = trajectory.city_channel[new]
        adopters, steps = cities[adopting], trajectory.city_step[new][adopting]
        first = self.adoption_step[adopters] < 0
        self.adoption_step[adopters[first]] = steps[first]

    def _government_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Adopted, mandate, stance and preempts of every government, from either engine."""
        return tuple(self.engine.government_state())

    def governments(self) -> pd.DataFrame:
        """Each government now: level, adopted, mandate, preempting, stance, cities covered."""
        from diffusion_sim.record.tables import STANCES

        adopted, mandate, stance, preempts = self._government_arrays()
        setup = self.setup
        g = setup.n_governments
        gov_of_city = np.concatenate(list(setup.city_gov)) if len(setup.city_gov) else []
        adopted_cities = np.zeros(g + 1)
        if len(gov_of_city):
            adopted_cities = np.bincount(
                gov_of_city, weights=np.tile(self.adopted, len(setup.city_gov)), minlength=g + 1
            )
        cities = setup.gov_cities[:g]
        return pd.DataFrame(
            {
                "name": list(setup.gov_names),
                "level": [LEVELS[code] for code in setup.gov_level],
                "stance": [STANCES[int(s)] for s in stance],
                "adopted": adopted,
                "mandate": mandate,
                "preempting": preempts & (stance == -1),
                "cities": cities.astype(np.int64),
                "share_adopted": np.divide(
                    adopted_cities[:g], cities, out=np.zeros(g), where=cities > 0
                ),
            }
        )

    def snapshot(self) -> Snapshot:
        """A consistent copy of what the views need."""
        with self.lock:
            return Snapshot(
                step=self.step_count,
                steps=self.steps,
                adopted=self.adopted.copy(),
                channel=self.channel.copy(),
                adoption_step=self.adoption_step.copy(),
                timeseries=timeseries_table(self.setup, self.trajectory),
                governments=self.governments(),
            )

    # ------------------------------------------------------------------ export
    def result(self) -> Result:
        """The run so far as a :class:`Result`, with the manifest ``diffusion-sim run`` writes."""
        with self.lock:
            trajectory = self.trajectory
            manifest = make_manifest(self.setup, self.engine_name, self.seed_info, 0.0)
            manifest["dashboard"] = {"steps_run": self.step_count}
            return build_result(self.setup, trajectory, manifest)

    # ----------------------------------------------------------------- inspect
    def inspect(self, city: int) -> dict[str, Any]:
        """One city: attributes, governments, networks, neighbours, and why and when it adopted."""
        world, setup = self.world, self.setup
        if not 0 <= city < world.n_cities:
            raise InputError(f"no city {city}; cities are numbered 0 to {world.n_cities - 1}")
        with self.lock:
            adopted = bool(self.adopted[city])
            code = int(self.channel[city])
            step = int(self.adoption_step[city])
            trajectory = self.trajectory
        governments = [
            f"{setup.gov_names[row[city]]} ({LEVELS[setup.gov_level[row[city]]]})"
            for row in setup.city_gov
            if row[city] < setup.n_governments
        ]
        networks = [net.name for net in world.networks if city in set(net.members().tolist())]
        neighbours = []
        for name, layer in world.layers.items():  # each layer's ties, nearest first
            row = layer.indices[layer.indptr[city] : layer.indptr[city + 1]]
            away = np.hypot(world.lon[row] - world.lon[city], world.lat[row] - world.lat[city])
            for j in row[np.argsort(away, kind="stable")]:
                neighbours.append((str(world.city_names[j]), name, bool(self.adopted[j])))
        if adopted:
            last = np.flatnonzero((trajectory.city == city) & (trajectory.city_change == ADOPT))[-1]
            why = provenance.describe(
                setup,
                city,
                int(trajectory.city_step[last]),
                code,
                int(trajectory.city_source[last]),
                float(trajectory.city_source_rest[last]),
            )
        elif code >= 0:
            why = f"dropped the policy ({CHANNELS[code]})" + (
                f"; first adopted at step {step}" if step >= 0 else ""
            )
        else:
            why = "has not adopted"
        return {
            "city": city,
            "name": str(world.city_names[city]),
            "population": int(world.population[city]),
            "capacity": float(world.capacity[city]),
            "leaning": float(world.leaning[city]),
            "readiness": float(setup.readiness[city]),
            "ladder": LADDER_NAMES[int(world.ladder[city])],
            "threshold": float(setup.threshold[city]),
            "defiant": bool(setup.defiant[city]),
            "pioneer": bool(np.isin(city, setup.pioneers)),
            "governments": governments,
            "networks": networks,
            "neighbours": neighbours,
            "adopted": adopted,
            "why": why,
        }


# ------------------------------------------------------------------ files


def scenario_catalog(extra: str | Path | None = None) -> dict[str, Path]:
    """The scenarios the page may open: ./scenarios, the checkout's, and the one named at start.

    Keys are what the picker shows; the browser only ever sends a key back,
    never a path, so no other file can be opened. Files starting with '_' are
    bases that scenarios extend, not scenarios.
    """
    catalog: dict[str, Path] = {}
    for folder in scenario_dirs():
        for path in sorted(folder.glob("*.toml")):
            if not path.name.startswith("_") and path.stem not in catalog:
                catalog[path.stem] = path
    if extra is not None:
        path = Path(extra)
        key = path.stem if path.stem not in catalog else f"{path.stem} ({path})"
        catalog = {key: path, **{k: v for k, v in catalog.items() if v != path}}
    return catalog


def open_scenario(key: str, catalog: dict[str, Path]) -> Scenario:
    """Load a scenario by its catalog key; anything else is refused."""
    if key not in catalog:
        raise InputError(f"unknown scenario {key!r}; choose one of: {', '.join(catalog)}")
    return load_scenario(catalog[key])


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def sanitize_run_name(name: str) -> str:
    """A folder name that stays inside results/: letters, digits, '.', '_' and '-' only.

    Examples
    --------
    >>> sanitize_run_name("../../etc/passwd")
    'etc-passwd'
    >>> sanitize_run_name("my run: embedded")
    'my-run-embedded'
    """
    cleaned = _UNSAFE.sub("-", name.strip()).strip("-.")
    cleaned = re.sub(r"-{2,}", "-", cleaned)[:80].strip("-.")
    if not cleaned:
        raise InputError("give the run a name with at least one letter or digit")
    return cleaned


def export_run(run: LiveRun, name: str, results_root: str | Path = "results") -> Path:
    """Save the run so far under ``results_root/<sanitized name>`` as ``diffusion-sim run`` does.

    An existing folder is never replaced: the run then goes to ``<name>-2``,
    ``<name>-3``, ... (the folder returned says which).
    """
    root = Path(results_root).resolve()
    wanted = sanitize_run_name(name)
    if (root / wanted).resolve().parent != root:  # pragma: no cover - no separators survive
        raise InputError(f"refusing to write outside {root}")
    root.mkdir(parents=True, exist_ok=True)
    folder = reserve_folder(root, wanted)  # name, name-2, ...: never an existing one
    try:
        return run.result().save(folder)
    except BaseException:
        with contextlib.suppress(OSError):
            folder.rmdir()  # only ever the empty folder claimed above
        raise
