"""The dashboard's state and the actions that change it (no layout here: see page.py, tabs.py).

State lives in Solara reactive variables, one set per browser tab (Solara
scopes module-level reactives to the connection). Following Mesa's SolaraViz
conventions, the run is rebuilt from its parameters (scenario, overrides,
mechanism switches, seed, engine) on reset, and Reset / Play / Step drive it;
unlike SolaraViz's generic controller, a change of any parameter resets the
run at once, so what is on screen always matches the inputs.

Only keys of the scenario catalog travel from the browser, never paths;
typed values are parsed as numbers or allowed words, never evaluated.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import solara

from diffusion_sim.app.learn import LESSON_WORLD, built_in_classroom
from diffusion_sim.app.links import Settings, read_query
from diffusion_sim.app.params import apply_overrides
from diffusion_sim.app.session import (
    LiveRun,
    cached_world,
    default_engine,
    mechanism_switches,
    open_scenario,
    scenario_catalog,
    with_switches,
)
from diffusion_sim.app.views import NETWORK_VIEW_MAX_CITIES
from diffusion_sim.errors import InputError
from diffusion_sim.scenario import Scenario

log = logging.getLogger("diffusion_sim.dashboard")

START_ENV = "DIFFUSION_SIM_DASHBOARD_SCENARIO"
"""The scenario file named on the command line (set by ``diffusion-sim dashboard``)."""
RESULTS_ENV = "DIFFUSION_SIM_DASHBOARD_RESULTS"
"""Where exports go (default: ./results, as for ``diffusion-sim run``)."""
BUILT_IN_CLASSROOM = LESSON_WORLD
TABS = ("Run", "Parameters", "Governments", "Compare", "Learn", "Export")

CATALOG: dict[str, Path] = scenario_catalog(os.environ.get(START_ENV) or None)
KEYS: list[str] = [*CATALOG, BUILT_IN_CLASSROOM]
LEARN_WORLDS: list[str] = [BUILT_IN_CLASSROOM, *(["classroom"] if "classroom" in CATALOG else [])]
"""The Learn tab's worlds: the lesson's (docs/teaching.md) first, then the real-city classroom."""


def _initial_key() -> str:
    if os.environ.get(START_ENV):
        return KEYS[0]
    return "embedded" if "embedded" in CATALOG else KEYS[0]


scenario_key = solara.reactive(_initial_key())
overrides: solara.Reactive[dict[str, Any]] = solara.reactive({})
switches: solara.Reactive[dict[str, bool]] = solara.reactive({})
seed = solara.reactive(0)
engine = solara.reactive("vectorized")
live: solara.Reactive[LiveRun | None] = solara.reactive(None)
version = solara.reactive(0)
playing = solara.reactive(False)
speed = solara.reactive(4)
view_kind = solara.reactive("map")
colour_by = solara.reactive("channel")
selected_city: solara.Reactive[int | None] = solara.reactive(None)
notice: solara.Reactive[str | None] = solara.reactive(None)
page_error: solara.Reactive[str | None] = solara.reactive(None)
learn_world = solara.reactive(LEARN_WORLDS[0])
"""The Learn tab's world: kept here, not in the tab, so it survives a visit to another tab."""
tab = solara.reactive(0)
controls_open = solara.reactive(True)


def results_root() -> Path:
    """Where the Export tab saves runs."""
    return Path(os.environ.get(RESULTS_ENV) or "results")


def base_scenario(key: str) -> Scenario:
    """The scenario behind a catalog key (or the built-in classroom world)."""
    if key == BUILT_IN_CLASSROOM:
        return built_in_classroom()
    return open_scenario(key, CATALOG)


def guarded(action: Callable[..., Any]) -> Callable[..., Any]:
    """Run a browser action; bad input becomes a message on the page, never a traceback."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return action(*args, **kwargs)
        except InputError as exc:
            page_error.set(str(exc))
        except Exception as exc:  # keep the page alive; details go to the server log
            log.exception("dashboard action failed")
            page_error.set(f"something went wrong ({type(exc).__name__}): {exc}")
        return None

    return wrapper


def current_scenario(extra: dict[str, Any] | None = None) -> Scenario:
    """The scenario on screen: file, overrides, then mechanism switches (validated)."""
    scenario = apply_overrides(
        base_scenario(scenario_key.value), {**overrides.value, **(extra or {})}
    )
    return with_switches(scenario, switches.value) if switches.value else scenario


def rebuild(reason: str | None = None) -> None:
    """A new run from the current parameters, at step 0 (the world is reused from the cache)."""
    playing.set(False)
    run = LiveRun(current_scenario(), seed.value, engine=engine.value)
    live.set(run)
    selected_city.set(None)
    version.set(version.value + 1)
    page_error.set(None)
    notice.set(reason)


@guarded
def choose_scenario(key: str) -> None:
    """Open a scenario of the catalog with its own seed, switches and a fitting engine and view."""
    if key not in KEYS:
        raise InputError(f"unknown scenario {key!r}")
    base = base_scenario(key)
    n_cities = cached_world(base, base.run.seed).n_cities  # real worlds: known once built
    scenario_key.set(key)
    overrides.set({})
    switches.set(mechanism_switches(base))
    seed.set(base.run.seed)
    engine.set(default_engine(n_cities))
    view_kind.set("map" if n_cities > NETWORK_VIEW_MAX_CITIES else "network")
    rebuild(f"opened {key}: {n_cities:,} cities, {base.run.steps} {base.run.step_unit}s")


@guarded
def open_page(search: str | None) -> None:
    """At page load: the settings a link names (its URL query), else the scenario at start.

    A link that names something the page cannot set opens the scenario at start
    and says what was wrong with the link.
    """
    try:
        settings = read_query(search, KEYS, base_scenario)
    except InputError as exc:
        choose_scenario(scenario_key.value)
        page_error.set(f"{exc}; opened {scenario_key.value} instead")
        return
    if settings is None:
        choose_scenario(scenario_key.value)
    else:
        apply_settings(settings)


def apply_settings(settings: Settings) -> None:
    """Open a scenario with a link's seed, engine, switches and changed parameters."""
    choose_scenario(settings.scenario)
    overrides.set(dict(settings.overrides))
    switches.set(dict(settings.switches))
    seed.set(settings.seed)
    engine.set(settings.engine)
    changed = f", {len(settings.overrides)} parameter(s) changed" if settings.overrides else ""
    guarded(rebuild)(f"opened from a link: {settings.scenario}, seed {settings.seed}{changed}")


@guarded
def switch_mechanism(name: str, on: bool) -> None:
    """Switch one of Kern's mechanisms on or off; the run resets."""
    switches.set({**switches.value, name: bool(on)})
    rebuild(f"run reset: {name} switched {'on' if on else 'off'}")


def commit_parameter(key: str, value: Any) -> str | None:
    """Apply a valid value and reset the run; return the scenario's objection otherwise."""
    proposed = {**overrides.value, key: value}
    try:
        apply_overrides(base_scenario(scenario_key.value), proposed)
    except InputError as exc:
        return str(exc).replace("invalid scenario:", "").strip()
    overrides.set(proposed)
    guarded(rebuild)(f"run reset: {key} = {value}")
    return None


@guarded
def step_run(count: int = 1) -> None:
    """Advance the live run by up to ``count`` steps."""
    run = live.value
    if run is not None and run.step(count):
        version.set(version.value + 1)
