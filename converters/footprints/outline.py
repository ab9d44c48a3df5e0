"""The area covered by building footprints as a WGS84 GeoJSON geometry (coverage statistics).

Up to :data:`EXACT_MAX` buildings the outline is their exact union. Beyond that (a city layer of
tens of thousands of buildings) the union would be a huge multipolygon that is slow to build and
useless in a report: footprints are rasterised on a grid of at most ``GRID``×``GRID`` cells of at
least ``MIN_CELL_M``, occupied cells are merged, closed by one cell and simplified — a coverage outline
of built-up blocks. The area reported is the union's area for small layers, else the sum of the
footprint areas (overlaps between footprints, rare in a cadastre, are then counted twice).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import box, mapping
from shapely.geometry.base import BaseGeometry

from converters.georef import LocalFrame

EXACT_MAX = 500
GRID = 256
MIN_CELL_M = 20.0
CLOSING_CELLS = 2  # gaps up to about 2 × CLOSING_CELLS cells between buildings are closed


def _dilate(grid: NDArray[np.bool_]) -> NDArray[np.bool_]:
    out = grid.copy()
    out[1:] |= grid[:-1]
    out[:-1] |= grid[1:]
    out[:, 1:] |= grid[:, :-1]
    out[:, :-1] |= grid[:, 1:]
    return out


def _close(grid: NDArray[np.bool_], steps: int) -> NDArray[np.bool_]:
    padded = np.pad(grid, steps + 1)
    for _ in range(steps):
        padded = _dilate(padded)
    for _ in range(steps):
        padded = ~_dilate(~padded)
    return padded[steps + 1 : -steps - 1, steps + 1 : -steps - 1]


def _raster_outline(points: NDArray[np.float64]) -> BaseGeometry:
    """Coverage outline from ENU (x, y) points: every footprint vertex plus one interior-ish point each."""
    minx, miny = points.min(axis=0)
    maxx, maxy = points.max(axis=0)
    cell = max(MIN_CELL_M, max(maxx - minx, maxy - miny) / GRID)
    nx, ny = int((maxx - minx) / cell) + 1, int((maxy - miny) / cell) + 1
    grid = np.zeros((ny, nx), dtype=bool)
    cols = np.clip(((points[:, 0] - minx) / cell).astype(int), 0, nx - 1)
    rows = np.clip(((points[:, 1] - miny) / cell).astype(int), 0, ny - 1)
    grid[rows, cols] = True
    grid = _close(grid, CLOSING_CELLS)
    padded = np.pad(grid, ((0, 0), (1, 1))).astype(np.int8)
    edges = np.diff(padded, axis=1)
    starts_r, starts_c = np.nonzero(edges == 1)
    _, ends_c = np.nonzero(edges == -1)
    boxes = [box(minx + c0 * cell, miny + r * cell, minx + c1 * cell, miny + (r + 1) * cell)
             for r, c0, c1 in zip(starts_r.tolist(), starts_c.tolist(), ends_c.tolist(), strict=True)]
    return shapely.union_all(boxes).simplify(cell / 2)


def _to_geojson(shape: BaseGeometry, frame: LocalFrame, height: float) -> dict[str, Any]:
    def to_lonlat(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        enu = np.column_stack([xy[:, 0], xy[:, 1], np.full(len(xy), height)])
        return frame.enu_to_geodetic(enu)[:, :2]

    return mapping(shapely.transform(shape, to_lonlat))


def coverage_outline(points: NDArray[np.float64], frame: LocalFrame, height: float) -> dict[str, Any] | None:
    """:func:`union_outline`'s coverage outline for many footprints from ENU (x, y) points on them."""
    if len(points) == 0:
        return None
    return _to_geojson(_raster_outline(points), frame, height)


def union_outline(polygons_enu: NDArray[np.object_], frame: LocalFrame,
                  height: float) -> tuple[dict[str, Any] | None, float]:
    """GeoJSON geometry (lon/lat) of the covered area, and the footprint area in m² (see module doc)."""
    if len(polygons_enu) == 0:
        return None, 0.0
    area = float(shapely.area(polygons_enu).sum())
    if len(polygons_enu) <= EXACT_MAX:
        union = shapely.union_all(polygons_enu)
        area = float(union.area)
        shape = union.simplify(0.05)
    else:
        shape = _raster_outline(np.concatenate([shapely.get_coordinates(polygons_enu),
                                                shapely.get_coordinates(shapely.centroid(polygons_enu))]))
    return _to_geojson(shape, frame, height), area
