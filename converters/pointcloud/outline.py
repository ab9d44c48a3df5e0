"""A concave 2D outline of the area a point cloud occupies, in WGS84 (for coverage statistics).

Points are counted on a ``GRID``×``GRID`` occupancy raster over the octree cube; occupied cells are
merged into polygons, closed by one cell (fills scan gaps), simplified, and mapped to lon/lat.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import box, mapping
from shapely.geometry.base import BaseGeometry

from converters.georef import LocalFrame
from converters.pointcloud.octree import Cube

GRID = 128


class Occupancy:
    def __init__(self, cube: Cube) -> None:
        self.cube = cube
        self.grid = np.zeros((GRID, GRID), dtype=bool)
        self.z_sum = 0.0
        self.count = 0

    def add(self, enu: NDArray[np.float64]) -> None:
        if len(enu) == 0:
            return
        cells = np.floor((enu[:, :2] - self.cube.origin[:2]) / self.cube.size * GRID).astype(np.int64)
        np.clip(cells, 0, GRID - 1, out=cells)
        self.grid[cells[:, 1], cells[:, 0]] = True
        self.z_sum += float(enu[:, 2].sum())
        self.count += len(enu)

    def outline(self, frame: LocalFrame) -> tuple[dict[str, Any] | None, float]:
        """GeoJSON geometry (EPSG:4326) and area in m² of the occupied area."""
        if not self.grid.any():
            return None, 0.0
        cell = self.cube.size / GRID
        x0, y0 = self.cube.origin[0], self.cube.origin[1]
        padded = np.pad(self.grid, ((0, 0), (1, 1))).astype(np.int8)
        edges = np.diff(padded, axis=1)  # +1 where a run of occupied cells starts, -1 after it ends
        starts_r, starts_c = np.nonzero(edges == 1)
        _, ends_c = np.nonzero(edges == -1)
        boxes = [box(x0 + c0 * cell, y0 + r * cell, x0 + c1 * cell, y0 + (r + 1) * cell)
                 for r, c0, c1 in zip(starts_r.tolist(), starts_c.tolist(), ends_c.tolist(), strict=True)]
        shape: BaseGeometry = shapely.union_all(boxes).buffer(cell, quad_segs=2).buffer(-cell, quad_segs=2)
        shape = shape.simplify(cell / 2)
        area = float(shape.area)
        height = self.z_sum / max(self.count, 1)

        def to_lonlat(coords: NDArray[np.float64]) -> NDArray[np.float64]:
            enu = np.column_stack([coords[:, 0], coords[:, 1], np.full(len(coords), height)])
            return frame.enu_to_geodetic(enu)[:, :2]

        return mapping(shapely.transform(shape, to_lonlat)), area
