"""A mechanism added from outside the package runs in both engines (issue 11, item 2).

The toy mechanism ("broadcast": every city hears of the policy with the same
probability each step) lives in a module written to a temporary folder and is
named in ``DIFFUSION_SIM_MECHANISMS``, the way a user adds one
(docs/architecture.md, "A mechanism from outside the package"): no file of the
project is touched. Each check runs in a fresh interpreter, because the registry
reads the environment once, when it loads.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

BROADCAST = '''
"""A toy mechanism: news of the policy reaches every city alike."""
import numpy as np

NAME = "broadcast"
TITLE = "Broadcast: a constant hazard"
COLOUR = "#0072b2"
PARAMETERS = {"rate": (0.02, 0.0, 1.0, "probability per step that a city adopts on the news")}


def rule(rate):
    return rate
'''

RUN_BOTH_ENGINES = """
import json, sys
import numpy as np
from diffusion_sim import parse_scenario, simulate
from diffusion_sim.mechanisms.registry import CHANNELS, MECHANISM_NAMES

off = {"enabled": False}
scenario = parse_scenario({
    "name": "broadcast_only",
    "world": {"n_cities": N_CITIES, "n_countries": 3},
    "run": {"steps": STEPS, "seed": 11},
    "pioneers": {"count": 0},
    "mechanisms": {
        "innovation": off, "horizontal": off, "vertical": off,
        "hierarchical": off, "abandonment": off,
        "broadcast": {"enabled": True, "rate": RATE},
    },
})
events = {}
for engine in ("vectorized", "agents"):
    result = simulate(scenario, engine=engine)
    events[engine] = result.events
same = events["vectorized"].equals(events["agents"])
ts = simulate(scenario, seed=SEED2).timeseries
print(json.dumps({
    "mechanisms": list(MECHANISM_NAMES),
    "channels": list(CHANNELS),
    "same_events": bool(same),
    "event_channels": sorted(set(events["vectorized"]["channel"].astype(str))),
    "n_events": len(events["vectorized"]),
    "share": ts["share_cities"].tolist(),
}))
"""


def _environment(folder: Path, modules: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DIFFUSION_SIM_MECHANISMS"] = modules
    env["PYTHONPATH"] = os.pathsep.join([str(folder), env.get("PYTHONPATH", "")])
    return env


@pytest.fixture
def broadcast(tmp_path: Path) -> Path:
    (tmp_path / "broadcast.py").write_text(BROADCAST)
    return tmp_path


def _python(folder: Path, code: str, modules: str = "broadcast") -> subprocess.CompletedProcess:
    return _run(folder, modules, "-c", textwrap.dedent(code))


def _cli(folder: Path, modules: str, *args: str) -> subprocess.CompletedProcess:
    """``diffusion-sim ARGS`` in ``folder`` with the further mechanisms ``modules``."""
    return _run(folder, modules, "-m", "diffusion_sim", *args)


def _run(folder: Path, modules: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args],
        env=_environment(folder, modules),
        capture_output=True,
        text=True,
        cwd=folder,
        timeout=600,
    )


def test_a_further_mechanism_runs_in_both_engines_and_matches_its_analytic_curve(broadcast):
    """Both engines give the same events; the mean share adopted is 1 - (1 - r)^t.

    With every other mechanism off and no pioneers, each city adopts with probability r each step
    (susceptibility 1, no government), so the share after t steps is binomial with
    mean 1 - (1 - r)^t over N cities; the tolerance is 4 standard deviations.
    """
    n_cities, steps, rate = 3000, 40, 0.03
    code = (
        RUN_BOTH_ENGINES.replace("N_CITIES", str(n_cities))
        .replace("STEPS", str(steps))
        .replace("RATE", str(rate))
        .replace("SEED2", "12345")
    )
    done = _python(broadcast, code)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["mechanisms"][-1] == "broadcast"
    # The channel codes of every result keep their order; the new one comes last.
    assert out["channels"][:7] == [
        "innovation",
        "horizontal",
        "vertical",
        "hierarchical",
        "abandonment",
        "preemption",
        "event",
    ]
    assert out["channels"][7] == "broadcast"
    assert out["same_events"]
    assert out["n_events"] > 0
    assert out["event_channels"] == ["broadcast"]
    for t, share in enumerate(out["share"], start=0):
        if t == 0:
            continue
        expected = 1 - (1 - rate) ** t
        sd = (expected * (1 - expected) / n_cities) ** 0.5
        assert abs(share - expected) <= 4 * sd + 1e-12, (t, share, expected)


def test_the_dashboard_draws_and_explains_a_further_mechanism(broadcast):
    """The live run stacks its channel, and the inspector names it for a city it moved."""
    code = """
    import numpy as np
    import diffusion_sim as ds
    from diffusion_sim.app.session import LiveRun
    from diffusion_sim.app.curves import curves_figure
    from diffusion_sim.mechanisms.registry import CHANNELS
    scenario = ds.load_scenario("embedded").with_overrides({
        "world.n_cities": 400, "run.steps": 12,
        "mechanisms.broadcast.enabled": True, "mechanisms.broadcast.rate": 0.05,
    })
    run = LiveRun(scenario, seed=1)
    run.step(12)
    snapshot = run.snapshot()
    assert snapshot.timeseries["adopters_broadcast"].iloc[-1] > 0
    curves_figure(snapshot.timeseries, 12)
    city = int(np.flatnonzero(snapshot.channel == CHANNELS.index("broadcast"))[0])
    print(run.inspect(city)["why"])
    """
    done = _python(broadcast, code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("through broadcast"), done.stdout


def test_a_further_mechanism_gets_a_checked_scenario_section(broadcast):
    """Its parameters are validated with their bounds and listed by --explain."""
    bad = broadcast / "bad.toml"
    bad.write_text("[mechanisms.broadcast]\nenabled = true\nrate = 2.0\n")
    checked = _cli(broadcast, "broadcast", "validate", str(bad))
    assert checked.returncode == 2
    assert "Traceback" not in checked.stderr
    assert "mechanisms.broadcast.rate" in checked.stderr
    assert "line 3" in checked.stderr
    explained = _cli(broadcast, "broadcast", "validate", "embedded", "--explain")
    assert explained.returncode == 0, explained.stderr
    assert "mechanisms.broadcast.rate" in explained.stdout


def test_a_shipped_scenario_is_unchanged_with_a_further_mechanism_installed_but_off(broadcast):
    """Installed but off (the default), the mechanism changes no event of a run."""
    code = """
    import json
    from diffusion_sim import load_scenario, simulate
    scenario = load_scenario("embedded").with_overrides({"world.n_cities": 1500, "run.steps": 40})
    events = simulate(scenario).events
    print(json.dumps(events.astype(str).values.tolist()))
    """
    with_it = _python(broadcast, code)
    without = _python(broadcast, code, modules="")
    assert with_it.returncode == 0, with_it.stderr
    assert without.returncode == 0, without.stderr
    assert with_it.stdout == without.stdout
    assert len(json.loads(with_it.stdout)) > 0


def test_a_broken_further_mechanism_is_one_clear_error(tmp_path):
    """A module that lacks its rule: exit 2, the variable and the module named, no traceback."""
    (tmp_path / "halfdone.py").write_text('NAME = "halfdone"\nTITLE = "x"\n')
    done = _cli(tmp_path, "halfdone", "validate", "embedded")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "DIFFUSION_SIM_MECHANISMS" in done.stderr
    assert "halfdone" in done.stderr
    assert "COLOUR, PARAMETERS, rule" in done.stderr
