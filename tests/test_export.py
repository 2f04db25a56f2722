"""Export: the world, its networks and a run's adoptions to GraphML, GEXF and CSV."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import diffusion_sim as ds
from diffusion_sim.studies.graph_export import edges_frame, export, network_layers, nodes_frame
from tests.conftest import SCENARIOS, small


@pytest.fixture(scope="module")
def run() -> tuple[ds.World, ds.Result]:
    scenario = small(ds.load_scenario(SCENARIOS / "embedded.toml"), cities=250, steps=30)
    world = ds.build_world(scenario)
    return world, ds.simulate(scenario, seed=4, world=world)


def test_edges_are_the_union_of_every_layer(run):
    world, _ = run
    layers = network_layers(world)
    assert set(layers) == {"proximity", "twinning", "c40", "eurocities", "covenant", "associations"}
    union = sum(layers.values())
    edges = edges_frame(world)
    assert len(edges) == sp_upper_nnz(union)
    assert (edges["source"] < edges["target"]).all()
    # An edge's weight is the number of layers it is in (all layers are 0/1 here).
    counts = edges["layers"].str.count(";") + 1
    np.testing.assert_array_equal(counts, edges["weight"])
    # Network ties only join members.
    c40 = {n.name: n for n in world.networks}["c40"]
    members = set(c40.members().tolist())
    tied = edges[edges["layers"].str.contains("c40")]
    assert set(tied["source"]) | set(tied["target"]) <= members


def sp_upper_nnz(matrix) -> int:
    import scipy.sparse as sp

    return sp.triu(matrix, k=1).nnz


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_graph_files_round_trip(tmp_path, run, fmt):
    world, result = run
    (path,) = export(world, tmp_path / f"w.{fmt}", result=result)
    graph = nx.read_graphml(path) if fmt == "graphml" else nx.read_gexf(path)
    assert graph.number_of_nodes() == world.n_cities
    assert graph.number_of_edges() == len(edges_frame(world))
    step = {int(n): int(d["adoption_step"]) for n, d in graph.nodes(data=True)}
    np.testing.assert_array_equal(
        [step[i] for i in range(world.n_cities)], result.cities["first_adoption_step"]
    )
    channel = {int(n): d["channel"] for n, d in graph.nodes(data=True)}
    adopted = result.cities["adopted"].to_numpy()
    expected = result.cities["channel"].astype(str).to_numpy()
    assert all(channel[i] == expected[i] for i in np.flatnonzero(adopted))
    member = sum(bool(d["member_c40"]) for _, d in graph.nodes(data=True))
    assert member == {n.name: n for n in world.networks}["c40"].size


def test_csv_export(tmp_path, run):
    world, result = run
    nodes_path, edges_path = export(world, tmp_path / "out", "csv", result=result)
    nodes = pd.read_csv(nodes_path)
    assert len(nodes) == world.n_cities
    assert {"adoption_step", "channel", "population", "ladder", "member_covenant"} <= set(nodes)
    assert len(pd.read_csv(edges_path)) == len(edges_frame(world))
    assert nodes_frame(world).shape[0] == world.n_cities  # a world without a run exports too


def test_cli_export_and_bad_format(tmp_path, capsys):
    from diffusion_sim.cli import main

    out = tmp_path / "classroom.graphml"
    assert main(["export", "classroom", "--out", str(out)]) == 0
    graph = nx.read_graphml(out)
    assert 40 <= graph.number_of_nodes() <= 80  # "about 60 cities"
    with pytest.raises(SystemExit) as info:  # argparse rejects it, exit code 2
        main(["export", "classroom", "--format", "pdf"])
    assert info.value.code == 2 and "invalid choice: 'pdf'" in capsys.readouterr().err
    with pytest.raises(ds.InputError, match="unknown export format"):
        export(ds.build_world(ds.load_scenario(SCENARIOS / "classroom.toml")), tmp_path / "x.pdf")


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_graph_files_label_nodes_with_city_names(tmp_path, run, fmt):
    world, result = run
    (path,) = export(world, tmp_path / f"w.{fmt}", result=result)
    graph = nx.read_graphml(path) if fmt == "graphml" else nx.read_gexf(path)
    labels = {int(d["index"]): d["label"] for _, d in graph.nodes(data=True)}
    assert labels == {i: str(name) for i, name in enumerate(world.city_names)}


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_the_cascade_is_a_forest_of_sources_pointing_at_later_adopters(tmp_path, run, fmt):
    world, result = run
    (path,) = export(world, tmp_path / f"cascade.{fmt}", result=result, cascade=True)
    graph = (nx.read_graphml if fmt == "graphml" else nx.read_gexf)(path)
    assert graph.is_directed()
    events = result.events
    carried = (events["source_city"] >= 0) | (events["source_government"] >= 0)
    assert graph.number_of_edges() == carried.sum() > 50
    assert nx.is_branching(graph)  # no abandonment here: every adopter has one parent at most
    first = events[events["kind"] == "adopt"].groupby("city")["step"].min()
    for source, target, attrs in graph.edges(data=True):
        assert first[int(target)] == int(attrs["step"])
        if source.startswith("gov:"):
            assert attrs["channel"] in ("vertical", "hierarchical")
        else:
            assert first[int(source)] < int(attrs["step"])
            assert attrs["layer"] in set(result.events["source_layer"].cat.categories)


def test_cli_exports_a_cascade_as_csv(tmp_path, capsys):
    out = tmp_path / "cascade"
    args = ["export", "classroom", "--cascade", "--format", "csv", "--out", str(out)]
    assert ds.cli.main(args) == 0
    cascade = pd.read_csv(out / "world-cascade.csv")
    assert list(cascade.columns) == ["source", "target", "step", "channel", "layer"]
    assert f"{len(cascade)} adoptions with their source" in capsys.readouterr().out
    assert ds.cli.main(["export", "classroom", "--cascade", "--world-only"]) == 2
