"""Export a world with its networks, and a run's adoptions, for Gephi, Cytoscape or a spreadsheet.

Nodes are cities with their attributes (name, country, region, population,
coordinates, capacity, leaning, ladder rung, memberships) and, when a run is
given, the step at which each first adopted and the channel that brought it.
Edges are the tie layers (proximity, twinning) and the co-membership ties of
every network at its starting size, built exactly as a run builds them; an
edge carries the names of the layers it belongs to and their total weight.

Nothing written can be misread: each layer keeps its own label (a network never
takes a world layer's name, :mod:`diffusion_sim.scenario.types`); every text
cell of a CSV is inert in a spreadsheet (:mod:`diffusion_sim.record.csv_cells`); a text
that XML cannot hold is refused before a GraphML or GEXF file is begun; files
are written whole under a temporary name, and an existing one is replaced only
with ``force``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp

from diffusion_sim.errors import InputError
from diffusion_sim.model.ties import layer_names, network_ties
from diffusion_sim.record.csv_cells import write_csv
from diffusion_sim.record.results import Result
from diffusion_sim.record.storage import disk_full_is_input_error
from diffusion_sim.scenario.types import LAYER_SEPARATOR
from diffusion_sim.world import World

Format = Literal["graphml", "gexf", "csv"]
FORMATS: tuple[str, ...] = ("graphml", "gexf", "csv")


def network_layers(world: World) -> dict[str, sp.csr_array]:
    """Every tie layer: the world's own and each network's co-membership ties.

    Network ties are the ones a run's horizontal influence flows over at each
    network's starting size (:func:`diffusion_sim.model.ties.network_ties`), under the
    labels a run's provenance gives them (:func:`diffusion_sim.model.ties.layer_names`).
    Two layers under one label, or a label holding the separator of an edge's
    labels, would merge layers in the files: refused.
    """
    names = layer_names(world)
    clash = sorted({name for name in names if names.count(name) > 1})
    if clash:
        raise InputError(
            f"two tie layers of this world are labelled {clash[0]!r}: an export would merge "
            "them; rename the network or the world's layer"
        )
    joined = [name for name in names if LAYER_SEPARATOR in name]
    if joined:
        raise InputError(
            f"tie layer {joined[0]!r} holds {LAYER_SEPARATOR!r}, which separates an edge's "
            "layers in exports: rename it"
        )
    layers = dict(world.layers)
    for k, name in enumerate(names[len(world.layers) :]):
        layers[name] = network_ties(world, k, world.networks[k].size)
    return layers


def nodes_frame(world: World, result: Result | None = None) -> pd.DataFrame:
    """One row per city: attributes, memberships and (with a run) adoption step and channel."""
    nodes = world.cities_frame()
    nodes["ladder"] = nodes["ladder"].astype(str)
    if "country_codes" in world.meta:
        nodes["country_code"] = np.asarray(world.meta["country_codes"], dtype=object)[world.country]
    if "geonameid" in world.meta:
        nodes["geonameid"] = world.meta["geonameid"]
    for net in world.networks:
        member = np.zeros(world.n_cities, dtype=bool)
        member[net.members()] = True
        nodes[f"member_{net.name}"] = member
    if result is not None:
        _check_same_world(world, result)
        cities = result.cities
        nodes["adopted"] = cities["adopted"].to_numpy()
        nodes["adoption_step"] = cities["first_adoption_step"].to_numpy()
        nodes["channel"] = cities["channel"].astype(str).replace({"nan": ""}).to_numpy()
    return nodes


def edges_frame(world: World) -> pd.DataFrame:
    """One row per tied pair (source < target): the layers it belongs to and its total weight."""
    parts = []
    for name, layer in network_layers(world).items():
        upper = sp.triu(sp.csr_array(layer), k=1).tocoo()
        parts.append(
            pd.DataFrame(
                {"source": upper.row, "target": upper.col, "layer": name, "weight": upper.data}
            )
        )
    if not parts:
        return pd.DataFrame(columns=["source", "target", "layers", "weight"])
    edges = pd.concat(parts, ignore_index=True)
    grouped = edges.groupby(["source", "target"], sort=True)
    return pd.DataFrame(
        {
            "layers": grouped["layer"].agg(";".join),
            "weight": grouped["weight"].sum(),
        }
    ).reset_index()


def to_networkx(world: World, result: Result | None = None):
    """The world as a networkx Graph with plain-Python node and edge attributes.

    Nodes are the city indices, each with ``label`` (its name, what Gephi shows)
    and ``index`` attributes beside the city's other attributes.
    """
    import networkx as nx

    nodes = nodes_frame(world, result)
    edges = edges_frame(world)
    graph = nx.Graph(name=str(world.meta.get("generator", "world")))
    records = nodes.drop(columns=["city"]).to_dict("records")
    for city, attrs in zip(nodes["city"].tolist(), records, strict=True):
        # Gephi and Cytoscape show ``label``: the city's name; ``index`` is its number in
        # the world (and in a run's tables); node ids stay the index (names can repeat).
        plain = {k: _plain(v) for k, v in attrs.items()}
        graph.add_node(int(city), label=str(plain.get("name", city)), index=int(city), **plain)
    graph.add_edges_from(
        (int(s), int(t), {"layers": layers, "weight": float(w)})
        for s, t, layers, w in edges.itertuples(index=False)
    )
    return graph


def cascade_frame(world: World, result: Result) -> pd.DataFrame:
    """One row per adoption with a source: who carried it to whom, when, and how.

    ``source`` is a city index for a horizontal adoption (``layer`` names the
    tie layer) or ``gov:<name>`` for a vertical or hierarchical one; with
    abandonment a city that adopts again has one row per adoption.
    """
    _check_same_world(world, result)
    events = result.events
    adoptions = events[(events["kind"] == "adopt")]
    by_city = adoptions[adoptions["source_city"] >= 0]
    by_gov = adoptions[adoptions["source_government"] >= 0]
    gov_names = result.governments["name"].to_numpy()
    frame = pd.concat(
        [
            pd.DataFrame(
                {
                    "source": by_city["source_city"].astype(str),
                    "target": by_city["city"],
                    "step": by_city["step"],
                    "channel": by_city["channel"].astype(str),
                    "layer": by_city["source_layer"].astype(str),
                }
            ),
            pd.DataFrame(
                {
                    "source": "gov:" + gov_names[by_gov["source_government"]].astype(str),
                    "target": by_gov["city"],
                    "step": by_gov["step"],
                    "channel": by_gov["channel"].astype(str),
                    "layer": "",
                }
            ),
        ]
    )
    return frame.sort_index(kind="stable").reset_index(drop=True)


def cascade_to_networkx(world: World, result: Result):
    """The run's cascade as a networkx DiGraph: cities and governments, an edge per adoption.

    Every city is a node (with its attributes, adoption step and channel);
    governments that carried an adoption are nodes ``gov:<name>``. Edges point
    from the source to the adopter, with ``step``, ``channel`` and ``layer``.
    Without abandonment every city has at most one parent: a forest.
    """
    import networkx as nx

    nodes = nodes_frame(world, result)
    cascade = cascade_frame(world, result)
    graph = nx.DiGraph(name=f"cascade of {result.manifest.get('scenario_name', 'a run')}")
    records = nodes.drop(columns=["city"]).to_dict("records")
    for city, attrs in zip(nodes["city"].tolist(), records, strict=True):
        plain = {k: _plain(v) for k, v in attrs.items()}
        graph.add_node(str(city), label=str(plain.get("name", city)), index=int(city), **plain)
    for gov in sorted({s for s in cascade["source"] if s.startswith("gov:")}):
        graph.add_node(gov, label=gov[4:], index=-1, kind="government")
    for row in cascade.itertuples(index=False):
        graph.add_edge(
            str(row.source),
            str(row.target),
            step=int(row.step),
            channel=row.channel,
            layer=row.layer if row.layer != "nan" else "",
        )
    return graph


def _check_same_world(world: World, result: Result) -> None:
    if len(result.cities) != world.n_cities:
        raise InputError(
            f"the run has {len(result.cities)} cities but the world {world.n_cities}: export a "
            "run together with the world it ran on"
        )


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters outside XML 1.0's ``Char``: no escape can put them in a GraphML or GEXF file."""


def check_xml_text(graph) -> None:
    """Refuse a graph holding text XML cannot hold, naming where (before any file is begun)."""
    texts = [("the graph's name", graph.graph.get("name", ""))]
    for node, attrs in graph.nodes(data=True):
        texts.append((f"node {node}", node))
        texts.extend((f"node {node}'s {key!r}", v) for key, v in attrs.items())
        texts.extend((f"attribute name of node {node}", key) for key in attrs)
    for source, target, attrs in graph.edges(data=True):
        texts.extend((f"edge {source}-{target}'s {key!r}", v) for key, v in attrs.items())
    for where, text in texts:
        found = _NOT_XML.search(text) if isinstance(text, str) else None
        if found:
            raise InputError(
                f"{where} holds U+{ord(found.group()):04X}, a character XML cannot hold: "
                "GraphML and GEXF cannot carry it (rename it, or export --format csv)"
            )


def output_paths(path: str | Path, format: str, cascade: bool = False) -> list[Path]:
    """The files :func:`export` writes for ``path`` (checked by the CLI before any work).

    For CSV, ``path`` is a folder (``<folder>/world-nodes.csv`` …) or a file stem
    (``net.csv`` or ``net`` ending in ``-`` gives ``net-nodes.csv`` …).
    """
    path = Path(path)
    if format != "csv":
        return [path]
    folder_given = path.suffix == "" and not path.name.endswith("-")
    stem = path / "world" if folder_given else path.with_suffix("")
    tail = "-cascade.csv" if cascade else "-edges.csv"
    return [stem.with_name(stem.name + "-nodes.csv"), stem.with_name(stem.name + tail)]


def _publish(written: list[tuple[Path, Path]], force: bool) -> None:
    """Move finished temporary files onto their names; without ``force`` never onto a file
    that exists (a hard link fails then, atomically), and then none of them is moved."""
    taken = [target for _, target in written if target.exists() or target.is_symlink()]
    if taken and not force:
        for tmp, _ in written:
            tmp.unlink(missing_ok=True)
        raise InputError(f"{taken[0]}: exists; pass --force to replace it")
    for tmp, target in written:
        if force:
            os.replace(tmp, target)
            continue
        try:
            os.link(tmp, target)
        except FileExistsError:
            for left, _ in written:
                left.unlink(missing_ok=True)
            raise InputError(
                f"{target}: appeared while exporting; pass --force to replace it"
            ) from None
        tmp.unlink()


def _plain(value):
    """GraphML and GEXF writers take Python scalars only (no numpy types, no None)."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return value


def export(
    world: World,
    path: str | Path,
    format: Format | None = None,
    *,
    result: Result | None = None,
    cascade: bool = False,
    force: bool = False,
) -> list[Path]:
    """Write the world (and a run's adoptions), or a run's cascade, as GraphML, GEXF or CSV.

    Parameters
    ----------
    world : World
        With its networks (``build_world`` attaches them).
    path : path
        A file (``.graphml``, ``.gexf``) or, for CSV, a folder or a file stem:
        ``<stem>-nodes.csv`` and ``<stem>-edges.csv`` are written.
    format : {"graphml", "gexf", "csv"}, optional
        Guessed from the suffix when omitted.
    result : Result, optional
        A run on this world: adds each city's adoption step and channel.
    cascade : bool
        Write the run's cascade instead of the world's ties: an edge from the
        source of every adoption to the adopter (:func:`cascade_to_networkx`;
        CSV: ``<stem>-cascade.csv``). Needs ``result``.
    force : bool
        Replace files that exist; without it an existing file is an InputError and
        nothing is written (:func:`output_paths` names the files).

    Returns
    -------
    list of Path
        The files written.
    """

    path = Path(path)
    if format is None:
        format = path.suffix.lstrip(".").lower() or "csv"  # type: ignore[assignment]
    if format not in FORMATS:
        raise InputError(f"unknown export format {format!r}; allowed: {', '.join(FORMATS)}")
    if cascade and result is None:
        raise InputError("a cascade is a run's: export it with a run, not the world only")
    targets = output_paths(path, format, cascade)
    if format == "csv":
        frames = [
            nodes_frame(world, result),
            cascade_frame(world, result) if cascade else edges_frame(world),
        ]
    else:
        graph = cascade_to_networkx(world, result) if cascade else to_networkx(world, result)
        check_xml_text(graph)
        frames = [graph]
    folder = targets[0].parent
    made = not folder.exists()
    written = []
    try:
        with disk_full_is_input_error(targets[0]):
            folder.mkdir(parents=True, exist_ok=True)
            _write_all(targets, frames, format, written)
            _publish(written, force)
    except BaseException:
        for tmp, _ in written:
            tmp.unlink(missing_ok=True)
        if made and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()  # a folder made for files never written goes too
        raise
    return targets


def _write_all(targets: list[Path], frames: list, format: str, written: list) -> None:
    """Each file under a hidden temporary name beside its target (listed in ``written``)."""
    import networkx as nx

    for target, content in zip(targets, frames, strict=True):
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        written.append((tmp, target))
        if format == "csv":
            write_csv(content, tmp, index=False)
        elif format == "graphml":
            nx.write_graphml(content, tmp)
        else:
            nx.write_gexf(content, tmp)
