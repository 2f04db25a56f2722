"""Issue 10, bad input: every malformed input gets one clear message and exit code 2.

Each case (tests/bad_input/cases.py: scenario files, sweep files, ``--set``, CLI
arguments) runs ``diffusion_sim.cli.main`` in-process in an empty folder and
must end with exit code 2, exactly one ``error:`` message naming the file or
flag (and the key and line where there is one), no traceback, and nothing
written. The same cases make the table in docs/reliability.md
(``python benchmarks/bad_input_table.py``). Hypothesis adds generated names,
values and bytes.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diffusion_sim.scenario import FOLDER_NAME_RULE, Scenario, bounds, iter_fields
from diffusion_sim.scenario.types import FOLDER_NAME
from tests.bad_input.cases import TINY, S, all_cases
from tests.bad_input.harness import Case, run_case
from tests.conftest import ROOT

CASES = all_cases()


def test_there_are_enough_cases_in_every_category():
    counts = {c: sum(case.category == c for case in CASES) for c in {x.category for x in CASES}}
    assert sum(counts.values()) >= 300
    assert counts == {k: v for k, v in counts.items() if v >= 30}, counts


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.category}: {c.id}")
def test_malformed_input_gets_one_clear_message_and_exit_2(case, tmp_path):
    outcome = run_case(case, tmp_path)
    assert outcome.verdict(case) == "clean", (
        outcome.problems(case),
        outcome.escaped or outcome.stderr,
    )


# ------------------------------------------------------------------ generated

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _run(argv: tuple[str, ...], files: dict, *expect: str):
    case = Case("generated", "x", argv, files, expect)
    with tempfile.TemporaryDirectory() as folder:
        outcome = run_case(case, Path(folder), timeout=30)
    assert outcome.verdict(case) == "clean", (outcome.problems(case), outcome.stderr)
    return outcome


unsafe_names = st.text(max_size=120).filter(lambda t: not FOLDER_NAME.match(t) or ".." in t)


@FAST
@given(unsafe_names)
def test_any_unsafe_scenario_name_is_refused_saying_what_is_allowed(name):
    outcome = _run(("validate", S), {S: f"name = {json.dumps(name)}\n"}, S)
    assert "key 'name' (line 1)" in outcome.stderr or "not valid TOML" in outcome.stderr


@FAST
@given(unsafe_names)
def test_any_unsafe_name_in_set_is_refused_naming_the_flag(name):
    outcome = _run(("run", S, "--set", f"name={json.dumps(name)}", "--out", "out"), {S: TINY})
    assert "--set name=" in outcome.stderr
    assert FOLDER_NAME_RULE in outcome.stderr or "KEY=VALUE" in outcome.stderr


BOUNDED = [
    (key, field, bounds(field))
    for key, field, _ in iter_fields(Scenario)
    if field.annotation in (int, float) and "<name>" not in key and "." in key and bounds(field)
]


@FAST
@given(
    st.sampled_from(BOUNDED),
    st.integers(min_value=1, max_value=10**30),
    st.booleans(),
)
def test_any_value_out_of_range_names_the_key_and_its_line(bounded, excess, below):
    key, _field, limits = bounded
    if below and ("ge" in limits or "gt" in limits):
        value = limits.get("ge", limits.get("gt")) - excess
    elif "le" in limits:
        value = limits["le"] + excess
    else:
        value = limits.get("ge", limits.get("gt", 0)) - excess
    table, leaf = key.rsplit(".", 1)
    _run(("validate", S), {S: f"[{table}]\n{leaf} = {value}\n"}, f"key '{key}' (line 2)")


@FAST
@given(st.binary(max_size=300))
def test_arbitrary_bytes_as_a_scenario_file_never_escape(data):
    _run(("validate", S), {S: data}, S)


@FAST
@given(st.binary(max_size=300))
def test_arbitrary_bytes_as_a_sweep_file_never_escape(data):
    _run(("sweep", "w.toml", "--out", "out"), {"w.toml": data}, "w.toml")


# ------------------------------------------------------------------ real processes


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "diffusion_sim", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_version():
    done = _cli("--version")
    assert done.returncode == 0 and done.stdout.startswith("diffusion-sim ")


def test_a_closed_pipe_ends_quietly():
    done = subprocess.run(
        f"{sys.executable} -m diffusion_sim scenarios | head -1",
        shell=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert len(done.stdout.splitlines()) == 1
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr


def test_a_real_process_prints_one_line_for_a_mistyped_scenario():
    done = _cli("run", "embeded")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "did you mean 'embedded'" in done.stderr
