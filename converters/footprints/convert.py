"""Building footprints (GeoJSON, GeoPackage) → LOD1 blocks in 3D Tiles 1.1; CityJSON goes to :mod:`.cityjson`.

Every footprint becomes one feature (all its attributes in the property table, plus the height and
base used). Footprints that cannot be built are skipped and listed with the reason: no geometry, not a
polygon, invalid polygon (self-intersection, …), missing or non-numeric height.
"""

from __future__ import annotations

import gc
import json
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from converters.errors import ConversionError
from converters.footprints.blocks_glb import write_blocks_glb
from converters.footprints.extrude import extrude
from converters.footprints.geojson_parallel import read_parallel
from converters.footprints.heights import HeightRule, choose_rule, resolve_heights
from converters.footprints.outline import EXACT_MAX, coverage_outline, union_outline
from converters.footprints.sources import (
    FootprintSource,
    clean_polygons,
    geojson_crs,
    load_json,
    read_geojson,
    read_gpkg,
)
from converters.footprints.writer import WriteResult, write_buildings
from converters.georef import parse_crs
from converters.options import ConvertOptions
from converters.pointcloud.fast_transform import FastToEnu
from converters.pointcloud.placement import Placement, place_in_crs
from tiles.mesh import Material
from tiles.tileset import BoundingVolume

MATERIALS = [Material("wall", (0.86, 0.85, 0.82, 1.0)), Material("roof", (0.68, 0.70, 0.74, 1.0))]
MAX_SKIPS_LISTED = 200
POLYGON_TYPES = (3, 6)  # shapely type ids: Polygon, MultiPolygon


def _load(path: Path, jobs: int) -> tuple[FootprintSource | None, dict[str, Any] | None]:
    if path.suffix.lower() == ".gpkg":
        return read_gpkg(path), None
    parallel = read_parallel(path.read_bytes(), jobs)
    if parallel is not None and parallel[0].get("type") == "FeatureCollection":
        head, (geometries, columns, problems, known_valid) = parallel
        crs, note = geojson_crs(head, path.name)
        return FootprintSource(geometries, columns, problems, crs, note, known_valid=known_valid), None
    try:
        data = load_json(path)
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as error:
        raise ConversionError(f"{path.name}: not valid JSON ({str(error)[:100]})") from error
    if isinstance(data, dict) and data.get("type") == "CityJSON":
        return None, data
    return read_geojson(path, data), None


def convert(input_path: Path, out_dir: Path, options: ConvertOptions) -> dict[str, Any]:
    # A parsed layer is millions of small Python objects; with the cyclic garbage collector on, every
    # batch of new objects (geometries, columns) triggers full collections that scan all of them (about
    # a fifth of the run time for 100 000 footprints). Nothing here builds reference cycles worth
    # collecting, so the collector is paused for the conversion (and the forked workers inherit that).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _convert(input_path, out_dir, options)
    finally:
        if collecting:
            gc.enable()


def _convert(input_path: Path, out_dir: Path, options: ConvertOptions) -> dict[str, Any]:
    path = Path(input_path)
    source, city = _load(path, max(1, options.jobs or os.cpu_count() or 1))
    if city is not None:
        from converters.footprints.cityjson import convert_cityjson

        return convert_cityjson(path, city, Path(out_dir), options)
    assert source is not None
    return convert_footprints(source, path, Path(out_dir), options)


def _skip(skipped: list[dict[str, Any]], counts: dict[str, int], index: int, props: dict[str, Any],
          reason: str) -> None:
    key = reason.split(" (")[0].split("[")[0]
    counts[key] = counts.get(key, 0) + 1
    if len(skipped) < MAX_SKIPS_LISTED:
        ident = props.get("id", props.get("fid", props.get("name")))
        skipped.append({"index": index, "id": ident, "reason": reason})


def _skip_reasons(source: FootprintSource, rule: HeightRule) -> tuple[
        NDArray[np.integer], NDArray[np.object_], NDArray[np.float64], NDArray[np.float64], dict[int, str]]:
    """(built features, their geometries, heights, bases) and the skip reason of every other feature."""
    geometries = source.geometries.copy()
    count = len(geometries)
    present = np.array([g is not None for g in geometries.tolist()], dtype=bool)
    types = np.full(count, -1)
    types[present] = shapely.get_type_id(geometries[present])
    polygonal = np.isin(types, POLYGON_TYPES)
    at = np.flatnonzero(polygonal)
    if source.known_valid is not None:  # cleaned while parsing (in the parse workers)
        simple = source.known_valid[at]
    else:
        polygons, simple = clean_polygons(geometries[at], types[at])
        geometries[at] = polygons
    valid = np.zeros(count, dtype=bool)
    valid[at[simple]] = True  # strictly convex single rings: valid without asking GEOS
    rest = at[~simple]
    valid[rest] = shapely.is_valid(geometries[rest]) & ~shapely.is_empty(geometries[rest])
    reasons = dict(source.problems)
    for i in np.flatnonzero(~valid).tolist():
        if i in reasons:
            continue
        if not present[i]:
            reasons[i] = "no geometry"
        elif not polygonal[i]:
            reasons[i] = f"not a polygon ({geometries[i].geom_type})"
        else:
            reason = shapely.is_valid_reason(geometries[i]) if not shapely.is_empty(geometries[i]) else "empty"
            reasons[i] = f"invalid polygon: {reason}"
    candidates = np.flatnonzero(valid)
    if reasons:
        candidates = candidates[~np.isin(candidates, np.fromiter(reasons, dtype=np.int64, count=len(reasons)))]
    height, base, height_reasons = resolve_heights(source.properties, count, rule, candidates)
    reasons.update(height_reasons)
    ok = ~np.isin(candidates, np.fromiter(height_reasons, dtype=np.int64, count=len(height_reasons)))
    keep = candidates[ok]
    return keep, geometries[keep], height[ok], base[ok], reasons


def convert_footprints(source: FootprintSource, path: Path, out_dir: Path, options: ConvertOptions) -> dict[str, Any]:
    started = time.perf_counter()
    total = len(source)
    if not total:
        raise ConversionError(f"{path.name}: no features")
    crs = options.crs or source.crs
    parse_crs(crs)
    rule = choose_rule(source.properties, options)
    keep, kept, height, base, reasons = _skip_reasons(source, rule)
    skipped: list[dict[str, Any]] = []
    skip_counts: dict[str, int] = {}
    for i in sorted(reasons):
        _skip(skipped, skip_counts, i, source.row(i), reasons[i])
    if not len(keep):
        raise ConversionError(f"{path.name}: none of the {total} footprints could be built "
                              f"({'; '.join(f'{k}: {v}' for k, v in skip_counts.items())})")
    options.report_progress(0.15, f"{len(keep)} footprints read")
    minx, miny, maxx, maxy = shapely.total_bounds(kept)
    lo = np.array([minx, miny, base.min()])
    hi = np.array([maxx, maxy, (base + height).max()])
    placement = place_in_crs(crs, lo, hi)
    to_enu = FastToEnu(placement.to_enu, lo, hi)
    if len(keep) <= EXACT_MAX:
        return _small(path, source, crs, rule, placement, total, keep, kept, height, base, skipped, skip_counts,
                      to_enu, out_dir, options, started)
    # Large layers: the parent only plans the tiles (approximate ENU boxes and triangle counts per
    # building); every tile worker extrudes its own buildings and reports their footprint area.
    lo_b, hi_b, corners = _enu_boxes(kept, base, height, to_enu)
    weights, vertex_count = _triangle_counts(kept)
    columns = _columns(source, keep, height, base)

    def write_content(keys: NDArray[np.integer], tile_path: Path) -> tuple[BoundingVolume, int, int, float]:
        blocks = extrude(kept[keys], base[keys], height[keys], to_enu)
        at = keys.tolist()
        table = {name: list(map(values.__getitem__, at)) for name, values in columns.items()}
        box, size, triangles = write_blocks_glb(blocks, np.arange(len(keys)), MATERIALS, table, tile_path)
        xy = blocks.cap_bottom[:, :2]
        nxt = xy[blocks.edge_next]
        return box, size, triangles, float((xy[:, 0] * nxt[:, 1] - nxt[:, 0] * xy[:, 1]).sum() / 2)

    result = write_buildings(out_dir, placement.frame, write_content, lo_b, hi_b, weights,
                             {"source": path.name, "buildings": len(keep)},
                             progress=lambda f: options.report_progress(0.15 + 0.75 * f, "writing tiles"),
                             workers=max(1, options.jobs or os.cpu_count() or 1))
    outline = coverage_outline(corners, placement.frame, float(placement.frame.height))
    options.report_progress(1.0, "done")
    return _report(path, source, crs, rule.report(), placement.report(), total, len(keep), skipped,
                   skip_counts, result, outline, result.area, started, vertex_count=vertex_count)


def _columns(source: FootprintSource, keep: NDArray[np.integer], height: NDArray[np.float64],
             base: NDArray[np.float64]) -> dict[str, list[Any]]:
    rows = keep.tolist()
    everything = len(rows) == len(source)
    columns = {name: values if everything else list(map(values.__getitem__, rows))
               for name, values in source.properties.items()
               if everything or any(values[i] is not None for i in rows)}
    columns["height_used_m"] = np.round(height, 3).tolist()
    columns["base_used"] = np.round(base, 3).tolist()
    columns["source_index"] = rows
    return columns


def _enu_boxes(kept: NDArray[np.object_], base: NDArray[np.float64], height: NDArray[np.float64],
               to_enu: FastToEnu) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Per-building ENU boxes for tiling (map box centre at base and top ± the box's half size through
    the local Jacobian, padded), and the ENU corners of the map boxes (for the coverage outline).

    Only the quadtree uses these boxes: tile bounding volumes also contain the exact content boxes.
    """
    bounds = shapely.bounds(kept)
    centre = (bounds[:, :2] + bounds[:, 2:]) / 2
    half = (bounds[:, 2:] - bounds[:, :2]) / 2
    mid = np.array([*centre.mean(axis=0), float(base.mean())])
    step = np.maximum(half.max(axis=0), 1e-9)
    dx, dy, dz = np.array([step[0], 0.0, 0.0]), np.array([0.0, step[1], 0.0]), np.array([0.0, 0.0, 1.0])
    probe = np.array([mid + dx, mid - dx, mid + dy, mid - dy, mid + dz, mid])
    enu = to_enu(np.concatenate([np.column_stack([centre, base]), probe]))
    bottom, probe_enu = enu[: len(kept)], enu[len(kept) :]
    jacobian = np.column_stack([(probe_enu[0] - probe_enu[1]) / (2 * step[0]),
                                (probe_enu[2] - probe_enu[3]) / (2 * step[1])])  # (3, 2): ENU per map unit
    top = bottom + height[:, None] * (probe_enu[4] - probe_enu[5])  # the plumb line tilts ~1e-7 rad per metre
    spread = float(np.abs(bottom[:, :2] - probe_enu[5, :2]).max())
    extent = half @ np.abs(jacobian).T * 1.01 + 0.05 + np.abs(height)[:, None] * (spread * 2e-7)
    lo = np.minimum(bottom, top) - extent
    hi = np.maximum(bottom, top) + extent
    signs = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=np.float64)
    corners = (bottom[:, None, :2] + (signs[None, :, :] * half[:, None, :]) @ jacobian[:2].T).reshape(-1, 2)
    return lo, hi, np.concatenate([corners, bottom[:, :2]])


def _triangle_counts(kept: NDArray[np.object_]) -> tuple[NDArray[np.int64], int]:
    """Triangles per extruded building (2 per wall edge, n + 2 holes - 2 per roof and floor of each part)
    and the number of ring vertices (closing ones not counted), from shapely's counts only."""
    coordinates = shapely.get_num_coordinates(kept)
    parts = shapely.get_num_geometries(kept)
    holes = np.zeros(len(kept), dtype=np.int64)
    single = parts == 1
    polygons = single & (shapely.get_type_id(kept) == 3)
    holes[polygons] = shapely.get_num_interior_rings(kept[polygons])
    if (~polygons).any():
        multi = np.flatnonzero(~polygons)
        pieces, owner = shapely.get_parts(kept[multi], return_index=True)
        holes[multi] = np.bincount(owner, shapely.get_num_interior_rings(pieces), minlength=len(multi))
    vertices = coordinates - parts - holes
    caps = vertices + 2 * holes - 2 * parts
    return (2 * vertices + 2 * caps).astype(np.int64), int(vertices.sum())


def _small(path: Path, source: FootprintSource, crs: str, rule: HeightRule, placement: Placement, total: int,
           keep: NDArray[np.integer], kept: NDArray[np.object_], height: NDArray[np.float64], base: NDArray[np.float64],
           skipped: list[dict[str, Any]], skip_counts: dict[str, int], to_enu: FastToEnu, out_dir: Path,
           options: ConvertOptions, started: float) -> dict[str, Any]:
    """Small layers: extrude everything here, exact bounds, exact union outline."""
    blocks = extrude(kept, base, height, to_enu)
    options.report_progress(0.4, "blocks extruded")
    offsets = blocks.vertex_offsets[:-1]
    lo_b = np.minimum.reduceat(np.minimum(blocks.cap_top, blocks.cap_bottom), offsets)
    hi_b = np.maximum.reduceat(np.maximum(blocks.cap_top, blocks.cap_bottom), offsets)
    weights = 2 * np.diff(blocks.vertex_offsets) + 2 * np.diff(blocks.cap_offsets)
    columns = _columns(source, keep, height, base)

    def write_content(keys: NDArray[np.integer], tile_path: Path) -> tuple[BoundingVolume, int, int]:
        at = keys.tolist()
        table = {name: list(map(values.__getitem__, at)) for name, values in columns.items()}
        return write_blocks_glb(blocks, keys, MATERIALS, table, tile_path)

    result = write_buildings(out_dir, placement.frame, write_content, lo_b, hi_b, weights,
                             {"source": path.name, "buildings": len(keep)},
                             progress=lambda f: options.report_progress(0.4 + 0.5 * f, "writing tiles"),
                             workers=max(1, options.jobs or os.cpu_count() or 1))
    polygons_enu = shapely.transform(kept, lambda xy: to_enu(np.column_stack([xy, np.zeros(len(xy))]))[:, :2])
    outline, area = union_outline(polygons_enu, placement.frame, float(placement.frame.height))
    options.report_progress(1.0, "done")
    return _report(path, source, crs, rule.report(), placement.report(), total, len(keep), skipped,
                   skip_counts, result, outline, area, started, vertex_count=len(blocks.cap_top))


def _report(path: Path, source: FootprintSource, crs: str, height_rule: dict[str, Any],
            placement: dict[str, Any], total: int, built: int, skipped: list[dict[str, Any]],
            skip_counts: dict[str, int], result: WriteResult, outline: dict[str, Any] | None, area: float,
            started: float, vertex_count: int) -> dict[str, Any]:
    return {
        "kind": "footprints",
        "format": "GeoPackage" if path.suffix.lower() == ".gpkg" else "GeoJSON",
        "tileset": "tileset.json",
        "counts": {"features": total, "buildings": built, "skipped": total - built, "tiles": result.tiles,
                   "triangles": result.triangles, "footprint_vertices": vertex_count,
                   "max_buildings_per_tile": result.max_features_per_tile},
        "warnings": (
            [f"{result.split_by_count} places hold more buildings than one tile may carry (coincident or "
             "overlapping footprints): they were shared out over several tiles by count"]
            if result.split_by_count else []
        ),
        "crs": {"crs": crs, "source": "user" if crs != source.crs else "file", "file_crs": source.crs,
                "note": source.crs_note, "layer": source.layer},
        "heights": height_rule,
        "georeferencing": placement,
        "skipped": skipped,
        "skipped_by_reason": skip_counts,
        "footprint_wgs84": outline,
        "footprint_area_m2": area,
        "output_bytes": result.tileset_bytes + result.content_bytes,
        "timings": {"convert_s": round(time.perf_counter() - started, 3)},
    }
