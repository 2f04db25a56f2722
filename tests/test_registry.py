"""Every list of mechanisms and channels comes from the registry, and only from it.

Adding a mechanism (docs/architecture.md, "Adding a mechanism") must not mean
finding the lists that name the others. The first test reads every module of
the package and fails on any literal that names two or more mechanisms or
channels outside ``mechanisms/registry.py``; the others check that what the
modes, the dashboard, the charts, the schema and the test helpers derive from
the registry covers every entry, and that a new entry reaches them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import diffusion_sim as ds
from diffusion_sim.errors import InputError
from diffusion_sim.mechanisms import registry
from tests.conftest import only

PACKAGE = Path(__file__).resolve().parent.parent / "diffusion_sim"
NAMES = set(registry.MECHANISM_NAMES) | set(registry.CHANNELS) - {"event"}


def literal_lists(path: Path) -> list[tuple[int, list[str]]]:
    """Tuple, list, set and dict-key literals in a module that name two or more mechanisms."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            items = node.elts
        elif isinstance(node, ast.Dict):
            items = [k for k in node.keys if k is not None]
        else:
            continue
        named = sorted({i.value for i in items if isinstance(i, ast.Constant) and i.value in NAMES})
        if len(named) >= 2:
            found.append((node.lineno, named))
    return found


def test_no_module_but_the_registry_lists_mechanisms():
    offenders = {
        str(path.relative_to(PACKAGE)): hits
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name != "registry.py" and (hits := literal_lists(path))
    }
    assert not offenders, f"hand-written mechanism lists (use mechanisms.registry): {offenders}"


def test_the_scan_finds_a_hand_written_list(tmp_path):
    """The scan above can fail: it finds the kind of list it forbids."""
    module = tmp_path / "drifted.py"
    module.write_text('SWITCHES = ("innovation", "horizontal")\nCOLOURS = {"vertical": 1}\n')
    assert literal_lists(module) == [(1, ["horizontal", "innovation"])]


def test_every_consumer_covers_every_registered_mechanism():
    from diffusion_sim.app import params, session, views
    from diffusion_sim.record import plotting
    from diffusion_sim.studies import modes

    assert modes.SWITCHED == tuple(m.name for m in registry.MECHANISMS if m.switched_by_modes)
    embedded_mode = modes.mode("embedded")
    assert set(embedded_mode.on) == set(modes.SWITCHED)
    for m in registry.MECHANISMS:
        assert (f"mechanisms.{m.name}", m.title) in params.SECTIONS
        for channel in m.channels:
            assert views.CHANNEL_COLOURS[channel] == plotting.CHANNEL_COLOURS[channel]
        if m.kern:
            assert m.name in session.MECHANISMS
            assert m.name in modes.mode(m.kern).on
    assert set(registry.CHANNELS) == set(views.CHANNEL_COLOURS)


def test_the_schema_and_the_test_helper_know_every_mechanism():
    scenario = ds.Scenario()
    with pytest.raises(InputError) as error:
        scenario.with_mechanisms("toy")
    for name in registry.MECHANISM_NAMES:
        assert name in str(error.value)
    alone = only(scenario, "vertical")
    for name in registry.MECHANISM_NAMES:
        section = getattr(alone.mechanisms, name)
        assert section.enabled == (name == "vertical")


def test_a_new_entry_reaches_the_modes_of_its_type(monkeypatch):
    """A toy mechanism of Kern's vertical type, registered at run time, joins the vertical mode.

    The registry is data: its derived tuples are computed from MECHANISMS, so a
    new descriptor is all the modes need (the engines' composition is the
    mechanism's own, docs/architecture.md).
    """
    toy = registry.Mechanism(
        "toy", "Toy: a constant hazard", ("vertical",), "vertical", True, "toy"
    )
    monkeypatch.setattr(registry, "MECHANISMS", (*registry.MECHANISMS, toy))
    monkeypatch.setattr(registry, "VOLUNTARY_BASE", ("innovation",))
    assert registry.of_kern_type("vertical") == ("innovation", "vertical", "toy")
    assert registry.mechanism("toy") == toy
    assert registry.owner_of("preemption").name == "hierarchical"
