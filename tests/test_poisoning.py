"""Exports and data files that cannot be poisoned: names, layers, CSV cells, XML, overwrites.

Each test is one way a hostile name or file used to get through (issue 24): a
network named after a world layer, non-characters that break XML, spreadsheet
formulas in CSV cells, and ``export`` replacing files it was not asked to replace.
"""

from __future__ import annotations

import csv
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import diffusion_sim as ds
from diffusion_sim.cli import main
from diffusion_sim.errors import InputError
from diffusion_sim.model.ties import layer_names
from diffusion_sim.record.csv_cells import (
    FORMULA_STARTS,
    neutral,
    neutral_batch,
    neutral_schema,
    write_csv,
)
from diffusion_sim.scenario.types import WORLD_LAYERS
from diffusion_sim.studies.graph_export import edges_frame, export, network_layers
from tests.conftest import ROOT, SCENARIOS, small

pytestmark = pytest.mark.filterwarnings(r"ignore:World\.from_graph\x3a no capacity")

EVIL = '=HYPERLINK("http://evil","x")'
"""A network name a spreadsheet would run as a formula (valid: it is printable text)."""
ODD = "a<&>\"'🌍"
"""A name XML must escape (and one outside the BMP)."""


def scenario_file(folder: Path, networks: dict[str, str], extra: str = "") -> Path:
    """A scenario extending the shipped classroom one, with networks of the given names."""
    for name in ("classroom.toml", "_europe_world.toml", "_europe_bare.toml"):
        source = SCENARIOS / name
        if source.is_file():
            (folder / name).write_text(source.read_text())
    lines = ['name = "poison"', 'extends = "classroom.toml"', extra]
    for name, rule in networks.items():
        escaped = "".join(toml_char(c) for c in name)
        lines += ["", f'[networks."{escaped}"]', f'rule = "{rule}"', "size = 8"]
    path = folder / "poison.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def toml_char(c: str) -> str:
    """A character as a TOML basic string holds it (escaped when not printable)."""
    if c in '"\\':
        return "\\" + c
    if c.isprintable():
        return c
    return f"\\u{ord(c):04X}" if ord(c) < 0x10000 else f"\\U{ord(c):08X}"


def cli(args: list[str], capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------------ layer names


@pytest.mark.parametrize("name", ["proximity", "twinning", "graph", "Proximity", " twinning "])
def test_a_network_named_after_a_world_layer_is_refused_with_key_and_line(tmp_path, capsys, name):
    path = scenario_file(tmp_path, {name: "open"})
    code, _, err = cli(["validate", path], capsys)
    assert code == 2
    assert f"key 'networks.{name}' (line 5)" in err
    assert "world's own tie layer" in err and "Traceback" not in err


def test_a_network_name_holding_the_layer_separator_is_refused(tmp_path, capsys):
    code, _, err = cli(["validate", scenario_file(tmp_path, {"c40;proximity": "open"})], capsys)
    assert code == 2 and "key 'networks.c40;proximity' (line 5)" in err and "';'" in err


def test_worlds_bring_only_the_reserved_layer_names():
    synthetic = ds.build_world(small(ds.load_scenario(SCENARIOS / "embedded.toml"), cities=200))
    real = ds.build_world(ds.load_scenario(SCENARIOS / "classroom.toml"))
    graph = ds.World.from_graph(nx.path_graph(5))
    for world in (synthetic, real, graph):
        assert set(world.layers) <= set(WORLD_LAYERS), set(world.layers)


def test_every_exported_layer_is_one_layer_under_its_own_label():
    """Edges tagged with a label are exactly that layer's ties: none taken over, none merged."""
    world = ds.build_world(small(ds.load_scenario(SCENARIOS / "embedded.toml"), cities=250))
    layers = network_layers(world)
    assert list(layers) == layer_names(world)
    edges = edges_frame(world)
    tags = edges["layers"].str.split(";")
    for name, layer in layers.items():
        import scipy.sparse as sp

        upper = sp.triu(sp.csr_array(layer), k=1).tocoo()
        tagged = edges[tags.map(lambda t, n=name: n in t)]
        assert len(tagged) == upper.nnz, name
        np.testing.assert_array_equal(tagged["source"], np.sort(upper.row, kind="stable"))


def test_an_export_refuses_two_layers_under_one_label():
    base = ds.build_world(small(ds.load_scenario(SCENARIOS / "embedded.toml"), cities=200))
    first = base.networks[0].name
    import dataclasses

    clash = dataclasses.replace(base, layers={**base.layers, first: base.layers["proximity"]})
    assert layer_names(clash).count(f"{first} (network)") == 1  # a run keeps them apart
    clash = dataclasses.replace(
        clash, layers={**clash.layers, f"{first} (network)": base.layers["twinning"]}
    )
    with pytest.raises(InputError, match="an export would merge them"):
        edges_frame(clash)


# ------------------------------------------------------------------ non-characters and XML


@pytest.mark.parametrize("char", ["\ufffe", "\uffff", "\ufdd0", "\U0001fffe", "\x01", "\x7f"])
def test_non_characters_and_controls_in_names_are_refused(tmp_path, capsys, char):
    code, _, err = cli(["validate", scenario_file(tmp_path, {f"net{char}": "open"})], capsys)
    assert code == 2 and "(line 5)" in err and f"U+{ord(char):04X}" in err


def test_non_characters_in_other_names_are_refused_too():
    with pytest.raises(InputError, match="U\\+FFFF"):
        ds.Scenario().with_overrides({"governments.overrides": {"Bel\uffffgium": {}}})


def well_formed(path: Path) -> ET.Element:
    """The file parsed by a real XML parser (expat): raises on anything not well-formed."""
    return ET.parse(path).getroot()


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_every_exported_graph_file_is_well_formed_xml(tmp_path, capsys, fmt):
    path = scenario_file(tmp_path, {EVIL: "open", ODD: "regional"})
    for extra in ([], ["--world-only"], ["--cascade"]):
        out = tmp_path / f"out{len(extra)}{'-'.join(extra)}.{fmt}"
        code, _, err = cli(["export", path, "--format", fmt, "--out", out, *extra], capsys)
        assert code == 0, err
        root = well_formed(out)
        text = ET.tostring(root, encoding="unicode")
        assert "HYPERLINK" in text and "🌍" in text  # the names arrive, escaped, not dropped
        graph = nx.read_graphml(out) if fmt == "graphml" else nx.read_gexf(out)
        if "--cascade" not in extra:
            assert graph.number_of_edges() > 0
            labels = {
                label for _, _, d in graph.edges(data=True) for label in d["layers"].split(";")
            }
            assert {EVIL, ODD} <= labels


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
@pytest.mark.parametrize("name", ["a\ufffeb", "a\x01b", "a\x0bb"])
def test_the_xml_writers_refuse_text_xml_cannot_hold(tmp_path, fmt, name):
    world = ds.World.from_graph(nx.path_graph(4), names=["one", name, "three", "four"])
    with pytest.raises(
        InputError, match=r"node 1's '(label|name)' holds U\+[0-9A-F]{4}, a character XML"
    ):
        export(world, tmp_path / f"w.{fmt}")
    assert list(tmp_path.iterdir()) == []  # refused before any file was begun
    (nodes, _) = export(world, tmp_path / "w", "csv")  # CSV carries any text
    assert pd.read_csv(nodes)["name"].tolist()[1] == name


# ------------------------------------------------------------------ CSV cells


def cells(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_export_csv_cells_cannot_run_in_a_spreadsheet(tmp_path, capsys):
    path = scenario_file(tmp_path, {EVIL: "open", "-3": "open", "@sum": "open"})
    code, _, err = cli(["export", path, "--format", "csv", "--out", tmp_path / "t"], capsys)
    assert code == 0, err
    nodes, edges = tmp_path / "t" / "world-nodes.csv", tmp_path / "t" / "world-edges.csv"
    for table in (nodes, edges):
        rows = cells(table)
        for row in rows:
            for cell in row:
                # a cell starting with a formula character is a number (a numeric column)
                assert not cell.startswith(FORMULA_STARTS) or is_number(cell), (table, cell)
    layers = pd.read_csv(edges)["layers"]
    assert (layers == "'" + EVIL).any() and (layers == "'-3").any()
    numbers = pd.read_csv(nodes)
    assert pd.api.types.is_numeric_dtype(numbers["lon"])  # numbers stay numbers


def test_text_cells_are_escaped_and_numbers_never(tmp_path):
    frame = pd.DataFrame(
        {
            "text": [EVIL, "-3", "+1", "@a", "\tx", "=x", "Ghent", None],
            "number": [-3, 1, -0.5, 2, 3, 4, 5, 6],
            "kind": pd.Categorical(["=a", "b", "b", "b", "b", "b", "b", "b"]),
        }
    ).set_index("text", drop=False)
    write_csv(frame, tmp_path / "t.csv")
    body = cells(tmp_path / "t.csv")[1:]
    assert [row[1] for row in body[:6]] == ["'" + t for t in frame["text"][:6]]
    assert [row[0] for row in body[:6]] == ["'" + t for t in frame["text"][:6]]  # the index
    assert body[6][1] == "Ghent" and body[0][2] == "-3.0" and body[2][2] == "-0.5"
    assert body[0][3] == "'=a"
    assert frame["text"].iloc[0] == EVIL  # the caller's frame is not changed
    assert neutral("\rx") == "'\rx" and neutral(-3) == -3 and neutral(b"=x") == b"=x"


def test_streamed_csv_batches_are_escaped_too():
    import pyarrow as pa
    import pyarrow.csv as pacsv

    table = pa.table({"name": ["=1+1", "ok", None], "value": [-3, 4, 5], "=col": ["a", "b", "c"]})
    table = table.set_column(0, "name", table["name"].dictionary_encode())
    sink = pa.BufferOutputStream()
    with pacsv.CSVWriter(sink, neutral_schema(table.schema)) as writer:
        for batch in table.to_batches():
            writer.write_batch(neutral_batch(batch))
    text = sink.getvalue().to_pybytes().decode()
    rows = list(csv.reader(text.splitlines()))
    assert rows[0] == ["name", "value", "'=col"]
    assert rows[1] == ["'=1+1", "-3", "a"] and rows[2] == ["ok", "4", "b"]


def test_every_csv_writer_goes_through_csv_cells():
    """No CSV is written any other way (a new writer must use csv_cells, or this fails)."""
    writers = re.compile(r"\.to_csv\(|CSVWriter\(|csv\.writer\(|DictWriter\(|write_csv\(")
    escaped = re.compile(r"neutral_schema\(|(?<![\w.])write_csv\(")
    offenders = []
    for path in (ROOT / "diffusion_sim").rglob("*.py"):
        if path.name == "csv_cells.py":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#")[0]
            if writers.search(code) and not escaped.search(code) and "def " not in code:
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


# ------------------------------------------------------------------ never overwritten


def test_export_csv_never_overwrites_its_files_without_force(tmp_path, capsys):
    path = scenario_file(tmp_path, {"c": "open"})
    existing = tmp_path / "net-nodes.csv"
    existing.write_text("precious\n")
    args = ["export", path, "--format", "csv", "--world-only", "--out", tmp_path / "net.csv"]
    code, _, err = cli(args, capsys)
    assert code == 2 and f"{existing}: exists; pass --force" in err
    assert existing.read_text() == "precious\n" and not (tmp_path / "net-edges.csv").exists()
    code, _, err = cli([*args, "--force"], capsys)
    assert code == 0, err
    assert len(pd.read_csv(existing)) == 63 and (tmp_path / "net-edges.csv").is_file()
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left


def test_export_into_a_folder_keeps_other_files_and_refuses_its_own(tmp_path, capsys):
    path = scenario_file(tmp_path, {"c": "open"})
    folder = tmp_path / "tables"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    base = ["export", path, "--format", "csv", "--world-only", "--out", folder]
    assert cli(base, capsys)[0] == 0
    assert (folder / "notes.txt").read_text() == "mine"
    before = (folder / "world-edges.csv").read_bytes()
    code, _, err = cli(base, capsys)
    assert code == 2 and "world-nodes.csv: exists; pass --force" in err
    assert (folder / "world-edges.csv").read_bytes() == before


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_export_graph_file_is_replaced_only_with_force(tmp_path, capsys, fmt):
    path = scenario_file(tmp_path, {"c": "open"})
    out = tmp_path / f"w.{fmt}"
    out.write_text("precious")
    args = ["export", path, "--format", fmt, "--world-only", "--out", out]
    code, _, err = cli(args, capsys)
    assert code == 2 and "exists; pass --force" in err and out.read_text() == "precious"
    assert cli([*args, "--force"], capsys)[0] == 0
    well_formed(out)


def test_the_api_never_overwrites_either(tmp_path):
    world = ds.World.from_graph(nx.path_graph(4))
    (written,) = export(world, tmp_path / "w.graphml")
    with pytest.raises(InputError, match="exists; pass --force"):
        export(world, written)
    assert export(world, written, force=True) == [written]
