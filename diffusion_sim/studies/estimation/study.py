"""``estimate``: from per-city data to fitted mechanism parameters, in the order of the work.

Everything that can be refused without a world is refused first (keys, the
scenario's rule), then the data are read and checked, then the world and its
setup are built (for a run's own events: from the run's seeds, so defiance and
the world are the run's), the cells and exposure built once, and the
likelihood maximised, compared across layer sets and used for attribution.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from diffusion_sim.errors import InputError
from diffusion_sim.model.setup import Setup, build_setup
from diffusion_sim.record.results import Result
from diffusion_sim.scenario import Scenario
from diffusion_sim.studies.calibration.data import PERIODS, Adoptions, read_adoptions
from diffusion_sim.studies.estimation import attribution, coordination, panel
from diffusion_sim.studies.estimation.exposure import Exposure, build_exposure
from diffusion_sim.studies.estimation.fit import maximise
from diffusion_sim.studies.estimation.histories import (
    Histories,
    histories_from_result,
    read_histories,
)
from diffusion_sim.studies.estimation.layers import layer_table
from diffusion_sim.studies.estimation.likelihood import Likelihood
from diffusion_sim.studies.estimation.parameters import (
    LAYER,
    Parametrisation,
    canonical,
    check_scenario,
    default_keys,
    resolve,
)
from diffusion_sim.studies.estimation.report import Estimate, write_panel
from diffusion_sim.studies.estimation.timeline import Cells, build_cells
from diffusion_sim.world import World

SAME_WORLD = ("world", "networks", "governments", "events", "pioneers")
"""Sections of a run's scenario that must match the one its events are read under."""


@dataclass(eq=False)
class Prepared:
    """The data on the model's grid: setup, histories, cells at risk and exposure."""

    setup: Setup
    histories: Histories
    cells: Cells
    exposure: Exposure
    seeds: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def parameter_keys(
    scenario: Scenario, params: Sequence[str] | None, layers: Sequence[str] = ()
) -> list[str]:
    """Full keys of ``--params`` and ``--layers``, checked.

    The default parameters are the three rates whose mechanism is on, without the
    strength when layers are named (each layer's weight then stands for it).
    """
    if params:
        keys = [canonical(k, scenario) for k in params]
    else:
        keys = default_keys(scenario, strength=not layers)
    if any(k == "all" for k in layers):
        keys.append(f"{LAYER}*")
    else:
        keys += [f"{LAYER}{name.strip()}" for name in layers]
    check_scenario(scenario, keys)
    return keys


def prepare(
    scenario: Scenario,
    data: str | Path | Adoptions | Result | Histories,
    *,
    world: World | None = None,
    seed: int | None = None,
    start: str | None = None,
    governments: str | Path | None = None,
    unmatched: str = "error",
    coordinators: bool = False,
) -> Prepared:
    """Read the data and build what every likelihood evaluation reuses.

    ``coordinators``: with the JRC file on a real world, the coordinators of the
    signatories outside the world's universe become regional governments
    (:mod:`diffusion_sim.studies.estimation.coordination`).
    """
    from diffusion_sim.simulation import build_world

    began = time.perf_counter()
    notes: list[str] = []
    result = None
    if isinstance(data, str | Path) and Path(data).is_dir():
        result = Result.load(data)
        result.manifest.setdefault("folder", str(data))
    elif isinstance(data, Result):
        result = data
    if result is not None:
        info = result.manifest.get("seed") or {}
        sequence = np.random.SeedSequence(
            info.get("entropy", scenario.run.seed), spawn_key=tuple(info.get("spawn_key", ()))
        )
        notes += _compare_scenarios(scenario, result.manifest.get("scenario"))
    else:
        sequence = np.random.SeedSequence(scenario.run.seed if seed is None else seed)
    if world is None:
        entropy = sequence.entropy if isinstance(sequence.entropy, int) else None
        world = build_world(scenario, seed=entropy)
    starts: dict = {}
    if coordinators:
        if result is not None or isinstance(data, Histories):
            raise InputError("--coordinators: needs --data (the JRC Covenant of Mayors file)")
        data = data if isinstance(data, Adoptions) else read_adoptions(data)
        world, starts, note = coordination.coordinator_world(
            data, world, scenario.world.min_population
        )
        notes.append(note)
    if result is not None:
        cities = result.manifest.get("world", {}).get("cities", world.n_cities)
        if cities != world.n_cities:
            raise InputError(
                f"{result.manifest.get('folder', 'the result')}: its world has {cities} cities, "
                f"the scenario's {world.n_cities}; give the scenario the run was made with"
            )
    setup = build_setup(scenario, world, np.random.default_rng(sequence))
    if result is not None:
        histories = histories_from_result(result)
    elif isinstance(data, Histories):
        histories = data
    else:
        histories = read_histories(
            data, setup, start=start, governments=governments, unmatched=unmatched
        )
        if starts:
            gov, step = coordination.government_steps(
                setup.gov_names, starts, histories.start, PERIODS[scenario.run.step_unit]
            )
            histories = dataclasses.replace(
                histories,
                government=np.concatenate([histories.government, gov]),
                government_step=np.concatenate([histories.government_step, step]),
            )
        if setup.gov_preempts0.any() or any(
            e.kind == "stance" and e.preempts for es in setup.events.values() for e in es
        ):
            notes.append(
                "defiance of preemption is not in the data: drawn as a run with seed "
                f"{sequence.entropy} would draw it"
            )
    notes += list(histories.notes)
    read = time.perf_counter()
    cells = build_cells(setup, histories)
    exposure = build_exposure(setup, cells)
    seeds = {"entropy": sequence.entropy, "spawn_key": list(sequence.spawn_key)}
    timings = {"data_s": read - began, "exposure_s": time.perf_counter() - read}
    return Prepared(setup, histories, cells, exposure, seeds, notes, timings)


def _compare_scenarios(scenario: Scenario, recorded: dict | None) -> list[str]:
    if not recorded:
        return []
    given = scenario.to_dict()
    differ = [s for s in SAME_WORLD if given.get(s) != recorded.get(s)]
    if not differ:
        return []
    return [
        f"the run's own scenario differs from this one in {', '.join(differ)}: its events are "
        "read under this scenario's timeline"
    ]


def estimate(
    scenario: Scenario,
    data: str | Path | Adoptions | Result | Histories,
    params: Sequence[str] | None = None,
    layers: Sequence[str] = (),
    *,
    world: World | None = None,
    seed: int | None = None,
    start: str | None = None,
    governments: str | Path | None = None,
    unmatched: str = "error",
    coordinators: bool = False,
    layer_tests: bool = True,
    draws: int = attribution.DRAWS,
    fixed_point: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Estimate:
    """Maximum likelihood of the model's hazard for the named parameters, from per-city data.

    Parameters
    ----------
    scenario : Scenario
        Contagion rule (the threshold rule is refused); parameters not named are
        held at its values.
    data : path, Adoptions, Result or Histories
        A ``city,date`` CSV or JRC file (or what ``read_adoptions`` read from it),
        a run's results folder, or a run's result.
    params : sequence of str, optional
        Keys such as ``innovation.rate``, ``horizontal.strength``,
        ``vertical.top_down_rate``, ``vertical.deterrence``, ``layers.<name>``;
        default: the three rates whose mechanism is on.
    layers : sequence of str
        Tie layers to give a beta each (``networks``: all network layers as one;
        ``all``: every layer); compared by likelihood ratio when ``layer_tests``.
    seed : int, optional
        For CSV data: the seed of the setup's draws (defiance) and of the
        attribution's parameter draws (default ``run.seed``).
    start, governments, unmatched
        See :func:`diffusion_sim.studies.estimation.histories.read_histories`.
    coordinators : bool
        Coordinators as regional governments, from the rows outside the world's
        universe (see :func:`prepare`); the fitted rows' coordinator field is held out
        and scores P(vertical) (``Estimate.validation``).
    draws : int
        Parameter draws for the intervals of the channel and layer shares.
    fixed_point : bool
        Round contagion weights as the engines do (hazards equal theirs; not smooth).
    """
    say = progress or (lambda message: None)
    keys = parameter_keys(scenario, params, layers)
    prepared = prepare(
        scenario,
        data,
        world=world,
        seed=seed,
        start=start,
        governments=governments,
        unmatched=unmatched,
        coordinators=coordinators,
    )
    exposure = prepared.exposure
    if f"{LAYER}*" in keys:
        keys = [k for k in keys if k != f"{LAYER}*"] + [f"{LAYER}{n}" for n in exposure.layers]
    chosen = resolve(scenario, keys, exposure)
    parametrisation = Parametrisation(scenario, exposure, chosen)
    likelihood = Likelihood(
        prepared.setup, prepared.cells, exposure, parametrisation, fixed_point=fixed_point
    )
    say(
        f"{likelihood.n_adoptions} adoptions, {likelihood.n_cells} city-steps at risk, "
        f"{exposure.n_dyads} dyads; fitting {', '.join(keys)}"
    )
    timings = dict(prepared.timings)
    began = time.perf_counter()
    fit = maximise(likelihood, chosen)
    timings["fit_s"] = time.perf_counter() - began - fit.information_seconds
    timings["information_s"] = fit.information_seconds
    table = None
    if layer_tests:
        began = time.perf_counter()
        table = layer_table(likelihood, chosen, fit)
        timings["layer_tests_s"] = time.perf_counter() - began
    began = time.perf_counter()
    draw_seed = int(prepared.seeds["entropy"]) % 2**63
    per_adoption, shares = attribution.shares(likelihood, fit, draws=draws, seed=draw_seed)
    timings["attribution_s"] = time.perf_counter() - began
    per_adoption.insert(
        1, "name", np.asarray(prepared.setup.world.city_names, dtype=object)[per_adoption["city"]]
    )
    validation = None
    held_out = prepared.histories.held_out
    if held_out is not None:
        codes = prepared.setup.world.meta.get("country_codes")
        if codes is not None:
            country = np.asarray(codes, dtype=object)[prepared.setup.world.country]
            per_adoption["country"] = country[per_adoption["city"]]
        per_adoption = per_adoption.merge(held_out, on="city", how="left")
        if "country" in per_adoption:
            validation = coordination.auc_table(per_adoption[per_adoption["possible"]])
    notes = list(prepared.notes)
    for what, count in likelihood.impossible.items():
        if count:
            notes.append(f"{count} {what} under this scenario: left out of the likelihood")
    if prepared.cells.forced:
        notes.append(f"{prepared.cells.forced} adoptions by pioneers events: not in the likelihood")
    if prepared.histories.has_drops:
        notes.append("cities that dropped the policy are at risk again from the next step")
    result = Estimate(
        scenario=scenario,
        params=chosen,
        fit=fit,
        n_cells=likelihood.n_cells,
        n_adoptions=likelihood.n_adoptions,
        steps=prepared.cells.steps,
        data=prepared.histories.source,
        layer_table=table,
        adoptions=per_adoption,
        shares=shares,
        notes=notes,
        n_runs=len(likelihood.all.cells),
        seeds={"setup": prepared.seeds, "draws": draw_seed},
        timings=timings,
        prepared=prepared,
        validation=validation,
    )
    return result


def export_panel(
    prepared: Prepared,
    folder: str | Path,
    *,
    max_dyad_rows: int = panel.MAX_DYAD_ROWS,
    seed: int = 0,
) -> Path:
    """Write the panel and the capped dyad table (module :mod:`.panel`) into a new folder."""
    setup = prepared.setup
    table = panel.panel(setup, prepared.cells, prepared.exposure, prepared.histories.start)
    dyads, note = panel.dyads(setup, prepared.cells, max_dyad_rows, seed)
    manifest = {
        "kind": "estimation panel",
        "scenario_name": setup.scenario.name,
        "scenario": setup.scenario.to_dict(),
        "data": prepared.histories.source,
        "seed": {"setup": prepared.seeds, "dyad_sample": seed},
        "rows": len(table),
        "dyad_rows": len(dyads),
        "dyads": note,
        "layers": list(prepared.exposure.layers),
        "notes": prepared.notes,
    }
    return write_panel(folder, table, dyads, manifest)
