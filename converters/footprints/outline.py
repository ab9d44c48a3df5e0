"""The union of building footprints as a WGS84 GeoJSON geometry (coverage statistics)."""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping

from converters.georef import LocalFrame

MAX_PARTS = 500  # beyond this, nearby buildings are merged (closing by CLOSE_M) to keep reports small
CLOSE_M = 15.0


def union_outline(polygons_enu: np.ndarray, frame: LocalFrame, height: float) -> tuple[dict[str, Any] | None, float]:
    """GeoJSON geometry of the union (lon/lat) and the exact union area in m²."""
    if len(polygons_enu) == 0:
        return None, 0.0
    union = shapely.union_all(polygons_enu)
    area = float(union.area)
    shape = union
    if shapely.get_num_geometries(shape) > MAX_PARTS:
        shape = shape.buffer(CLOSE_M, quad_segs=2).buffer(-CLOSE_M, quad_segs=2)
    shape = shape.simplify(0.2)

    def to_lonlat(xy: np.ndarray) -> np.ndarray:
        enu = np.column_stack([xy[:, 0], xy[:, 1], np.full(len(xy), height)])
        return frame.enu_to_geodetic(enu)[:, :2]

    return mapping(shapely.transform(shape, to_lonlat)), area
