"""What runs on a sweep's workers: batches of runs, with what they share cached per process.

A run here is :func:`diffusion_sim.simulate` followed by ``.outcomes()``, number for
number, without two costs a sweep does not need (a 1,000-city, 120-step run spent
about as long on them as in its steps):

- **tie matrices rebuilt for every run.** They depend on the world and the horizontal
  weights only (``Setup.influence``), so runs on one world share a cache of them;
- **full result tables.** A sweep keeps a few numbers per run, so the outcomes are
  computed from the change events directly (``outcomes.outcomes_from_events``), with
  the definitions of :mod:`diffusion_sim.record.outcomes`. ``tests/test_sweep_runner.py`` checks
  them against ``simulate(...).outcomes()`` run for run.

A sweep that keeps per-step ``series`` builds just the ``timeseries`` table
(``tables.timeseries_table``, as ``simulate`` does) and keeps its asked-for columns.

If the set of outcomes in :mod:`diffusion_sim.record.outcomes` changes, the lean path steps
aside and the full one runs (slower, never different).
"""

from __future__ import annotations

import collections
import json
import logging
import signal
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from distributed.core import Status
from distributed.diagnostics.plugin import WorkerPlugin

from diffusion_sim.model.setup import influence_key
from diffusion_sim.record.outcomes import Window, WorldFacts

WORLD_KEYS = ("world.", "networks.")
WORLD_CACHE_SIZE = 4
"""Worlds kept per worker process (keyed by the varied world.* and networks.* values)."""
TIES_CACHE_SIZE = 8
"""Tie-matrix caches kept per worker process (keyed by world and horizontal weights)."""


class IgnoreInterrupt(WorkerPlugin):
    """Leave Ctrl-C to the driver, which stops the workers cleanly.

    A terminal sends SIGINT to every process of the foreground group; without this,
    each local worker would print a KeyboardInterrupt traceback.
    """

    name = "diffusion-sim-ignore-interrupt"

    def setup(self, worker) -> None:
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
        except ValueError:  # not the main thread: leave the default
            pass


class QuietWhileClosing(WorkerPlugin):
    """Drop the heartbeat error a local worker logs while it closes itself.

    A worker that closes stops its heartbeat but lets one already under way finish; when
    that one meets the worker's own closed connection pool, distributed logs
    "Failed to communicate with scheduler during heartbeat" with a traceback
    (dask/distributed#7105), which a finished sweep would print after its last line. Only
    that record, and only once the worker is closing, is dropped: a heartbeat that fails
    while the worker runs is still said.
    """

    name = "diffusion-sim-quiet-while-closing"

    def setup(self, worker) -> None:
        self.logger = logging.getLogger("distributed.worker")
        self.filter = HeartbeatAtClose(worker)
        self.logger.addFilter(self.filter)

    def teardown(self, worker) -> None:
        self.logger.removeFilter(self.filter)


class HeartbeatAtClose(logging.Filter):
    """A logging filter: False for a failed heartbeat of a worker that is closing."""

    def __init__(self, worker: Any) -> None:
        super().__init__()
        self.worker = worker

    def filter(self, record: logging.LogRecord) -> bool:
        closing = self.worker.status in CLOSING
        return not (closing and record.getMessage().startswith(HEARTBEAT_FAILED))


HEARTBEAT_FAILED = "Failed to communicate with scheduler during heartbeat"
CLOSING = frozenset({Status.closing, Status.closing_gracefully, Status.closed, Status.failed})


# ------------------------------------------------------------------ caches


@dataclass
class WorkerState:
    """One sweep's base scenario and caches in one worker process."""

    base: Any
    worlds: collections.OrderedDict = field(default_factory=collections.OrderedDict)
    ties: collections.OrderedDict = field(default_factory=collections.OrderedDict)
    facts: dict[str, WorldFacts] = field(default_factory=dict)

    def world(self, scenario, key: str):
        from diffusion_sim.simulation import build_world

        world = self.worlds.get(key)
        if world is None:
            world = self.worlds[key] = build_world(scenario)
            while len(self.worlds) > WORLD_CACHE_SIZE:
                gone, _ = self.worlds.popitem(last=False)
                self.facts.pop(gone, None)
                for tie_key in [k for k in self.ties if k[0] == gone]:
                    del self.ties[tie_key]
        self.worlds.move_to_end(key)
        return world

    def ties_cache(self, world_key: str, scenario) -> dict:
        """The dict ``Setup.influence`` caches tie matrices in, shared by equal weights."""
        key = (world_key, influence_key(scenario))
        cache = self.ties.get(key)
        if cache is None:
            cache = self.ties[key] = {}
            while len(self.ties) > TIES_CACHE_SIZE:
                self.ties.popitem(last=False)
        self.ties.move_to_end(key)
        return cache

    def world_facts(self, world_key: str, world) -> WorldFacts:
        if world_key not in self.facts:
            self.facts[world_key] = WorldFacts.of(world)
        return self.facts[world_key]


_STATE: dict[str, WorkerState] = {}


def worker_state(context: dict[str, Any]) -> WorkerState:
    """This process's state for the sweep of ``context``, parsed once per sweep."""
    from diffusion_sim.scenario import parse_scenario

    state = _STATE.get(context["fingerprint"])
    if state is None:
        _STATE.clear()
        base = context["base"]
        state = _STATE[context["fingerprint"]] = WorkerState(
            parse_scenario(base, name=base.get("name"))
        )
    return state


# ------------------------------------------------------------------- runs


def run_batch(context: dict[str, Any], runs: list[tuple[int, int, int, dict]]) -> dict[str, Any]:
    """Run a batch on a worker; a run that raises is recorded with its error, not raised.

    ``context["lean"] = False`` takes the full path (``simulate(...).outcomes()``),
    for comparisons; the numbers are the same. With ``context["series"]`` the result
    also holds ``"_series"``: the kept steps of those timeseries columns, long format
    (failed runs have none).
    """
    from diffusion_sim.studies.sweep.series import batch_series, run_series

    state = worker_state(context)
    outcomes = context["outcomes"]
    series = tuple(context.get("series") or ())
    every, replicates = context.get("series_every", 1), context.get("replicates", 1)
    lean = context.get("lean", True)
    between = context.get("between")
    window = Window(at=context.get("at"), between=tuple(between) if between else None)
    columns: dict[str, Any] = {
        k: [] for k in ("point", "replicate", "seed", "status", "error", *outcomes, "_sim_s")
    }
    kept = []
    for point, replicate, seed, overrides in runs:
        started = time.perf_counter()
        try:
            values, timeseries = _run(
                state,
                overrides,
                seed,
                context["engine"],
                lean=lean,
                series=bool(series),
                window=window,
            )
            status, error = "ok", None
        except Exception as exc:  # any failure of a run is data
            values, timeseries, status = {}, None, "error"
            error = f"{type(exc).__name__}: {exc}"
        if timeseries is not None:
            run_id = point * replicates + replicate
            kept.append((point, replicate, run_id, run_series(timeseries, series, every)))
        columns["point"].append(point)
        columns["replicate"].append(replicate)
        columns["seed"].append(seed)
        columns["status"].append(status)
        columns["error"].append(error)
        for name in outcomes:
            columns[name].append(float(values.get(name, np.nan)))
        columns["_sim_s"].append(time.perf_counter() - started)
    if series:
        columns["_series"] = batch_series(kept, series)
    return columns


def run_one(
    state: WorkerState,
    overrides: dict,
    seed: int,
    engine: str,
    *,
    lean: bool = True,
    window: Window | None = None,
) -> dict[str, float]:
    """The outcomes of one run: ``simulate(base.with_overrides(overrides), seed).outcomes()``
    (in ``window``, if given)."""
    return _run(state, overrides, seed, engine, lean=lean, window=window)[0]


def _run(
    state: WorkerState,
    overrides: dict,
    seed: int,
    engine: str,
    *,
    lean: bool = True,
    series: bool = False,
    window: Window | None = None,
) -> tuple[dict[str, float], Any]:
    """A run's outcomes (in ``window``: at a step or between two; default the last step),
    and its ``timeseries`` table when ``series`` (else None).

    The table is ``tables.timeseries_table`` of the same setup and change events that
    ``simulate`` would tabulate, so the series are ``simulate(...).timeseries``'s.
    """
    from diffusion_sim.record.tables import timeseries_table
    from diffusion_sim.simulation import run_trajectory, simulate

    scenario = state.base.with_overrides(overrides)
    world_key = json.dumps(
        sorted((k, v) for k, v in overrides.items() if k.startswith(WORLD_KEYS)), default=str
    )
    world = state.world(scenario, world_key)
    window = window or Window()
    if not lean and window.last_step is None:
        result = simulate(scenario, seed, engine=engine, world=world)
        return result.outcomes(), (result.timeseries if series else None)
    # simulate()'s run, minus the manifest and the tables.
    setup, trajectory = run_trajectory(
        scenario,
        np.random.SeedSequence(seed),
        engine=engine,
        world=world,
        influence_cache=state.ties_cache(world_key, scenario),
    )
    values = window.of_events(setup, trajectory, state.world_facts(world_key, world))
    return values, (timeseries_table(setup, trajectory) if series else None)
