"""Street and footprint geometries: GeoJSON in any CRS pyproj knows in, EPSG:4490 (CGCS2000 lon/lat)
stored, as the heritage domain stores its records (compound CRSs: the horizontal part is used)."""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from geoalchemy2.elements import WKBElement, WKTElement
from geoalchemy2.shape import to_shape
from numpy.typing import NDArray
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError, ProjError
from shapely.errors import ShapelyError
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from cim_platform.core.errors import InvalidInput

STORAGE_SRID = 4490
DEFAULT_CRS = f"EPSG:{STORAGE_SRID}"
ORDOS_BOUNDS = (106.0, 37.0, 112.5, 41.5)
LINES = (LineString, MultiLineString)
AREAS = (Polygon, MultiPolygon)
GeoJSON = dict[str, Any]


@lru_cache(maxsize=64)
def _transformer(crs_text: str) -> Transformer:
    try:
        source = CRS.from_user_input(crs_text)
    except (CRSError, ProjError, ValueError, TypeError):
        raise InvalidInput(f"unknown CRS {crs_text!r} (e.g. EPSG:4546)", params={"crs": crs_text[:60]}) from None
    if source.is_compound:
        source = source.sub_crs_list[0]
    if not (source.is_projected or source.is_geographic):
        raise InvalidInput(f"CRS {crs_text!r} is neither projected nor geographic", params={"crs": crs_text[:60]})
    try:
        return Transformer.from_crs(source, CRS.from_epsg(STORAGE_SRID), always_xy=True)
    except (CRSError, ProjError) as exc:
        raise InvalidInput(
            f"no transformation from {crs_text!r} to EPSG:4490: {exc}", params={"crs": crs_text[:60]}
        ) from None


def to_storage(field: str, value: GeoJSON, crs_text: str, *, lines: bool) -> WKTElement:
    """A line or polygon (``lines``) or a polygon only, transformed to EPSG:4490; InvalidInput says why not."""
    transformer = _transformer(crs_text)
    try:
        geometry: BaseGeometry = shape(value)
    except (AttributeError, KeyError, TypeError, ValueError, IndexError, ShapelyError) as exc:
        raise InvalidInput(f"{field} is not a GeoJSON geometry: {exc}", params={"field": field}) from None
    if geometry.is_empty:
        raise InvalidInput(f"{field} is empty", params={"field": field})
    allowed = (*LINES, *AREAS) if lines else AREAS
    if not isinstance(geometry, allowed):
        kinds = "a LineString or Polygon (or Multi…)" if lines else "a Polygon or MultiPolygon"
        raise InvalidInput(f"{field} must be {kinds}", params={"field": field})

    def project(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    try:
        geometry = shapely.transform(geometry, project)
    except (ProjError, ValueError) as exc:
        raise InvalidInput(f"{field} cannot be transformed from {crs_text}: {exc}", params={"field": field}) from None
    if isinstance(geometry, AREAS) and not geometry.is_valid:
        reason = explain_validity(geometry)
        raise InvalidInput(f"{field} is not a valid polygon: {reason}", params={"field": field, "reason": reason})
    west, south, east, north = geometry.bounds
    bw, bs, be, bn = ORDOS_BOUNDS
    if not all(math.isfinite(v) for v in (west, south, east, north)):
        raise InvalidInput(f"{field} has coordinates that cannot be placed in {crs_text}", params={"field": field})
    if not (bw <= west and east <= be and bs <= south and north <= bn):
        raise InvalidInput(
            f"{field} lands at {west:.4f},{south:.4f} (lon, lat), outside Ordos: is the CRS ({crs_text}) right?",
            params={"field": field, "crs": crs_text[:60], "lon": round(west, 4), "lat": round(south, 4)},
        )
    return WKTElement(geometry.wkt, srid=STORAGE_SRID)


def _lists(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _lists(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_lists(item) for item in value]
    return value


def to_geojson(value: WKBElement | WKTElement | None) -> GeoJSON | None:
    """A stored geometry as GeoJSON (EPSG:4490 longitude/latitude)."""
    if value is None:
        return None
    out: GeoJSON = _lists(dict(mapping(to_shape(value))))
    return out
