"""The classroom parts of the dashboard: inputs from the schema's own rules, the lesson,
downloads, links that reopen the same settings, and the folders it writes.

Plain Python (no browser): test_dashboard_browser.py drives the served page.
"""

from __future__ import annotations

import pytest

import diffusion_sim as ds
from diffusion_sim.app.learn import built_in_classroom
from diffusion_sim.app.params import parameter_specs
from diffusion_sim.scenario.keys import bounds, field_at

# ------------------------------------------------------------- inputs (issue 20)


@pytest.mark.parametrize("scenario", [ds.Scenario(), built_in_classroom()], ids=["default", "cls"])
def test_inputs_take_their_bounds_from_the_schema_keys(scenario):
    """Every numeric input's range is scenario/keys.bounds of the field its key names."""
    specs = [s for group in parameter_specs(scenario).values() for s in group]
    numeric = [s for s in specs if s["type"] == "InputText"]
    assert numeric
    for spec in numeric:
        field = field_at(ds.Scenario, spec["key"])
        assert {k: spec[k] for k in ("ge", "gt", "le", "lt") if k in spec} == bounds(field)
    networks = {s["key"].split(".")[1] for s in specs if s["key"].startswith("networks.")}
    assert networks == set(scenario.networks)
