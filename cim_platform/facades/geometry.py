"""Street and footprint geometries: GeoJSON in any CRS pyproj knows in, EPSG:4490 (CGCS2000 lon/lat)
stored, as the heritage domain stores its records, with its transformation, parsing and placement
checks (compound CRSs: the horizontal part is used)."""

from __future__ import annotations

import numpy as np
import shapely
from geoalchemy2.elements import WKBElement, WKTElement
from numpy.typing import NDArray
from pyproj.exceptions import ProjError
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Polygon
from shapely.validation import explain_validity

from cim_platform.core.errors import InvalidInput
from cim_platform.heritage.geometry import (
    DEFAULT_CRS,
    GeoJSON,
    parse_geojson,
    placed_in_ordos,
    stored_geojson,
    transformer_to_storage,
)
from cim_platform.heritage.models import STORAGE_SRID

__all__ = ["DEFAULT_CRS", "STORAGE_SRID", "GeoJSON", "to_geojson", "to_storage"]
LINES = (LineString, MultiLineString)
AREAS = (Polygon, MultiPolygon)


def to_storage(field: str, value: GeoJSON, crs_text: str, *, lines: bool) -> WKTElement:
    """A line or polygon (``lines``) or a polygon only, transformed to EPSG:4490; InvalidInput says why not."""
    transformer = transformer_to_storage(crs_text)
    geometry = parse_geojson(field, value)
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
    return placed_in_ordos(geometry, field, crs_text)


def to_geojson(value: WKBElement | WKTElement | None) -> GeoJSON | None:
    """A stored geometry as GeoJSON (EPSG:4490 longitude/latitude)."""
    return stored_geojson(value)
