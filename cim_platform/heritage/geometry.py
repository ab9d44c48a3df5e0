"""Geometries of historic-building records: GeoJSON in any CRS in, EPSG:4490 (CGCS2000 lon/lat) stored.

CGCS2000 Gauss-Krüger zones (EPSG:4534–4554 for 3-degree zones without prefix, 4513–4533 with prefix,
e.g. EPSG:4546 for Dongsheng), compound CRSs (``EPSG:4546+5737``: the height part is ignored) and any
other CRS pyproj knows are accepted. Coordinates must land in (or near) Ordos after the transformation:
easting/northing given in the wrong zone are refused with the place they would land.
"""

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
from shapely.geometry import MultiPolygon, Point, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from cim_platform.core.errors import InvalidInput
from cim_platform.heritage.models import STORAGE_SRID

ORDOS_BOUNDS = (106.0, 37.0, 112.5, 41.5)
"""west, south, east, north in degrees: the city (106°42'E–111°27'E, 37°35'N–40°51'N) with a margin."""

POINT_FIELDS = ("location",)
AREA_FIELDS = ("outline", "protection_range", "control_zone")
GEOMETRY_FIELDS = POINT_FIELDS + AREA_FIELDS
DEFAULT_CRS = f"EPSG:{STORAGE_SRID}"

GeoJSON = dict[str, Any]


@lru_cache(maxsize=64)
def transformer_to_storage(crs_text: str) -> Transformer:
    """From ``crs_text`` (its horizontal part) to EPSG:4490; InvalidInput for an unknown or unusable CRS."""
    try:
        source = CRS.from_user_input(crs_text)
    except (CRSError, ProjError, ValueError, TypeError):
        raise InvalidInput(f"unknown CRS {crs_text!r} (e.g. EPSG:4546)", params={"crs": crs_text}) from None
    if source.is_compound:
        source = source.sub_crs_list[0]
    if not (source.is_projected or source.is_geographic):
        raise InvalidInput(f"CRS {crs_text!r} is neither projected nor geographic", params={"crs": crs_text})
    try:
        return Transformer.from_crs(source, CRS.from_epsg(STORAGE_SRID), always_xy=True)
    except (CRSError, ProjError) as exc:
        raise InvalidInput(
            f"no transformation from {crs_text!r} to EPSG:4490: {exc}", params={"crs": crs_text}
        ) from None


def check_crs(crs_text: str) -> None:
    transformer_to_storage(crs_text)


def parse_geojson(field: str, value: GeoJSON) -> BaseGeometry:
    try:
        geometry = shape(value)
    except (AttributeError, KeyError, TypeError, ValueError, IndexError, ShapelyError) as exc:
        raise InvalidInput(f"{field} is not a GeoJSON geometry: {exc}", params={"field": field}) from None
    if geometry.is_empty:
        raise InvalidInput(f"{field} is empty", params={"field": field})
    return geometry


def to_storage(field: str, value: GeoJSON | None, crs_text: str = DEFAULT_CRS) -> WKTElement | None:
    """The value to store for a geometry field (None clears it); InvalidInput says what is wrong."""
    if value is None:
        return None
    transformer = transformer_to_storage(crs_text)

    def project(coords: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    geometry = shapely.transform(parse_geojson(field, value), project)
    if field in POINT_FIELDS:
        if not isinstance(geometry, Point):
            raise InvalidInput(f"{field} must be a Point", params={"field": field})
    else:
        if isinstance(geometry, Polygon):
            geometry = MultiPolygon([geometry])
        if not isinstance(geometry, MultiPolygon):
            raise InvalidInput(f"{field} must be a Polygon or MultiPolygon", params={"field": field})
        if not geometry.is_valid:
            reason = explain_validity(geometry)
            raise InvalidInput(f"{field} is not a valid polygon: {reason}", params={"field": field, "reason": reason})
    return placed_in_ordos(geometry, field, crs_text)


def placed_in_ordos(geometry: BaseGeometry, field: str, crs_text: str) -> WKTElement:
    """A geometry already in EPSG:4490 as stored, once it is finite and inside Ordos (a wrong CRS lands
    elsewhere: the message says where, and asks about the CRS)."""
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


def to_geojson(value: WKBElement | WKTElement | None) -> GeoJSON | None:
    """A stored geometry as GeoJSON (EPSG:4490 longitude/latitude)."""
    if value is None:
        return None
    return dict(mapping(to_shape(value)))


def _lists(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _lists(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_lists(item) for item in value]
    return value


def stored_geojson(value: WKBElement | WKTElement | None) -> GeoJSON | None:
    out = to_geojson(value)
    if out is None:
        return None
    listed: GeoJSON = _lists(out)
    return listed
