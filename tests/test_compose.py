"""The wiring of the mechanisms (mechanisms/compose.py), written once: its forms agree.

The engines' agreement (tests/test_engines.py) and the reference's
(tests/test_performance_paths.py) check the wiring inside whole runs; here each
function is checked against its definition on random inputs, plain Python
against the compiled loops, bit for bit, and switched-off channels are exactly 0.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from diffusion_sim.mechanisms import compose, embedded, hierarchical, vertical
from diffusion_sim.mechanisms.compose import NO_MANDATE, Params

N = 400


def params(**changes) -> Params:
    base = Params(
        horizontal_rule=compose.CONTAGION_RULE,
        innovation=True,
        vertical=True,
        hierarchical=True,
        abandonment=True,
        compliance_steps=6,
        preemption_enforcement=0.3,
        abandonment_rate=0.02,
        monitoring_reduction=0.5,
        top_down_rate=0.04,
        bottom_up_rate=0.1,
        lobbying_weight=0.3,
        government_rate=0.01,
        deterrence=vertical.deterrence_factors(0.4, 3),
    )
    return base._replace(**changes)


def random_above(rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    start = np.where(rng.random(N) < 0.5, rng.integers(0, 30, N), NO_MANDATE).astype(np.int64)
    return (
        rng.integers(0, 4, N).astype(np.float64),  # total support
        rng.integers(0, 4, N).astype(np.int64),  # hostile governments above
        rng.random(N) < 0.3,  # one of them preempts
        start,
    )


@pytest.mark.parametrize("vertical_on", [True, False])
@pytest.mark.parametrize("hierarchical_on", [True, False])
def test_city_context_loop_equals_the_scalar_function(vertical_on, hierarchical_on):
    rng = np.random.default_rng(11)
    p = params(vertical=vertical_on, hierarchical=hierarchical_on)
    above = random_above(rng)
    defiant = rng.random(N) < 0.4
    susceptibility, readiness = rng.random(N), rng.random(N)
    from diffusion_sim.engines.vectorized.bundles import Cities, make_context

    cities = Cities(
        city_gov=np.zeros((1, N), dtype=np.int32),
        defiant=defiant,
        susceptibility=susceptibility,
        readiness=readiness,
        threshold=np.zeros(N),
        innovation=np.zeros(N),
        population=np.ones(N),
        further=np.zeros((N, 0)),
    )
    context = make_context(N)
    compose.every_city_context(p, above, cities, context)
    for c in range(N):
        factor, top_down, preempted, blocked, start = compose.city_context(
            p, *(a[c] for a in above), defiant[c], susceptibility[c], readiness[c]
        )
        assert context.voluntary_factor[c] == factor
        assert context.top_down[c] == top_down
        assert (context.preempted[c], context.blocked[c]) == (preempted, blocked)
        assert context.mandate_start[c] == start
        # the definitions (docs/ODD.md: voluntary factor, top-down support)
        assert preempted == (hierarchical_on and above[2][c])
        assert blocked == (preempted and not defiant[c])
        assert start == (above[3][c] if hierarchical_on else NO_MANDATE)
        deterred = p.deterrence[above[1][c]] if vertical_on else 1.0
        assert factor == susceptibility[c] * deterred * (1.0 - blocked)
        assert top_down == (
            vertical.top_down_rule(above[0][c], readiness[c], p.top_down_rate)
            if vertical_on
            else 0.0
        )


@pytest.mark.parametrize("switch", ["innovation", "horizontal", "vertical", "hierarchical"])
def test_a_channel_switched_off_is_exactly_zero_and_moves_no_other(switch):
    rng = np.random.default_rng(12)
    on = params()
    off = (
        on._replace(horizontal_rule=compose.HORIZONTAL_OFF)
        if switch == "horizontal"
        else (on._replace(**{switch: False}))
    )
    index = ("innovation", "horizontal", "vertical", "hierarchical").index(switch)
    for _ in range(200):
        args = (
            int(rng.integers(1, 40)),  # t
            float(rng.random()),  # voluntary factor
            bool(rng.random() < 0.2),  # blocked
            int(rng.integers(0, 30)),  # mandate start
            float(rng.random() * 0.1),  # own innovation hazard
            0.0,
            0.0,
            0.0,
            float(rng.random()),  # contagion's escape probability
            1.0,  # boost
            float(rng.random() * 0.2),  # top-down hazard
        )
        with_it = compose.adoption_hazards(on, *args)
        without = compose.adoption_hazards(off, *args)
        assert without[index] == 0.0
        assert [h for k, h in enumerate(with_it) if k != index] == [
            h for k, h in enumerate(without) if k != index
        ]
        t, factor, blocked, start = args[:4]
        assert with_it[3] == hierarchical.compliance_rule(t - start - 1, 6) * (1.0 - blocked)
        assert with_it[0] == args[4] * factor


def test_cell_channels_loop_equals_the_scalar_function():
    from diffusion_sim.studies.estimation.likelihood import CellInputs

    rng = np.random.default_rng(13)
    p = params()
    support, n_hostile, blocked, start = random_above(rng)
    inputs = CellInputs(
        support=support,
        n_hostile=n_hostile,
        blocked=blocked,
        mandate_start=start,
        susceptibility=rng.random(N),
        readiness=rng.random(N),
        step=rng.integers(1, 40, N).astype(np.int64),
        innovation=rng.random(N) * 0.05,
        boost=np.where(rng.random(N) < 0.2, 2.0, 1.0),
    )
    escaped = rng.random(N)
    out = np.empty((4, N))
    compose.cell_channels(p, inputs, escaped, out)
    for k in range(N):
        factor, top_down, _, is_blocked, s = compose.city_context(
            p, support[k], n_hostile[k], blocked[k], start[k], False,
            inputs.susceptibility[k], inputs.readiness[k],
        )  # fmt: skip
        assert is_blocked == blocked[k]
        expected = compose.adoption_hazards(
            p, inputs.step[k], factor, is_blocked, s, inputs.innovation[k], 0.0, 0.0, 0.0,
            escaped[k], inputs.boost[k], top_down,
        )  # fmt: skip
        assert tuple(out[:, k]) == expected


def test_a_government_without_cities_has_no_lobbying_share():
    """The agents once divided by their number of cities unguarded; the wiring guards it."""
    p = params()
    response = 1.0
    bottom_up, _ = compose.government_hazards(p, 0.0, 0.0, 0.0, 0, response, vertical.NEUTRAL)
    assert bottom_up == vertical.government_rule(0.0, 0.0, response, 0.1, 0.3)
    bottom_up, harmonize = compose.government_hazards(
        p._replace(vertical=False, hierarchical=False), 5.0, 10.0, 3.0, 2, response, 1
    )
    assert (bottom_up, harmonize) == (0.0, 0.0)


def test_exits_follow_the_definitions():
    p = params()
    abandon, preempt = compose.exit_hazards(p, 10, False, True, False, NO_MANDATE)
    assert abandon == 0.02 and preempt == 0.3
    abandon, _ = compose.exit_hazards(p, 10, False, False, False, 3)  # a mandate in force
    assert abandon == 0.0
    assert embedded.combined_hazard((0.02, 0.3)) == 1.0 - (1.0 - 0.02) * (1.0 - 0.3)


def test_importing_the_package_compiles_nothing_and_touches_no_cache(tmp_path: Path):
    """No module compiles or writes numba's cache when imported (only a run's first call).

    Before, importing the kernels checked and rewrote the cache's stamp of the rules.
    """
    cache = tmp_path / "numba-cache"
    cache.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["NUMBA_CACHE_DIR"] = str(cache)
    code = (
        "import diffusion_sim.record.tables, diffusion_sim.record.outcomes, "
        "diffusion_sim.engines.vectorized.kernels, "
        "diffusion_sim.model.provenance, diffusion_sim.simulation, diffusion_sim.studies.estimation"
    )
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    # numba makes the cache's folders when a loop is declared; no file is read or written
    files = [p for p in cache.rglob("*") if not p.is_dir()]
    assert not files, sorted(str(p) for p in files)
