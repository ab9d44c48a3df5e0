"""Polygon layers from GeoJSON or GeoPackage, as shapely geometries in EPSG:4326 with their properties.

GeoJSON: a FeatureCollection, a Feature or a bare geometry, in EPSG:4326 unless a legacy ``crs`` member
names another CRS (e.g. ``urn:ogc:def:crs:EPSG::4546``) or ``crs`` is passed. GeoPackage: the first
feature table (or ``layer``), read with the standard library's sqlite3 (GeoPackage binary header +
WKB), its CRS from ``gpkg_spatial_ref_sys``. Only polygons and multipolygons are kept.
"""

from __future__ import annotations

import json
import sqlite3
import struct
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

from cim_platform.coverage.errors import BadGeometryFile

GPKG_MAGIC = b"SQLite format 3\x00"
ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}


@dataclass
class Feature:
    geometry: MultiPolygon
    properties: dict[str, Any] = field(default_factory=dict)


def _to_4326(geometry: BaseGeometry, crs: str | None) -> BaseGeometry:
    if not crs:
        return geometry
    try:
        source = CRS.from_user_input(crs)
    except CRSError as exc:
        raise BadGeometryFile(f"unknown CRS {crs!r}", params={"crs": crs}) from exc
    if source.equals(CRS.from_epsg(4326)) or source.equals(CRS.from_epsg(4490)):
        return geometry  # CGCS2000 and WGS84 agree at centimetre level
    transformer = Transformer.from_crs(source, 4326, always_xy=True)
    return shapely.transform(geometry, lambda xy: _stack(transformer.transform(xy[:, 0], xy[:, 1])))


def _stack(xy: Any) -> Any:
    return np.column_stack(xy)


def as_multipolygon(geometry: BaseGeometry) -> MultiPolygon | None:
    """Polygonal parts only, made valid, 2D; None when nothing polygonal is left."""
    geometry = shapely.force_2d(geometry)
    if not geometry.is_valid:
        geometry = shapely.make_valid(geometry)
    parts: list[Polygon] = []
    for part in getattr(geometry, "geoms", [geometry]):
        if isinstance(part, Polygon) and not part.is_empty:
            parts.append(part)
        elif isinstance(part, MultiPolygon):
            parts.extend(p for p in part.geoms if not p.is_empty)
        elif hasattr(part, "geoms"):
            sub = as_multipolygon(part)
            if sub is not None:
                parts.extend(sub.geoms)
    if not parts:
        return None
    bounds = shapely.bounds(MultiPolygon(parts))
    if not all(map(_finite, bounds)):
        raise BadGeometryFile("coordinates must be finite numbers")
    return MultiPolygon(parts)


def _finite(value: float) -> bool:
    return value == value and abs(value) != float("inf")


def _check_lonlat(geometry: MultiPolygon) -> None:
    west, south, east, north = geometry.bounds
    if west < -180 or east > 180 or south < -90 or north > 90:
        raise BadGeometryFile(
            "coordinates are not longitude/latitude: name the CRS (e.g. crs=EPSG:4546)",
            params={"west": west, "south": south},
        )


def _geojson_crs(document: dict[str, Any]) -> str | None:
    crs = document.get("crs")
    if isinstance(crs, dict):
        name = (crs.get("properties") or {}).get("name")
        if isinstance(name, str):
            return "EPSG:4326" if name.endswith("CRS84") else name
    return None


def read_geojson(data: bytes, crs: str | None = None) -> list[Feature]:
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadGeometryFile(f"not a GeoJSON document: {exc}") from None
    if not isinstance(document, dict):
        raise BadGeometryFile("not a GeoJSON document")
    crs = crs or _geojson_crs(document)
    if document.get("type") == "FeatureCollection":
        raw = document.get("features") or []
    elif document.get("type") == "Feature":
        raw = [document]
    else:
        raw = [{"type": "Feature", "geometry": document, "properties": {}}]
    features = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or not isinstance(item.get("geometry"), dict):
            continue
        try:
            geometry = shape(item["geometry"])
        except Exception as exc:  # shapely raises several kinds for malformed coordinates
            raise BadGeometryFile(f"feature {index}: {exc}", params={"feature": index}) from None
        features.extend(_feature(geometry, item.get("properties") or {}, crs))
    return features


def _feature(geometry: BaseGeometry, properties: dict[str, Any], crs: str | None) -> list[Feature]:
    try:
        polygons = as_multipolygon(_to_4326(geometry, crs))
    except shapely.errors.GEOSException as exc:
        raise BadGeometryFile(f"unusable geometry: {exc}") from None
    if polygons is None:
        return []
    _check_lonlat(polygons)
    return [Feature(polygons, dict(properties))]


def _gpkg_wkb(blob: bytes) -> bytes:
    if blob[:2] != b"GP":
        raise BadGeometryFile("GeoPackage geometry without the GP header")
    flags = blob[3]
    envelope = ENVELOPE_BYTES.get((flags >> 1) & 0x07)
    if envelope is None:
        raise BadGeometryFile("GeoPackage geometry with an unknown envelope")
    return blob[8 + envelope :]


def read_geopackage(data: bytes, layer: str | None = None, crs: str | None = None) -> list[Feature]:
    with tempfile.NamedTemporaryFile(suffix=".gpkg") as handle:
        handle.write(data)
        handle.flush()
        try:
            with sqlite3.connect(f"file:{handle.name}?mode=ro", uri=True) as conn:
                return _read_gpkg(conn, layer, crs)
        except sqlite3.DatabaseError as exc:
            raise BadGeometryFile(f"not a readable GeoPackage: {exc}") from None


def _read_gpkg(conn: sqlite3.Connection, layer: str | None, crs: str | None) -> list[Feature]:
    rows = conn.execute(
        "SELECT c.table_name, c.column_name, s.organization, s.organization_coordsys_id, s.definition "
        "FROM gpkg_geometry_columns c LEFT JOIN gpkg_spatial_ref_sys s ON s.srs_id = c.srs_id"
    ).fetchall()
    if layer is not None:
        rows = [row for row in rows if row[0] == layer]
    if not rows:
        raise BadGeometryFile("the GeoPackage has no such feature table", params={"layer": layer or ""})
    table, column, organization, code, definition = rows[0]
    if crs is None and organization and str(organization).upper() == "EPSG" and code:
        crs = f"EPSG:{code}"
    elif crs is None and definition and definition != "undefined":
        crs = str(definition)
    cursor = conn.execute(f'SELECT * FROM "{table}"')  # table named by the file's own catalogue
    names = [d[0] for d in cursor.description]
    features: list[Feature] = []
    for values in cursor:
        record = dict(zip(names, values, strict=True))
        blob = record.pop(column)
        if blob is None:
            continue
        try:
            geometry = shapely.from_wkb(_gpkg_wkb(bytes(blob)))
        except (shapely.errors.GEOSException, struct.error, ValueError) as exc:
            raise BadGeometryFile(f"unreadable geometry: {exc}") from None
        features.extend(_feature(geometry, record, crs))
    return features


def read_polygons(
    data: bytes, filename: str = "", *, crs: str | None = None, layer: str | None = None
) -> list[Feature]:
    """GeoPackage when the bytes say so (SQLite header), GeoJSON otherwise."""
    if data[:16] == GPKG_MAGIC or Path(filename).suffix.lower() == ".gpkg":
        return read_geopackage(data, layer, crs)
    return read_geojson(data, crs)
