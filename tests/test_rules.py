"""Each rule written once gives the same bits in its three forms.

A rule (diffusion_sim/mechanisms/rules.py) is a scalar function the agents call
as plain Python, the kernels compile with numba, and the numpy reference applies
through its array form (``numba.vectorize`` of the same function). On random
inputs, boundaries included, the three must agree to the last bit: that is what
lets the engines agree event for event.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from diffusion_sim.mechanisms import (
    abandonment,
    embedded,
    hierarchical,
    horizontal,
    innovation,
    novelty,
    vertical,
)

unit = st.one_of(
    st.sampled_from([0.0, 1.0, 0.5, 1 / 3, 0.07, 5e-324, 1 - 2**-53]),
    st.floats(0.0, 1.0, allow_nan=False),
)
rate = st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0.0, 1.0, allow_nan=False))
boost = st.one_of(st.sampled_from([1.0, 3.0]), st.floats(1.0, 10.0, allow_nan=False))
weight = st.integers(0, 2**30).map(float)
flag = st.booleans()
stance = st.sampled_from([vertical.HOSTILE, vertical.NEUTRAL, vertical.SUPPORTIVE])

RULES = {
    "innovation": (innovation.innovation_rule, st.tuples(unit, unit, rate)),
    "threshold": (
        horizontal.threshold_rule,
        st.one_of(
            st.tuples(weight, weight, unit, boost),
            # the boundary: a share equal to the threshold
            st.sampled_from(
                [(7.0, 100.0, 0.07, 1.0), (1.0, 3.0, 1 / 3, 1.0), (5.0, 0.0, 0.0, 1.0)]
            ),
        ),
    ),
    "persuasion": (horizontal.persuasion_rule, st.tuples(unit, boost)),
    "government": (
        vertical.government_rule,
        st.tuples(unit, unit, unit, rate, st.floats(0.0, 10.0, allow_nan=False)),
    ),
    "support": (vertical.support_rule, st.tuples(stance, flag)),
    "top_down": (
        vertical.top_down_rule,
        st.tuples(st.integers(0, 8).map(float), unit, rate),
    ),
    "compliance": (
        hierarchical.compliance_rule,
        st.tuples(st.integers(-5, 60), st.integers(1, 40)),
    ),
    "harmonization": (hierarchical.harmonization_rule, st.tuples(stance, rate)),
    "preemption": (hierarchical.preemption_rule, st.tuples(flag, flag, rate)),
    "abandonment": (abandonment.abandonment_rule, st.tuples(flag, rate, unit)),
    "novelty": (
        novelty.novelty_rule,
        st.tuples(
            st.integers(0, 400).map(float),
            st.integers(0, 50).map(float),
            st.floats(0.5, 1e4, allow_nan=False),
        ),
    ),
}


def bits(x) -> int:
    """The value's bit pattern (float64), or the integer itself."""
    if isinstance(x, (bool, np.bool_)):
        return int(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    return int(np.array([x], dtype=np.float64).view(np.uint64)[0])


def column(values: list) -> np.ndarray:
    """An argument column as the engines hold it (bool, int64 or float64)."""
    if all(isinstance(v, bool) for v in values):
        return np.array(values, dtype=bool)
    if all(isinstance(v, int) for v in values):
        return np.array(values, dtype=np.int64)
    return np.array(values, dtype=np.float64)


@pytest.mark.parametrize("name", list(RULES))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_scalar_compiled_and_array_forms_agree_to_the_bit(name, data):
    rule, inputs = RULES[name]
    rows = data.draw(st.lists(inputs, min_size=1, max_size=12))
    scalar = [rule(*row) for row in rows]
    compiled = [rule.compiled(*row) for row in rows]
    with np.errstate(divide="ignore", invalid="ignore"):  # threshold: 0/0 where no ties
        array = rule.array(*[column(list(c)) for c in zip(*rows, strict=True)])
    assert [bits(x) for x in scalar] == [bits(x) for x in compiled]
    assert [bits(x) for x in scalar] == [bits(x) for x in array.tolist()]


def test_the_rules_answer_their_definitions():
    """The forms agree; this checks they agree on the right numbers."""
    assert horizontal.threshold_rule(7.0, 100.0, 0.07, 1.0) == 1.0
    assert horizontal.threshold_rule(6.0, 100.0, 0.07, 1.0) == 0.0
    assert horizontal.threshold_rule(1.0, 0.0, 0.0, 1.0) == 0.0  # no ties, no adoption
    assert hierarchical.compliance_rule(-1, 6) == 0.0
    assert hierarchical.compliance_rule(5, 6) == 1.0
    assert vertical.top_down_rule(8.0, 1.0, 0.5) == 1.0
    assert horizontal.persuasion_rule(0.25, 2.0) == 1.0


compiled_composition = {
    name: numba.njit(getattr(embedded, name))
    for name in ("voluntary_factor", "adoption_channels", "exit_channels")
}


@numba.njit
def _combined4(a, b, c, d):
    return embedded.combined_hazard((a, b, c, d))


@numba.njit
def _choose4(u, a, b, c, d):
    return embedded.choose_channel_of_one(u, (a, b, c, d))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(unit, unit, flag, unit, unit, unit, unit), min_size=1, max_size=10),
    st.integers(0, 50),
    st.integers(-1, 60),
)
def test_the_composition_agrees_on_floats_compiled_and_arrays(rows, t, start):
    s, d, blocked, h1, h2, h3, h4 = (list(c) for c in zip(*rows, strict=True))
    arrays = [column(c) for c in (s, d, blocked, h1, h2, h3, h4)]
    factor_array = embedded.voluntary_factor(arrays[0], arrays[1], arrays[2])
    channels_array = embedded.adoption_channels(factor_array, *arrays[3:], arrays[2])
    combined_array = embedded.combined_hazard(channels_array)
    exits_array = embedded.exit_channels(arrays[3], arrays[4], np.full(len(rows), start), t)
    for k, (sk, dk, bk, a, b, c, e) in enumerate(rows):
        factor = embedded.voluntary_factor(sk, dk, bk)
        assert bits(factor) == bits(compiled_composition["voluntary_factor"](sk, dk, bk))
        assert bits(factor) == bits(factor_array[k])
        channels = embedded.adoption_channels(factor, a, b, c, e, bk)
        compiled = compiled_composition["adoption_channels"](factor, a, b, c, e, bk)
        assert [bits(x) for x in channels] == [bits(x) for x in compiled]
        assert [bits(x) for x in channels] == [bits(x[k]) for x in channels_array]
        combined = embedded.combined_hazard(channels)
        assert bits(combined) == bits(_combined4(*channels)) == bits(combined_array[k])
        exits = embedded.exit_channels(a, b, start, t)
        assert [bits(x) for x in exits] == [
            bits(x) for x in compiled_composition["exit_channels"](a, b, start, t)
        ]
        assert [bits(x) for x in exits] == [bits(x[k]) for x in exits_array]
        if bk:
            assert factor == 0.0 and channels[3] == 0.0  # blocked: no voluntary, no compliance
        if start >= t:
            assert exits[0] == a  # no mandate in force: abandonment as its rule gives it
        else:
            assert exits[0] == 0.0  # none abandons under a mandate in force


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(unit, unit, unit, unit, unit), min_size=1, max_size=10))
def test_the_channel_is_the_same_one_city_compiled_and_on_arrays(rows):
    u, *hazards = (np.array(c) for c in zip(*rows, strict=True))
    array = embedded.choose_channel(u, hazards)
    for k, (uk, *hk) in enumerate(rows):
        one = embedded.choose_channel(uk, hk)
        assert one == _choose4(uk, *hk) == array[k]
        assert (one >= 0) == (uk < embedded.combined_hazard(hk))
