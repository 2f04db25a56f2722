"""The Mesa model as Mesa users drive it: from_scenario, DataCollector, mesa.batch_run."""

from __future__ import annotations

import mesa
import pandas as pd

import diffusion_sim as ds
from diffusion_sim.engines.agents.model import DiffusionModel
from diffusion_sim.record.results import build_result

TINY = {"world.n_cities": 60, "world.n_countries": 2, "run.steps": 8}


def test_from_scenario_gives_the_run_of_simulate():
    scenario = ds.Scenario().with_overrides(TINY)
    model = DiffusionModel.from_scenario(scenario, seed=4)
    while model.running:
        model.step()
    assert model.steps == 8
    expected = ds.simulate(scenario, seed=4, engine="vectorized")
    got = build_result(model.setup, model.recorder.finish(8))
    pd.testing.assert_frame_equal(got.events, expected.events)
    pd.testing.assert_frame_equal(got.timeseries, expected.timeseries)


def test_datacollector_has_model_and_agent_reporters():
    model = DiffusionModel.from_scenario(ds.Scenario(), seed=2, **TINY)
    for _ in range(3):
        model.step()
    frame = model.datacollector.get_model_vars_dataframe()
    assert list(frame.index) == [0, 1, 2, 3]
    assert {"adopters", "share_cities", "governments_adopted"} <= set(frame.columns)
    agents = model.datacollector.get_agent_vars_dataframe()
    cities = agents[agents["kind"] == "city"].xs(3, level="Step")
    assert len(cities) == 60
    assert cities["adopted"].sum() == frame.loc[3, "adopters"]
    assert set(cities.loc[cities["adopted"], "channel"]) <= {
        "innovation",
        "horizontal",
        "vertical",
        "hierarchical",
    }


def test_agent_reporter_source_names_who_carried_each_adoption():
    """source: the city (horizontal) or government (vertical, hierarchical) of the events
    table, at every step, also long after the adoption; None for own initiative and pioneers."""
    overrides = {"world.n_cities": 150, "world.n_countries": 3, "run.steps": 24}
    scenario = ds.load_scenario("embedded").with_overrides(overrides)
    model = DiffusionModel.from_scenario(scenario, seed=3)
    while model.running:
        model.step()
    result = build_result(model.setup, model.recorder.finish(model.steps))
    names = dict(enumerate(result.cities["name"]))
    governments = dict(enumerate(model.setup.gov_names))
    agents = model.datacollector.get_agent_vars_dataframe()
    for step in (5, 12, 24):
        cities = agents[agents["kind"] == "city"].xs(step, level="Step").set_index("name")
        adoptions = result.events[
            (result.events["kind"] == "adopt") & (result.events["step"] <= step)
        ]
        last = adoptions.groupby("city").tail(1)
        expected = {}
        for row in last.itertuples():
            if not cities.loc[names[row.city], "adopted"]:
                continue
            if row.source_city >= 0:
                expected[names[row.city]] = names[row.source_city]
            elif row.source_government >= 0:
                expected[names[row.city]] = governments[row.source_government]
        got = cities["source"].dropna().to_dict()
        assert got == expected, step
    final = agents.xs(24, level="Step")
    channels = set(final.loc[final["source"].notna(), "channel"])
    assert "horizontal" in channels and channels <= {"horizontal", "vertical", "hierarchical"}
    assert final.loc[final["kind"] == "government", "source"].isna().all()
    assert final.loc[final["channel"] == "innovation", "source"].isna().all()


def test_mesa_batch_run_works_on_a_tiny_world():
    rows = mesa.batch_run(
        DiffusionModel.from_scenario,
        parameters={
            "scenario": [ds.Scenario().with_overrides(TINY)],  # a list: batch_run iterates values
            "seed": [1, 2],
            "collect_agents": False,
            "mechanisms.horizontal.strength": [0.05, 0.3],
        },
        iterations=1,
        max_steps=100,
        number_processes=1,
        data_collection_period=1,
        display_progress=False,
    )
    frame = pd.DataFrame(rows)
    # batch_run reads rows 0 .. model.steps - 1 of the collector (row 0: the start).
    assert len(frame) == 4 * 8
    assert frame["Step"].max() == 7
    last = frame[frame["Step"] == 7].set_index(["seed", "mechanisms.horizontal.strength"])
    for seed in (1, 2):
        scenario = ds.Scenario().with_overrides({**TINY, "mechanisms.horizontal.strength": 0.3})
        timeseries = ds.simulate(scenario, seed=seed).timeseries.set_index("step")
        expected = timeseries.loc[7, "adopters"]
        assert last.loc[(seed, 0.3), "adopters"] == expected
