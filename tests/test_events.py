"""Events aimed at groups, withdrawals that stick, and parameter changes (issue 22).

Each against its definition, on both engines: a level-wide withdrawal changes
every government of the level and, with a lock, none re-adopts during it; a set
event changes the hazard from its step on; a group resolves to the governments
(or cities) its definition names, and a wrong name is refused with a did-you-mean.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import diffusion_sim as ds
from diffusion_sim import world
from diffusion_sim.model import events
from diffusion_sim.model.setup import build_setup
from diffusion_sim.record import outcomes
from diffusion_sim.scenario import SETTABLE
from diffusion_sim.scenario.event_models import RUNG_NAMES, SIZE_CLASS_NAMES
from diffusion_sim.studies.estimation.timeline import Replay
from tests.conftest import only
from tests.test_engines import assert_same_run
from tests.test_performance_paths import SET_VALUES


def both(scenario: ds.Scenario, seed: int = 4) -> ds.Result:
    """The vectorized run, after checking the agents engine gives the same one."""
    vectorized = ds.simulate(scenario, seed=seed)
    assert_same_run(vectorized, ds.simulate(scenario, seed=seed, engine="agents"))
    return vectorized


def nation_events(result: ds.Result) -> pd.DataFrame:
    frame = result.government_events
    names = set(result.governments.loc[result.governments["level"] == "nation", "name"])
    return frame[frame["name"].isin(names)]


def withdrawal(embedded: ds.Scenario, **lock) -> ds.Scenario:
    """Every nation adopts at 5 and withdraws at 20; supportive nations re-adopt quickly."""
    return embedded.with_overrides(
        {
            "governments.nation": "supportive",
            "mechanisms.hierarchical.government_rate": 0.3,
            "events": [
                {"step": 5, "kind": "government_adopts", "level": "nation"},
                {"step": 20, "kind": "government_withdraws", "level": "nation", **lock},
            ],
        }
    )


def test_a_level_wide_withdrawal_with_a_lock_keeps_every_nation_out(embedded):
    result = both(withdrawal(embedded, until=34))
    nations = nation_events(result)
    n_nations = int((result.governments["level"] == "nation").sum())
    withdrawn = nations[(nations["step"] == 20) & (nations["kind"] == "withdraw")]
    assert len(withdrawn) == n_nations > 1  # every nation changed
    during = nations[(nations["step"] >= 20) & (nations["step"] <= 34)]
    assert not (during["kind"] == "adopt").any()  # none re-adopts during the lock
    assert (nations[nations["step"] > 34]["kind"] == "adopt").any()  # free again after it


def test_without_a_lock_nations_re_adopt(embedded):
    """The same withdrawal unlocked: the lock above is what keeps them out."""
    nations = nation_events(both(withdrawal(embedded)))
    during = nations[(nations["step"] >= 20) & (nations["step"] <= 34)]
    assert (during["kind"] == "adopt").any()


def test_lock_steps_counts_the_withdrawal_step(embedded):
    scenario = withdrawal(embedded, lock_steps=15)
    setup = build_setup(scenario, ds.build_world(scenario), np.random.default_rng(0))
    (event,) = setup.events[20]
    assert event.locked_until == 34
    assert len(event.governments) == int((setup.gov_level == 1).sum())


def test_a_set_event_changes_the_hazard_from_its_step_on(embedded):
    """Top-down support cut to 0 at step 15: no vertical adoption from then on."""
    base = only(embedded, "vertical").with_overrides(
        {"governments.nation": "supportive", "mechanisms.vertical.top_down_rate": 0.5}
    )
    cut = base.with_overrides(
        {
            "events": [
                {"step": 15, "kind": "set", "key": "mechanisms.vertical.top_down_rate", "value": 0}
            ]
        }
    )
    before, after = both(base), both(cut)
    vertical = before.events[before.events["channel"] == "vertical"]
    assert (vertical["step"] >= 15).any()  # without the event they go on
    cut_vertical = after.events[after.events["channel"] == "vertical"]
    assert len(cut_vertical) > 0 and (cut_vertical["step"] < 15).all()
    same = before.events[before.events["step"] < 15].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        same, after.events[after.events["step"] < 15].reset_index(drop=True)
    )


def test_every_settable_key_is_exercised_and_checked():
    """tests/test_performance_paths.py's set-events case covers the whole list."""
    assert tuple(SET_VALUES) == SETTABLE


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("mechanisms.vertical.top_down_rat", 0, "did you mean 'mechanisms.vertical.top_down_rate'"),
        ("mechanisms.horizontal.strength", 0.1, "read once, when a run is set up"),
        ("mechanisms.vertical.top_down_rate", 2, "must be >= 0, <= 1"),
        ("mechanisms.hierarchical.compliance_steps", 2.5, "whole number"),
    ],
)
def test_a_set_event_is_refused_with_the_key_and_what_is_allowed(embedded, key, value, message):
    with pytest.raises(ds.InputError, match=message) as caught:
        embedded.with_overrides(
            {"events": [{"step": 3, "kind": "set", "key": key, "value": value}]}
        )
    assert "events.0" in str(caught.value) or "events[0]" in str(caught.value)


def test_the_estimation_refuses_a_set_event(embedded):
    scenario = embedded.with_overrides(
        {"events": [{"step": 3, "kind": "set", "key": "mechanisms.abandonment.rate", "value": 0}]}
    )
    setup = build_setup(scenario, ds.build_world(scenario), np.random.default_rng(0))
    with pytest.raises(ds.InputError, match=r"events\[0\].key.*cannot replay"):
        events.apply_events(Replay(setup, pioneers=False), setup, 3)


def resolved(scenario: ds.Scenario, **target) -> tuple[int, ...]:
    scenario = scenario.with_overrides(
        {"events": [{"step": 2, "kind": "government_adopts", **target}]}
    )
    setup = build_setup(scenario, ds.build_world(scenario), np.random.default_rng(0))
    return setup, setup.events[2][0].governments


def test_groups_of_governments_follow_their_definition(embedded):
    setup, nations = resolved(embedded, level="nation")
    assert nations == tuple(np.flatnonzero(setup.gov_level == 1))
    w = setup.world
    country = w.country_names[0]
    _, of_country = resolved(embedded, countries=[country])
    for g in range(setup.n_governments):  # in iff every one of its cities is in the country
        cities = np.flatnonzero((setup.city_gov == g).any(axis=0))
        assert (g in of_country) == bool(len(cities) and (w.country[cities] == 0).all())
    assert any(setup.gov_level[g] == 0 for g in of_country)  # its regions too
    _, bloc_nations = resolved(embedded, level="nation", bloc=w.bloc_name)
    for g in bloc_nations:
        assert setup.gov_level[g] == 1 and w.in_bloc[(setup.city_gov == g).any(axis=0)].all()
    assert set(bloc_nations) < set(nations)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ({"countries": ["Natoin 1"]}, r"events\[0\].countries.*did you mean"),
        ({"bloc": "Unoin"}, r"events\[0\].bloc.*did you mean 'Union'"),
        ({"level": "global"}, r"no government of level 'global'; levels present"),
        ({"government": "Nation 1", "level": "nation"}, "not both"),
        ({}, "target missing"),
    ],
)
def test_a_wrong_group_is_refused_clearly(embedded, target, message):
    with pytest.raises(ds.InputError, match=message):
        resolved(embedded, **target)


@pytest.mark.parametrize(
    "group", [{"rung": "laggard"}, {"size_class": "medium"}, {"network": "c40"}]
)
def test_pioneers_of_a_group_are_every_city_of_it(embedded, group):
    scenario = only(embedded, "innovation").with_overrides(
        {"mechanisms.innovation.rate": 0.0, "events": [{"step": 3, "kind": "pioneers", **group}]}
    )
    result = both(scenario)
    setup = build_setup(scenario, ds.build_world(scenario), np.random.default_rng(0))
    inside = events.cities_of_group(setup, setup.events[3][0], 3)
    adopted = result.events[result.events["step"] == 3]["city"].to_numpy()
    first = result.events[result.events["step"] == 0]["city"].to_numpy()
    assert inside.sum() > 0
    assert set(adopted) == set(np.flatnonzero(inside)) - set(first)


def test_group_vocabularies_match_the_outcomes():
    assert SIZE_CLASS_NAMES == tuple(name for name, _, _ in outcomes.SIZE_CLASSES)
    assert RUNG_NAMES == world.LADDER_NAMES
