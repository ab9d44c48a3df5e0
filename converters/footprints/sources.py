"""Reading building footprints: GeoJSON (RFC 7946 or with a legacy ``crs`` member) and GeoPackage.

Both give :class:`Footprint` records (shapely geometry in the source CRS + all attributes) and the
source CRS. GeoPackage is read with the standard library's ``sqlite3``: its geometry blobs are a
``GP`` header (magic, version, flags, srs id, optional envelope) followed by WKB.
"""

from __future__ import annotations

import json
import re
import sqlite3
import struct
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from converters.errors import ConversionError

_ENVELOPE_DOUBLES = {0: 0, 1: 4, 2: 6, 3: 6, 4: 8}
_CRS_URN = re.compile(r"(?:EPSG(?:::|:|/0/|/))(\d+)", re.IGNORECASE)


@dataclass(slots=True)
class FootprintSource:
    """The features of one layer, column-wise: position ``i`` is the ``i``-th feature of the source."""

    geometries: NDArray[np.object_]  # shapely geometries (None: missing or unreadable)
    properties: dict[str, list[Any]]  # attribute name → one value per feature (None where absent)
    problems: dict[int, str]  # position → why its geometry could not be read
    crs: str  # as found in the file ("EPSG:4326" for RFC 7946 GeoJSON)
    crs_note: str
    layer: str | None = None
    # when set: the (Multi)Polygons are already 2D without repeated points (:func:`clean_polygons`),
    # and True marks those known to be valid
    known_valid: NDArray[np.bool_] | None = None

    def __len__(self) -> int:
        return len(self.geometries)

    def row(self, i: int) -> dict[str, Any]:
        return {name: values[i] for name, values in self.properties.items() if values[i] is not None}


def columns_of(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Attribute dictionaries → columns (names in order of first appearance, None where absent)."""
    if rows and len(rows[0]) > 1 and len(set(map(tuple, rows))) == 1:  # every row: same names, same order
        names_in_order = list(rows[0])
        return dict(zip(names_in_order, map(list, zip(*map(itemgetter(*names_in_order), rows), strict=True)),
                        strict=True))
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    return {name: [row.get(name) for row in rows] for name in names}


def load_json(path: Path) -> Any:
    """Parse a (possibly large) JSON file: orjson when installed, else the standard library."""
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        import orjson
    except ImportError:  # pragma: no cover - orjson is a dependency; keep working without it
        return json.loads(data.decode("utf-8"))
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise json.JSONDecodeError(str(error), "", 0) from error


def crs_from_text(text: str) -> str | None:
    match = _CRS_URN.search(text)
    if match:
        return f"EPSG:{match.group(1)}"
    if text.upper().startswith("CRS84") or text.endswith("CRS84"):
        return "EPSG:4326"
    return None


def geojson_crs(data: dict[str, Any], name: str) -> tuple[str, str]:
    """The CRS of a GeoJSON object: RFC 7946 WGS84, or its legacy ``crs`` member."""
    legacy = data.get("crs")
    if isinstance(legacy, dict):
        text = str((legacy.get("properties") or {}).get("name", ""))
        found = crs_from_text(text)
        if found is None:
            raise ConversionError(f"{name}: unknown 'crs' member {text[:80]!r}; pass --crs EPSG:CODE")
        return found, f"legacy GeoJSON 'crs' member {text!r}"
    return "EPSG:4326", "RFC 7946 GeoJSON: WGS84 longitude/latitude"


def read_geojson(path: Path, data: dict[str, Any] | None = None) -> FootprintSource:
    if data is None:
        try:
            data = load_json(path)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ConversionError(f"{path.name}: not valid JSON ({str(error)[:100]})") from error
    if not isinstance(data, dict):
        raise ConversionError(f"{path.name}: not a GeoJSON object")
    if data.get("type") == "Feature":
        features = [data]
    elif data.get("type") == "FeatureCollection" and isinstance(data.get("features"), list):
        features = data["features"]
    else:
        raise ConversionError(f"{path.name}: not a GeoJSON FeatureCollection (type {data.get('type')!r})")
    crs, note = geojson_crs(data, path.name)
    geometries, properties, problems = read_features(features)
    return FootprintSource(geometries, properties, problems, crs, note)


def read_features(features: list[Any]) -> tuple[NDArray[np.object_], dict[str, list[Any]], dict[int, str]]:
    """GeoJSON features → (geometries, attribute columns, problems by position)."""
    geometries = np.full(len(features), None, dtype=object)
    rows: list[dict[str, Any]] = []
    problems: dict[int, str] = {}
    simple_rings: list[list[Any]] = []  # exterior rings of plain polygons, built in one vectorised call
    simple_at: list[int] = []
    for index, feature in enumerate(features):
        props = (feature.get("properties") if isinstance(feature, dict) else None) or {}
        rows.append(props if isinstance(props, dict) else {})
        geometry_json = feature.get("geometry") if isinstance(feature, dict) else None
        if not geometry_json:
            problems[index] = "no geometry"
            continue
        coordinates = geometry_json.get("coordinates") if isinstance(geometry_json, dict) else None
        if (geometry_json.get("type") == "Polygon" and isinstance(coordinates, list) and len(coordinates) == 1
                and isinstance(coordinates[0], list) and len(coordinates[0]) >= 4):
            simple_at.append(index)
            simple_rings.append(coordinates[0])
            continue
        try:
            geometries[index] = shapely.geometry.shape(geometry_json)
        except (ValueError, TypeError, KeyError, AttributeError, shapely.errors.GEOSException) as error:
            problems[index] = f"unreadable geometry ({str(error)[:80]})"
    for position, polygon in zip(simple_at, _polygons(simple_rings), strict=True):
        if polygon is None:
            problems[position] = "unreadable geometry (malformed coordinates)"
        else:
            geometries[position] = polygon
    return geometries, columns_of(rows), problems


def _polygons(rings: list[list[Any]]) -> list[BaseGeometry | None]:
    """Polygons from exterior rings in one shapely call; rings that are not lists of [x, y(, z)] → None."""
    if not rings:
        return []
    flat: list[Any] = []
    sizes: list[int] = []
    for ring in rings:
        flat.extend(ring)
        sizes.append(len(ring))
    try:
        coords = np.array(flat, dtype=np.float64)
        if coords.ndim != 2 or coords.shape[1] < 2:
            raise ValueError("ragged")
        indices = np.repeat(np.arange(len(rings)), sizes)
        linear = shapely.linearrings(coords[:, :2], indices=indices)
        polygons = shapely.polygons(linear)
        assert isinstance(polygons, np.ndarray)  # an array of rings gives an array of polygons
        return list(polygons)
    except (ValueError, TypeError, shapely.errors.GEOSException):
        out: list[BaseGeometry | None] = []
        for ring in rings:
            try:
                out.append(shapely.geometry.Polygon(ring))
            except (ValueError, TypeError, shapely.errors.GEOSException):
                out.append(None)
        return out


def clean_polygons(polygons: NDArray[np.object_],
                   types: NDArray[np.integer]) -> tuple[NDArray[np.object_], NDArray[np.bool_]]:
    """2D (Multi)Polygons without repeated points, and which are strictly convex single rings.

    ``force_2d`` and ``remove_repeated_points`` run only on the geometries that need them (found with
    array tests on their coordinates). A Polygon without holes whose ring turns the same way at every
    vertex, by one full turn in total, is simple with a non-zero area: valid, so GEOS need not check it.
    """
    polygons = polygons.copy()
    has_z = shapely.has_z(polygons)
    if has_z.any():
        polygons[has_z] = shapely.force_2d(polygons[has_z])
    coords, owner = shapely.get_coordinates(polygons, return_index=True)
    same = (coords[1:] == coords[:-1]).all(axis=1) & (owner[1:] == owner[:-1])
    repeated = np.zeros(len(polygons), dtype=bool)
    repeated[owner[1:][same]] = True
    if repeated.any():
        polygons[repeated] = shapely.remove_repeated_points(polygons[repeated])
    sizes = np.bincount(owner, minlength=len(polygons))  # ring coordinates, closing one included
    single = (types == 3) & ~repeated & (sizes >= 4)
    single[single] = shapely.get_num_interior_rings(polygons[single]) == 0
    if not single.any():
        return polygons, single
    keep = single[owner]
    xy, ring = coords[keep], owner[keep]
    starts = np.concatenate(([0], np.cumsum(sizes[single])[:-1]))
    ends = starts + sizes[single] - 1  # the closing vertex
    edge = np.diff(xy, axis=0)  # edge i: vertex i → i + 1 (the last edge of a ring ends at its closing vertex)
    edge_ring = ring[:-1]
    own = np.ones(len(edge), dtype=bool)
    own[ends[:-1]] = False  # from a closing vertex to the next ring: not an edge
    edge, edge_ring = edge[own], edge_ring[own]
    nxt = np.roll(edge, -1, axis=0)
    first = np.concatenate(([0], np.cumsum(sizes[single] - 1)[:-1]))
    nxt[first + sizes[single] - 2] = edge[first]  # the last edge turns into the first
    cross = edge[:, 0] * nxt[:, 1] - edge[:, 1] * nxt[:, 0]
    dot = (edge * nxt).sum(axis=1)
    slot = np.searchsorted(np.flatnonzero(single), edge_ring)
    n = int(single.sum())
    turning = np.bincount(slot, np.arctan2(cross, dot), minlength=n)
    left = np.bincount(slot, cross <= 0, minlength=n) == 0  # NaN counts as neither left nor right
    right = np.bincount(slot, cross >= 0, minlength=n) == 0
    convex = (left | right) & (np.abs(turning) < 3 * np.pi)
    single[single] = convex
    return polygons, single


def _gpkg_geometry(blob: bytes) -> BaseGeometry | None:
    if len(blob) < 8 or blob[:2] != b"GP":
        raise ValueError("not a GeoPackage geometry blob")
    flags = blob[3]
    envelope = _ENVELOPE_DOUBLES.get((flags >> 1) & 0b111)
    if envelope is None:
        raise ValueError("invalid envelope code")
    if flags & 0b10000:  # empty geometry
        return None
    return shapely.from_wkb(blob[8 + 8 * envelope :])


def _gpkg_srs(db: sqlite3.Connection, srs_id: int) -> tuple[str, str]:
    row = db.execute(
        "SELECT organization, organization_coordsys_id, definition FROM gpkg_spatial_ref_sys WHERE srs_id = ?",
        (srs_id,),
    ).fetchone()
    if row is None:
        raise ConversionError(f"GeoPackage: srs_id {srs_id} is not in gpkg_spatial_ref_sys")
    organization, code, definition = row
    if str(organization).upper() == "EPSG" and int(code) > 0:
        return f"EPSG:{int(code)}", f"GeoPackage srs_id {srs_id} (EPSG:{code})"
    if definition and definition != "undefined":
        return str(definition), f"GeoPackage srs_id {srs_id} (WKT definition)"
    raise ConversionError(f"GeoPackage: srs_id {srs_id} has no usable definition; pass --crs EPSG:CODE")


def read_gpkg(path: Path) -> FootprintSource:
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            layers = db.execute(
                "SELECT c.table_name, g.column_name, g.srs_id FROM gpkg_contents c JOIN gpkg_geometry_columns g "
                "ON c.table_name = g.table_name WHERE c.data_type = 'features' ORDER BY c.table_name"
            ).fetchall()
            if not layers:
                raise ConversionError(f"{path.name}: the GeoPackage has no feature table")
            table, column, srs_id = layers[0]
            crs, note = _gpkg_srs(db, int(srs_id))
            cursor = db.execute(f'SELECT * FROM "{table}"')
            names = [d[0] for d in cursor.description]
            geometry_at = names.index(column)
            geometries: list[BaseGeometry | None] = []
            rows: list[dict[str, Any]] = []
            problems: dict[int, str] = {}
            for index, row in enumerate(cursor):
                rows.append({n: v for i, (n, v) in enumerate(zip(names, row, strict=True)) if i != geometry_at
                             and not isinstance(v, bytes)})
                blob = row[geometry_at]
                geometries.append(None)
                if blob is None:
                    problems[index] = "no geometry"
                    continue
                try:
                    geometries[index] = _gpkg_geometry(bytes(blob))
                except (ValueError, struct.error, shapely.errors.GEOSException) as error:
                    problems[index] = f"unreadable geometry ({str(error)[:80]})"
        finally:
            db.close()
    except sqlite3.DatabaseError as error:
        raise ConversionError(f"{path.name}: not a readable GeoPackage ({str(error)[:100]})") from error
    if len(layers) > 1:
        note += f"; read layer {table!r} (of {len(layers)})"
    array = np.empty(len(geometries), dtype=object)
    array[:] = geometries
    return FootprintSource(array, columns_of(rows), problems, crs, note, layer=table)


def clean_features(geometries: NDArray[np.object_]) -> tuple[NDArray[np.object_], NDArray[np.bool_]]:
    """:func:`clean_polygons` applied to the (Multi)Polygons of a feature column: (geometries, known valid)."""
    geometries = geometries.copy()
    present = np.flatnonzero(np.fromiter((g is not None for g in geometries.tolist()), dtype=bool,
                                         count=len(geometries)))
    types = shapely.get_type_id(geometries[present])
    at = present[np.isin(types, (3, 6))]
    known = np.zeros(len(geometries), dtype=bool)
    polygons, simple = clean_polygons(geometries[at], shapely.get_type_id(geometries[at]))
    geometries[at] = polygons
    known[at[simple]] = True
    return geometries, known
