"""Randomized scenarios: the engines agree and the invariants hold whatever the parameters."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import diffusion_sim as ds

unit = st.floats(0.0, 1.0, allow_nan=False)


@st.composite
def worlds_and_scenarios(draw):
    n = draw(st.integers(20, 80))
    graph_seed = draw(st.integers(0, 10_000))
    graph = nx.gnm_random_graph(n, draw(st.integers(0, 4 * n)), seed=graph_seed)
    rng = np.random.default_rng(graph_seed)
    world = ds.World.from_graph(
        graph,
        population=rng.integers(1_000, 2_000_000, n),
        capacity=rng.random(n),
        leaning=rng.random(n),
        country=rng.choice(["A", "B", "C"], n),
        region=rng.choice(["north", "south"], n),
        in_bloc=rng.random(n) < 0.5,
    )
    stances = st.sampled_from(["hostile", "neutral", "supportive"])
    overrides = {
        "pioneers.count": draw(st.integers(0, 5)),
        "mechanisms.innovation.enabled": draw(st.booleans()),
        "mechanisms.innovation.rate": draw(unit) / 5,
        "mechanisms.horizontal.enabled": draw(st.booleans()),
        "mechanisms.horizontal.rule": draw(st.sampled_from(["threshold", "contagion"])),
        "mechanisms.horizontal.strength": draw(unit),
        "mechanisms.horizontal.prestige_alpha": draw(st.floats(0, 2)),
        "mechanisms.horizontal.thresholds.distribution": draw(
            st.sampled_from(["normal", "uniform", "fixed"])
        ),
        "mechanisms.horizontal.thresholds.mean": draw(unit),
        "mechanisms.vertical.enabled": draw(st.booleans()),
        "mechanisms.vertical.bottom_up_rate": draw(unit),
        "mechanisms.vertical.top_down_rate": draw(unit) / 4,
        "mechanisms.vertical.deterrence": draw(unit),
        "mechanisms.vertical.voice_saturation": draw(st.integers(0, 100)),
        "networks": {"lobby": {"rule": "open", "size": draw(st.integers(0, 30)), "lobbies": True}},
        "mechanisms.hierarchical.enabled": draw(st.booleans()),
        "mechanisms.hierarchical.government_rate": draw(unit) / 4,
        "mechanisms.hierarchical.compliance_steps": draw(st.integers(1, 8)),
        "mechanisms.hierarchical.defiance": draw(unit),
        "mechanisms.hierarchical.preemption_enforcement": draw(unit),
        "mechanisms.abandonment.enabled": draw(st.booleans()),
        "mechanisms.abandonment.rate": draw(unit) / 4,
        "governments.levels": draw(
            st.sampled_from([["region", "nation", "bloc"], ["nation"], ["nation", "global"], []])
        ),
        "governments.nation": draw(stances),
        "governments.overrides": {"A": {"stance": draw(stances), "preempts": draw(st.booleans())}}
        if draw(st.booleans())
        else {},
        "events": [
            {"step": 3, "kind": "summit", "boost": 2.0, "duration": 3},
            {
                "step": 5,
                "kind": "stance",
                "government": "B",
                "stance": draw(stances),
                "preempts": draw(st.booleans()),
            },
        ]
        if draw(st.booleans())
        else [],
    }
    return world, ds.Scenario().with_overrides(overrides)


@given(worlds_and_scenarios(), st.integers(0, 2**32 - 1))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_engines_agree_and_invariants_hold(world_and_scenario, seed):
    world, scenario = world_and_scenario
    if scenario.events and "nation" not in scenario.governments.levels:
        scenario = scenario.with_overrides({"events": []})
    if scenario.governments.overrides and "nation" not in scenario.governments.levels:
        scenario = scenario.with_overrides({"governments.overrides": {}})
    vectorized = ds.simulate(scenario, seed=seed, world=world, steps=15)
    agents = ds.simulate(scenario, seed=seed, world=world, steps=15, engine="agents")
    pd.testing.assert_frame_equal(vectorized.events, agents.events)
    pd.testing.assert_frame_equal(vectorized.government_events, agents.government_events)
    ts = vectorized.timeseries
    assert ts["share_cities"].between(0, 1).all()
    assert ts["share_population"].between(0, 1).all()
    assert (ts["adopters"] >= 0).all()
    final = vectorized.cities
    assert ts["adopters"].iloc[-1] == final["adopted"].sum()
    # A city's events alternate adopt, drop, adopt, ...
    for _, events in vectorized.events.groupby("city"):
        kinds = events["kind"].astype(str).tolist()
        assert all(a != b for a, b in itertools.pairwise(kinds))
        assert kinds[0] == "adopt"
