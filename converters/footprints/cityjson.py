"""CityJSON (2.0; 1.x read the same way) buildings, LOD1 and LOD2, → 3D Tiles 1.1.

Each Building/BuildingPart uses its highest level of detail. Surfaces (outer ring + holes, vertex
indices) are triangulated with earcut in their own plane (Newell normal) and oriented like their
outer ring. A feature is one building's surfaces of one semantic type (RoofSurface, WallSurface,
GroundSurface, …; ``unclassified`` without semantics): its row holds the building's attributes, its
id, the LOD used and the semantic type, so a picked roof says it is a roof of building X.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mapbox_earcut
import numpy as np
import shapely
from numpy.typing import NDArray

from converters.errors import ConversionError, GeoreferencingError
from converters.footprints.outline import union_outline
from converters.footprints.sources import crs_from_text
from converters.footprints.writer import pieces_writer, write_buildings
from converters.options import ConvertOptions
from converters.pointcloud.fast_transform import FastToEnu
from converters.pointcloud.placement import place_in_crs, place_local
from tiles.mesh import Material

BUILDING_TYPES = ("Building", "BuildingPart")
SEMANTIC_COLOURS = {
    "RoofSurface": (0.70, 0.33, 0.27, 1.0),
    "WallSurface": (0.88, 0.86, 0.82, 1.0),
    "GroundSurface": (0.45, 0.45, 0.45, 1.0),
    "unclassified": (0.75, 0.75, 0.78, 1.0),
}


def _surfaces(geometry: dict[str, Any]) -> Iterator[tuple[list[list[int]], Any]]:
    """(rings, semantic value index or None) of every surface, whatever the geometry type."""
    kind = geometry.get("type")
    boundaries = geometry.get("boundaries") or []
    values = (geometry.get("semantics") or {}).get("values")
    if kind in ("MultiSurface", "CompositeSurface"):
        shells, shell_values = [boundaries], [values]
    elif kind == "Solid":
        shells, shell_values = boundaries, values or [None] * len(boundaries)
    elif kind in ("MultiSolid", "CompositeSolid"):
        shells, shell_values = [], []
        for i, solid in enumerate(boundaries):
            shells += solid
            shell_values += (values[i] if values else None) or [None] * len(solid)
    else:
        return
    for shell, vals in zip(shells, shell_values, strict=False):
        for j, surface in enumerate(shell):
            yield surface, (vals[j] if isinstance(vals, list) and j < len(vals) else None)


def _triangulate(rings: list[list[int]], vertices: NDArray[np.float64]) -> NDArray[np.integer]:
    """Triangles (k, 3) of global vertex indices for one planar surface with holes."""
    flat = [i for ring in rings for i in ring]
    if len(rings[0]) < 3:
        return np.zeros((0, 3), np.int64)
    ids = np.asarray(flat, dtype=np.int64)
    pts = vertices[ids]
    outer = pts[: len(rings[0])]
    normal = np.cross(outer - outer.mean(axis=0), np.roll(outer, -1, axis=0) - outer.mean(axis=0)).sum(axis=0)
    length = np.linalg.norm(normal)
    if length < 1e-12:
        return np.zeros((0, 3), np.int64)
    normal /= length
    u = np.cross(normal, [0.0, 0.0, 1.0] if abs(normal[2]) < 0.9 else [1.0, 0.0, 0.0])
    u /= np.linalg.norm(u)
    v = np.cross(normal, u)
    centred = pts - outer.mean(axis=0)
    plane = np.column_stack([centred @ u, centred @ v])
    ends = np.cumsum([len(r) for r in rings]).astype(np.uint32)
    tri = mapbox_earcut.triangulate_float64(plane, ends).reshape(-1, 3).astype(np.int64)
    if len(tri) == 0:
        return tri
    a, b, c = pts[tri[:, 0]], pts[tri[:, 1]], pts[tri[:, 2]]
    flip = np.einsum("ij,j->i", np.cross(b - a, c - a), normal) < 0
    tri[flip] = tri[flip][:, ::-1]
    return ids[tri]


def _crs(city: dict[str, Any], options: ConvertOptions, name: str) -> str | None:
    if options.crs:
        return options.crs
    reference = str((city.get("metadata") or {}).get("referenceSystem") or "")
    crs = crs_from_text(reference) if reference else None
    if crs is None and not options.local:
        raise GeoreferencingError(f"{name}: no metadata.referenceSystem; pass --crs EPSG:CODE or --local")
    return crs


def convert_cityjson(path: Path, city: dict[str, Any], out_dir: Path, options: ConvertOptions) -> dict[str, Any]:
    started = time.perf_counter()
    version = str(city.get("version", ""))
    try:
        raw = np.asarray(city.get("vertices") or [], dtype=np.float64).reshape(-1, 3)
    except ValueError as error:
        raise ConversionError(f"{path.name}: malformed 'vertices' ({str(error)[:80]})") from error
    transform = city.get("transform") or {}
    vertices = raw * np.asarray(transform.get("scale", [1, 1, 1]), dtype=np.float64) + np.asarray(
        transform.get("translate", [0, 0, 0]), dtype=np.float64)
    if len(vertices) == 0:
        raise ConversionError(f"{path.name}: CityJSON without vertices")
    crs = _crs(city, options, path.name)
    lo, hi = vertices.min(axis=0), vertices.max(axis=0)
    placement = place_local(options, lo, hi) if options.local or crs is None else place_in_crs(crs, lo, hi)
    enu = FastToEnu(placement.to_enu, lo, hi)(vertices)

    skipped: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    pieces: list[tuple[NDArray[np.float64], None, NDArray[np.integer], int]] = []
    semantic_names = list(SEMANTIC_COLOURS)
    objects = city.get("CityObjects") or {}
    buildings = 0
    for object_id, obj in objects.items():
        kind = obj.get("type")
        geometries = [g for g in obj.get("geometry") or [] if isinstance(g, dict) and "boundaries" in g]
        if kind not in BUILDING_TYPES:
            if geometries:
                skipped.append({"id": object_id, "reason": f"not a building ({kind})"})
            continue
        if not geometries:
            if not obj.get("children"):
                skipped.append({"id": object_id, "reason": "no geometry"})
            continue
        geometry = max(geometries, key=lambda g: float(str(g.get("lod", "0")) or 0))
        surfaces_meta = (geometry.get("semantics") or {}).get("surfaces") or []
        groups: dict[str, list[NDArray[np.integer]]] = {}
        try:
            for rings, value in _surfaces(geometry):
                semantic = "unclassified"
                if isinstance(value, int) and 0 <= value < len(surfaces_meta):
                    semantic = str(surfaces_meta[value].get("type", "unclassified"))
                triangles = _triangulate(rings, vertices)
                if len(triangles):
                    groups.setdefault(semantic, []).append(triangles)
        except (IndexError, TypeError, ValueError) as error:
            skipped.append({"id": object_id, "reason": f"malformed geometry ({str(error)[:60]})"})
            continue
        if not groups:
            skipped.append({"id": object_id, "reason": f"no surfaces in LOD {geometry.get('lod')}"})
            continue
        buildings += 1
        for semantic, parts in groups.items():
            triangles = np.concatenate(parts)
            used, local = np.unique(triangles, return_inverse=True)
            if semantic not in semantic_names:
                semantic_names.append(semantic)
            pieces.append((enu[used], None, local.reshape(-1, 3), semantic_names.index(semantic)))
            rows.append({"cityobject_id": object_id, "cityobject_type": kind, "lod": str(geometry.get("lod")),
                         "semantic_surface": semantic, "parent": (obj.get("parents") or [None])[0],
                         **(obj.get("attributes") or {})})
    if not pieces:
        raise ConversionError(f"{path.name}: no building with geometry ({len(objects)} city objects)")
    materials = [Material(name, SEMANTIC_COLOURS.get(name, SEMANTIC_COLOURS["unclassified"]))
                 for name in semantic_names]
    piece_lo = np.array([p[0].min(axis=0) for p in pieces])
    piece_hi = np.array([p[0].max(axis=0) for p in pieces])
    weights = np.array([len(p[2]) for p in pieces])
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    columns = {n: [_plain(r.get(n)) for r in rows] for n in names}
    writer = pieces_writer(lambda i: [pieces[i]], materials, columns, options.compress)
    result = write_buildings(out_dir, placement.frame, writer, piece_lo, piece_hi, weights,
                             {"source": path.name, "buildings": buildings})
    hulls = np.array([shapely.MultiPoint(p[0][:, :2]).convex_hull for p in pieces], dtype=object)
    outline, area = union_outline(hulls[shapely.get_type_id(hulls) == 3], placement.frame,
                                  float(placement.frame.height))
    return {
        "kind": "footprints",
        "format": f"CityJSON {version}",
        "tileset": "tileset.json",
        "counts": {"city_objects": len(objects), "buildings": buildings, "features": len(rows),
                   "skipped": len(skipped), "tiles": result.tiles, "triangles": result.triangles},
        "crs": {"crs": crs, "source": "user" if options.crs else "file"},
        "georeferencing": placement.report(),
        "skipped": skipped,
        "footprint_wgs84": outline,
        "footprint_area_m2": area,
        "output_bytes": result.tileset_bytes + result.content_bytes,
        "timings": {"convert_s": round(time.perf_counter() - started, 3)},
    }


def _plain(value: Any) -> Any:
    """Property-table values: nested CityJSON attributes (dicts, lists) become their JSON text."""
    if isinstance(value, dict | list):
        import json

        return json.dumps(value, ensure_ascii=False)
    return value
