"""The vectorized engine's shortcuts change nothing: incremental equals full evaluation.

The engine keeps every city's hazard and recomputes it only where its inputs
changed (diffusion_sim/engine.py). These tests check, step by step on randomized
runs, that the kept hazards equal a from-scratch evaluation of every city, and
that a run which recomputes everything every step gives the same events.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import diffusion_sim as ds
from diffusion_sim.engines.vectorized import VectorizedEngine, kernels
from diffusion_sim.model.setup import NO_MANDATE, build_setup
from tests.conftest import only, small

EVENTS = [
    {"step": 3, "kind": "summit", "boost": 3.0, "duration": 4},
    {"step": 5, "kind": "network_opens", "network": "c40", "size": 80},
    {"step": 8, "kind": "stance", "government": "Nation 1", "stance": "hostile", "preempts": True},
    {"step": 10, "kind": "stance", "government": "Nation 2", "stance": "supportive"},
    {"step": 12, "kind": "government_adopts", "government": "Nation 3"},
    {"step": 20, "kind": "government_withdraws", "government": "Nation 3"},
    {"step": 22, "kind": "pioneers", "cities": ["City 200"], "count": 3},
]


class CheckedEngine(VectorizedEngine):
    """Asserts, every step, that the kept hazards equal a full evaluation."""

    checks = 0

    def _bring_hazards_up_to_date(self, t: int) -> None:
        super()._bring_hazards_up_to_date(t)
        np.testing.assert_array_equal(self.hazard, self.full_hazard(t))
        # Pressure kept by incremental updates equals scipy's product from scratch...
        scipy_pressure = self.influence.by_source.T @ self.adopted.astype(np.float64)
        np.testing.assert_array_equal(self.pressure, scipy_pressure)
        # ... and the engine's own full pass (used after network events).
        np.testing.assert_array_equal(self.full_pressure(), scipy_pressure)
        CheckedEngine.checks += 1


class FullEngine(VectorizedEngine):
    """Recomputes every city's hazard every step: the plain reference."""

    def _bring_hazards_up_to_date(self, t: int) -> None:
        self._refresh_all = True
        super()._bring_hazards_up_to_date(t)


def scenarios() -> list[tuple[str, ds.Scenario]]:
    base = small(ds.load_scenario("scenarios/embedded.toml"), cities=600, steps=35)
    rng = np.random.default_rng(2026)
    cases = []
    for rule in ("threshold", "contagion"):
        for k in range(3):
            overrides = {
                "mechanisms.horizontal.rule": rule,
                "mechanisms.horizontal.strength": float(rng.uniform(0.05, 0.4)),
                "mechanisms.horizontal.prestige_alpha": float(rng.choice([0.0, 0.5, 1.0])),
                "mechanisms.hierarchical.government_rate": float(rng.uniform(0.0, 0.1)),
                "mechanisms.hierarchical.compliance_steps": int(rng.integers(1, 8)),
                "mechanisms.abandonment.rate": float(rng.uniform(0.0, 0.05)),
                "governments.overrides": {"Nation 2": {"stance": "hostile", "preempts": True}},
                "events": EVENTS,
            }
            cases.append((f"{rule}-{k}", base.with_overrides(overrides)))
    hierarchical = only(base, "hierarchical", abandonment=True)
    hierarchical = hierarchical.with_overrides({"mechanisms.hierarchical.government_rate": 0.05})
    cases.append(("hierarchical-alone", hierarchical))
    cases.append(("horizontal-alone", only(base, "horizontal")))
    # A set event of every settable key, mid-run: kept hazards refreshed where it acts.
    settable = [
        {"step": 6 + 2 * k, "kind": "set", "key": key, "value": value}
        for k, (key, value) in enumerate(SET_VALUES.items())
    ]
    cases.append(("set-events", base.with_overrides({"events": EVENTS + settable})))
    return cases


SET_VALUES = {
    "mechanisms.innovation.rate": 0.03,
    "mechanisms.vertical.top_down_rate": 0.2,
    "mechanisms.vertical.bottom_up_rate": 0.4,
    "mechanisms.vertical.lobbying_weight": 2.0,
    "mechanisms.hierarchical.government_rate": 0.08,
    "mechanisms.hierarchical.compliance_steps": 3,
    "mechanisms.hierarchical.preemption_enforcement": 0.3,
    "mechanisms.abandonment.rate": 0.04,
    "mechanisms.abandonment.monitoring_reduction": 0.1,
}
"""A new value for every key a set event may change (tests/test_events.py checks the list)."""


CASES = scenarios()


def run(engine_class, scenario: ds.Scenario, seed: int):
    world = ds.build_world(scenario)
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    engine = engine_class(build_setup(scenario, world, rng), rng)
    return engine.run(scenario.run.steps)


@pytest.mark.parametrize(("name", "scenario"), CASES, ids=[c[0] for c in CASES])
def test_kept_hazards_equal_full_evaluation_every_step(name, scenario):
    before = CheckedEngine.checks
    trajectory = run(CheckedEngine, scenario, seed=len(name))
    assert CheckedEngine.checks - before == scenario.run.steps
    assert len(trajectory.city) > 0


@pytest.mark.parametrize(("name", "scenario"), CASES[::2], ids=[c[0] for c in CASES[::2]])
def test_incremental_run_equals_full_recomputation(name, scenario):
    fast, full = run(VectorizedEngine, scenario, 3), run(FullEngine, scenario, 3)
    for field in ("city_step", "city", "city_change", "city_channel", "gov", "gov_step"):
        np.testing.assert_array_equal(getattr(fast, field), getattr(full, field))


def test_engines_agree_on_a_bigger_world():
    """Big enough that the engine takes its large-set paths (bincount, masks)."""
    scenario = small(ds.load_scenario("scenarios/embedded.toml"), cities=3000, steps=25)
    scenario = scenario.with_overrides({"events": EVENTS})
    vectorized = ds.simulate(scenario, seed=9)
    agents = ds.simulate(scenario, seed=9, engine="agents")
    pd.testing.assert_frame_equal(vectorized.events, agents.events)
    pd.testing.assert_frame_equal(vectorized.cities, agents.cities)
    pd.testing.assert_frame_equal(vectorized.government_events, agents.government_events)


@pytest.mark.parametrize("rows", [3, 400, 4500])
def test_spread_influence_adds_a_sparse_slice_and_marks_the_touched(rows):
    import scipy.sparse as sp

    rng = np.random.default_rng(rows)
    n = 5000
    matrix = sp.random_array((n, n), density=0.002, format="csr", rng=rng)
    matrix.data = np.round(matrix.data * 100) + 1
    chosen = np.sort(rng.choice(n, rows, replace=False)).astype(np.int64)
    adopted = rng.random(n) < 0.3
    for track in (True, False):
        out, stale = np.zeros(n), np.zeros(n, dtype=bool)
        stale[7] = True  # marked before: stays marked
        kernels.spread_influence(
            matrix.indptr, matrix.indices, matrix.data, chosen, -1.0, out, track, adopted, stale
        )
        np.testing.assert_array_equal(out, -np.asarray(matrix[chosen].sum(axis=0)).ravel())
        touched = set(matrix[chosen].indices.tolist()) if track else set()
        assert set(np.flatnonzero(stale).tolist()) == {i for i in touched if not adopted[i]} | {7}


def test_mandates_due_follows_the_compliance_clock():
    """Due: the step after a mandate starts, and every step while a city waits."""
    no = NO_MANDATE
    start = np.array([4, 2, 2, 2, 9, no], dtype=np.int64)
    adopted = np.array([False, False, True, False, False, False])
    blocked = np.array([False, False, False, True, False, False])
    mandated = np.arange(6, dtype=np.int64)
    due, keep = np.empty(6, dtype=np.int64), np.empty(6, dtype=np.int64)
    n_due, n_keep = kernels.mandates_due(mandated, 5, start, adopted, blocked, due, keep)
    # city 0 starts at 4 (= t - 1): due; city 1 waits under a mandate in force: due and kept;
    # 2 complied and 3 is blocked: neither; 4 starts later: kept, not due; 5 has none.
    assert due[:n_due].tolist() == [0, 1]
    assert keep[:n_keep].tolist() == [0, 1, 4]


def test_compact_matrices_hold_every_weight_exactly():
    """float32 where the integer weights fit (below 2^24), float64 kept where they do not."""
    import scipy.sparse as sp

    from diffusion_sim.model.ties import compact

    fits = sp.csr_array(np.array([[0.0, 2.0**20], [3.0, 0.0]]))
    small = compact(fits)
    assert small.data.dtype == np.float32 and small.indices.dtype == np.int32
    np.testing.assert_array_equal(small.toarray(), fits.toarray())
    too_big = sp.csr_array(np.array([[0.0, 2.0**24 + 1], [3.0, 0.0]]))
    kept = compact(too_big)
    assert kept.data.dtype == np.float64
    np.testing.assert_array_equal(kept.toarray(), too_big.toarray())
