"""Pipeline survey tables → 3D Tiles 1.1: tubes and boxes along 3D centrelines, manhole shafts, fittings.

Tileset: the root tile holds every segment and shaft as a thin coloured line (what a viewer shows from afar,
refine REPLACE); its child is a quadtree of solid contents (refine ADD; the largest pipes in the upper
tiles). One feature per segment or point, with its attributes in ``EXT_structural_metadata``.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import mapping

from converters.errors import ConversionError
from converters.options import ConvertOptions
from converters.pipelines.glb_writer import Features, write_lines_glb, write_solids_glb
from converters.pipelines.network import Network, read_network
from converters.pipelines.records import PointTable, paused_gc, pick
from converters.pipelines.schema import CATEGORIES, CATEGORY_BY_CODE
from converters.placement import Placement, place_in_crs
from converters.quadtree import QuadNode, build_quadtree
from tiles.mesh import Material
from tiles.metadata import ArrayColumn, NumberColumn, TextColumn
from tiles.tileset import BoundingVolume, Content, Tile, Tileset

MATERIALS = [Material(c.code, c.rgba, metallic=0.1, roughness=0.6) for c in CATEGORIES]
MATERIAL_INDEX = {c.code: i for i, c in enumerate(CATEGORIES)}
MAX_TILE_TRIANGLES = 120_000
PARENT_TRIANGLES = 30_000
EXACT_OUTLINE_MAX = 20_000
OUTLINE_CELL_M = 25.0
SUMP_M = 0.3  # a manhole reaches below its lowest pipe
DEFAULT_MANHOLE_M = 1.0
MAX_EXTRA_COLUMNS = 20
CONTENT_DIR = "pipes"


def _sides(size_m: NDArray[np.float64]) -> NDArray[np.int64]:
    sides: NDArray[np.int64] = np.where(size_m < 0.4, 8, np.where(size_m < 1.2, 12, 16)).astype(np.int64)
    return sides


def _joint_normals(network: Network, start: NDArray[np.float64], end: NDArray[np.float64]
                   ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Miter planes where exactly two segments of one category and size meet (a bend), not in a manhole."""
    d = end - start
    d /= np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-12)
    start_normal, end_normal = d.copy(), d.copy()
    segments, points = network.segment_table, network.point_table
    n = len(segments)
    if n < 2:
        return start_normal, end_normal
    manhole = np.array([f == "manhole" for f in points.feature], dtype=bool)
    ends = np.concatenate([segments.start_at, segments.end_at])
    segment = np.concatenate([np.arange(n), np.arange(n)])
    at_start = np.arange(2 * n) < n
    degree = np.bincount(ends, minlength=len(points))
    pick = np.flatnonzero((degree[ends] == 2) & ~manhole[ends])
    order = pick[np.argsort(ends[pick], kind="stable")]
    first, second = order[0::2], order[1::2]
    i, j = segment[first], segment[second]
    category = np.array([MATERIAL_INDEX[c] for c in segments.category])
    across, high, shape = segments.half_across_m(), segments.half_height_m(), segments.round
    alike = ((category[i] == category[j]) & (shape[i] == shape[j])
             & (np.abs(across[i] - across[j]) <= 0.1 * np.maximum(across[i], 1e-3))
             & (np.abs(high[i] - high[j]) <= 0.1 * np.maximum(high[i], 1e-3)))
    into = np.where(at_start[first][:, None], -d[i], d[i])  # segment i arriving at the joint
    away = np.where(at_start[second][:, None], d[j], -d[j])  # segment j leaving it
    normal = into + away
    alike &= np.linalg.norm(normal, axis=1) > 1e-6
    for ends_of, seg in ((first, i), (second, j)):
        on_start = at_start[ends_of] & alike
        on_end = ~at_start[ends_of] & alike
        start_normal[seg[on_start]] = normal[on_start]
        end_normal[seg[on_end]] = normal[on_end]
    return start_normal, end_normal


@dataclass(slots=True)
class PointSolids:
    """Manhole shafts (from the ground down below the lowest pipe) and fittings (small boxes at the pipes'
    height), in point order: the point index, bottom and top elevations, half size, and whether a shaft."""

    at: NDArray[np.int64]
    bottom: NDArray[np.float64]
    top: NDArray[np.float64]
    half: NDArray[np.float64]
    shaft: NDArray[np.bool_]


def _point_solids(points: PointTable, ends: NDArray[np.int64], z: NDArray[np.float64],
                  half_height: NDArray[np.float64], half_across: NDArray[np.float64]) -> PointSolids:
    """Shafts for manholes with a ground elevation, fittings for connected points that are neither manholes
    nor plain feature points; ``ends`` are the point indices of the segments' ends (start, end, start, …)
    with their centreline heights and halves."""
    n = len(points)
    count = np.bincount(ends, minlength=n)
    low = np.full(n, np.inf)
    np.minimum.at(low, ends, z - half_height)
    total = np.zeros(n)
    np.add.at(total, ends, z)  # in order: the same sums as a running sum over two ends
    widest = np.zeros(n)
    np.maximum.at(widest, ends, half_across)
    manhole = np.array([f == "manhole" for f in points.feature], dtype=bool)
    plain = np.array([f == "feature_point" for f in points.feature], dtype=bool)
    ground, connected = points.ground, count > 0
    bottom = np.where(connected, low - SUMP_M, np.where(np.isnan(points.depth), ground - 1.5, ground - points.depth))
    size = points.manhole_m
    shaft_half = np.where(np.isnan(size) | (size == 0), DEFAULT_MANHOLE_M, size) / 2
    shaft = manhole & ~np.isnan(ground)
    shaft[shaft] = ground[shaft] - bottom[shaft] > 0.05
    fitting = ~manhole & ~plain & connected
    centre = total / np.maximum(count, 1)
    if np.any(fitting & (count > 2)):  # tees and crosses: the mean of their pipes' heights
        order = np.argsort(ends, kind="stable")
        first = np.concatenate([[0], np.cumsum(count)])
        z_sorted = z[order]
        for i in np.flatnonzero(fitting & (count > 2)).tolist():
            centre[i] = float(np.mean(z_sorted[first[i]: first[i] + count[i]]))
    fitting_half = np.maximum(widest * 1.4, 0.1)
    at = np.flatnonzero(shaft | fitting)
    is_shaft = shaft[at]
    return PointSolids(
        at, np.where(is_shaft, bottom[at], centre[at] - fitting_half[at]),
        np.where(is_shaft, ground[at], centre[at] + fitting_half[at]),
        np.where(is_shaft, shaft_half[at], fitting_half[at]), is_shaft)


def _constant(value: str | None, count: int) -> TextColumn:
    """``TextColumn.of([value] * count)``."""
    return TextColumn(np.zeros(count, dtype=np.int32), [value] if count else [])


def _joined(first: TextColumn, second: TextColumn) -> TextColumn:
    """``TextColumn.of`` of the rows of ``first`` then those of ``second`` (both made by ``of``, their labels
    in order of first appearance): the same labels in the same order, without hashing every row again."""
    labels = list(first.labels)
    index = {label: i for i, label in enumerate(labels)}
    for label in second.labels:
        if label not in index:
            index[label] = len(labels)
            labels.append(label)
    remap = np.array([index[label] for label in second.labels], dtype=np.int32)
    return TextColumn(np.concatenate([first.codes, remap[second.codes]]).astype(np.int32), labels)


def _relabelled(column: TextColumn, names: dict[str, str]) -> TextColumn:
    """``TextColumn.of`` of the column's rows renamed through ``names`` (the labels' order kept when the
    renaming keeps them apart)."""
    labels: list[str | None] = [names[label] for label in column.labels if label is not None]
    if len(set(labels)) == len(labels) == len(column.labels):
        return TextColumn(column.codes, labels)
    return TextColumn.of([names[label] if label is not None else None for label in column.to_list()])


def _columns(network: Network, lengths: NDArray[np.float64], solids: PointSolids) -> dict[str, ArrayColumn]:
    """The features' property columns (segments, then points with a solid), as arrays."""
    segments, all_points = network.segment_table, network.point_table
    at = solids.at.tolist()
    n_seg, n_pts = len(segments), len(at)
    point_categories = [c or "other" for c in pick(all_points.category, at)]

    def text(values: Sequence[str | None]) -> TextColumn:
        return TextColumn.of(values)

    def seg_text(values: Sequence[str | None]) -> TextColumn:
        return TextColumn.of([*values, *[None] * n_pts])

    def seg_float(values: NDArray[np.float64]) -> NumberColumn:
        return NumberColumn(np.concatenate([values, np.full(n_pts, np.nan)]))

    def pts_float(values: NDArray[np.float64]) -> NumberColumn:
        return NumberColumn(np.concatenate([np.full(n_seg, np.nan), values]))

    def seg_int(values: NDArray[np.float64]) -> NumberColumn:  # whole numbers, NaN where none
        missing = np.concatenate([np.isnan(values), np.ones(n_pts, dtype=bool)])
        return NumberColumn(np.concatenate([np.nan_to_num(values), np.zeros(n_pts)]).astype(np.int64), missing)

    def rounded(values: NDArray[np.float64]) -> NDArray[np.float64]:  # Python's round, as reports show them
        return np.array([round(v, 3) for v in values.tolist()], dtype=np.float64)

    category = text([*segments.category, *point_categories])
    columns: dict[str, ArrayColumn] = {
        "kind": _joined(_constant("segment", n_seg), _constant("point", n_pts)),
        "id": text([*segments.id, *pick(all_points.id, at)]),
        "category": category,
        "category_zh": _relabelled(category, {c: CATEGORY_BY_CODE[c].name_zh for c in category.labels if c}),
        "feature": _joined(_constant(None, n_seg), text(pick(all_points.feature, at))),
        "start_id": seg_text(segments.start),
        "end_id": seg_text(segments.end),
        "diameter_mm": seg_float(segments.diameter_mm),
        "width_mm": seg_float(segments.width_mm),
        "height_mm": seg_float(segments.height_mm),
        "material": seg_text(segments.material),
        "pressure": seg_text(segments.pressure),
        "voltage": seg_text(segments.voltage),
        "laying": seg_text(segments.laying),
        "ducts": seg_int(segments.ducts),
        "owner": text([*segments.owner, *pick(all_points.owner, at)]),
        "construction_year": seg_int(segments.construction_year),
        "survey_date": seg_text(segments.survey_date),
        "start_depth_m": seg_float(segments.start_depth),
        "end_depth_m": seg_float(segments.end_depth),
        "start_centre_elevation_m": seg_float(rounded(segments.z_start)),
        "end_centre_elevation_m": seg_float(rounded(segments.z_end)),
        "length_m": seg_float(np.round(lengths, 3)),
        "ground_elevation_m": pts_float(all_points.ground[solids.at]),
        "depth_m": pts_float(all_points.depth[solids.at]),
        "bottom_elevation_m": pts_float(rounded(solids.bottom)),
        "manhole_size_m": pts_float(all_points.manhole_m[solids.at]),
        "district": text([*segments.district, *pick(all_points.district, at)]),
        "source_row": NumberColumn(np.concatenate([segments.row, all_points.row[solids.at]])),
    }
    extras = [*segments.extras, *pick(all_points.extras, at)]
    extra_names: dict[str, None] = {}
    for row in extras:
        if row:
            extra_names.update(dict.fromkeys(row))
            if len(extra_names) >= MAX_EXTRA_COLUMNS:
                break
    for name in list(extra_names)[:MAX_EXTRA_COLUMNS]:
        if name not in columns:
            columns[name] = text([row.get(name) for row in extras])
    return columns


def build_features(network: Network, placement: Placement) -> tuple[Features, NDArray[np.float64]]:
    """Every segment and every point with a solid, in local ENU metres; and the segments' 3D lengths."""
    segments, points = network.segment_table, network.point_table
    xy = np.column_stack([points.x, points.y])
    s_idx, e_idx = segments.start_at, segments.end_at
    z0, z1 = segments.z_start, segments.z_end
    map_start = np.column_stack([xy[s_idx], z0]) if len(segments) else np.zeros((0, 3))
    map_end = np.column_stack([xy[e_idx], z1]) if len(segments) else np.zeros((0, 3))
    lengths = np.linalg.norm(map_end - map_start, axis=1)
    across, high = segments.half_across_m(), segments.half_height_m()
    solids = _point_solids(points, np.column_stack([s_idx, e_idx]).ravel(), np.column_stack([z0, z1]).ravel(),
                           np.repeat(high, 2), np.repeat(across, 2))
    p_xy = xy[solids.at].reshape(-1, 2)
    p_start = np.column_stack([p_xy, solids.bottom])
    p_end = np.column_stack([p_xy, solids.top])
    enu = placement.to_enu(np.concatenate([map_start, map_end, p_start, p_end]))
    n, m = len(segments), len(solids.at)
    start = np.concatenate([enu[:n], enu[2 * n: 2 * n + m]])
    end = np.concatenate([enu[n: 2 * n], enu[2 * n + m:]])
    seg_normals = _joint_normals(network, enu[:n], enu[n: 2 * n])
    axis = (enu[2 * n + m:] - enu[2 * n: 2 * n + m]) if m else np.zeros((0, 3))
    half_u = np.concatenate([across, solids.half])
    half_v = np.concatenate([high, solids.half])
    categories = [*segments.category, *[c or "other" for c in pick(points.category, solids.at.tolist())]]
    features = Features(
        start=start, end=end, half_u=half_u, half_v=half_v,
        round=np.concatenate([segments.round, solids.shaft]).astype(bool),
        sides=_sides(2 * half_u),
        start_normal=np.concatenate([seg_normals[0], axis]), end_normal=np.concatenate([seg_normals[1], axis]),
        material=np.array([MATERIAL_INDEX[c] for c in categories], dtype=np.int64),
        columns=_columns(network, lengths, solids),
    )
    return features, lengths


def _outline(features: Features, placement: Placement) -> dict[str, Any] | None:
    """The network's footprint (2 m around every pipe and shaft) as a GeoJSON polygon in WGS84."""
    if not len(features):
        return None
    if len(features) <= EXACT_OUTLINE_MAX:
        lines = shapely.linestrings(np.stack([features.start[:, :2], features.end[:, :2]], axis=1))
        area = shapely.union_all(shapely.buffer(lines, 2.0 + features.half_u, quad_segs=2)).simplify(0.5)
    else:  # large networks: the grid cells the pipes pass through, merged into runs along each row
        area = shapely.coverage_union_all(_cell_runs(features))
    frame = placement.frame

    def to_wgs84(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        geo = frame.enu_to_geodetic(np.column_stack([xy, np.zeros(len(xy))]))
        return geo[:, :2]

    return dict(mapping(shapely.transform(area, to_wgs84)))


def _cell_runs(features: Features) -> NDArray[np.object_]:
    """Rectangles covering the grid cells the pipes pass through (consecutive cells of a row merged)."""
    length = np.linalg.norm(features.end[:, :2] - features.start[:, :2], axis=1)
    steps = np.maximum(1, np.ceil(length / (OUTLINE_CELL_M / 2)).astype(np.int64))
    owner = np.repeat(np.arange(len(features)), steps + 1)
    offsets = np.concatenate(([0], np.cumsum(steps + 1)[:-1]))
    fraction = (np.arange(len(owner)) - np.repeat(offsets, steps + 1)) / np.repeat(steps, steps + 1)
    samples = features.start[owner, :2] + (features.end[owner, :2] - features.start[owner, :2]) * fraction[:, None]
    cell = np.floor(samples / OUTLINE_CELL_M).astype(np.int64)
    low = cell.min(axis=0) if len(cell) else np.zeros(2, dtype=np.int64)
    width = int(cell[:, 0].max() - low[0] + 1) if len(cell) else 1
    key = np.unique((cell[:, 1] - low[1]) * width + (cell[:, 0] - low[0]))  # by row, then column
    cells = np.column_stack([key % width + low[0], key // width + low[1]])
    breaks = np.flatnonzero((np.diff(cells[:, 1]) != 0) | (np.diff(cells[:, 0]) != 1)) + 1
    first = np.concatenate(([0], breaks))
    last = np.concatenate((breaks - 1, [len(cells) - 1]))
    size = OUTLINE_CELL_M
    boxes: NDArray[np.object_] = shapely.box(cells[first, 0] * size, cells[first, 1] * size,
                                             (cells[last, 0] + 1) * size, (cells[last, 1] + 1) * size)
    return boxes


_FEATURES: dict[str, Features] = {}


def _write_job(keys: NDArray[np.integer], path: Path) -> tuple[BoundingVolume, int, int]:
    return write_solids_glb(_FEATURES["features"], keys, MATERIALS, path)


def _lines_job(path: Path) -> tuple[BoundingVolume, int]:
    features = _FEATURES["features"]
    return write_lines_glb(features, np.arange(len(features)), MATERIALS, path)


def _write_contents(features: Features, jobs: list[tuple[str, NDArray[np.integer], Path]], lines_path: Path,
                    workers: int, progress: Callable[[int], None], meanwhile: Callable[[], None]
                    ) -> tuple[dict[str, tuple[BoundingVolume, int, int]], tuple[BoundingVolume, int]]:
    """Every solid content and the lines content; with several workers in forked processes (they inherit the
    features), the lines written beside the solids, and ``meanwhile`` called in this process while they work
    (else after them)."""
    if workers <= 1 or len(jobs) < 4:
        out = {}
        for name, keys, path in jobs:
            out[name] = write_solids_glb(features, keys, MATERIALS, path)
            progress(len(keys))
        lines_written = write_lines_glb(features, np.arange(len(features)), MATERIALS, lines_path)
        meanwhile()
        return out, lines_written
    _FEATURES["features"] = features
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
            lines = pool.submit(_lines_job, lines_path)
            futures = {pool.submit(_write_job, keys, path): (name, len(keys)) for name, keys, path in jobs}
            meanwhile()
            results = {}
            for future in as_completed(futures):
                name, count = futures[future]
                results[name] = future.result()
                progress(count)
            return results, lines.result()
    finally:
        _FEATURES.clear()


def _tiles(features: Features, out_dir: Path, placement: Placement, options: ConvertOptions,
           meanwhile: Callable[[], None]) -> tuple[Tileset, dict[str, int]]:
    lo, hi = features.bounds()
    weights = features.weights()
    root_node = build_quadtree(lo, hi, weights, MAX_TILE_TRIANGLES, PARENT_TRIANGLES)
    (out_dir / CONTENT_DIR).mkdir(parents=True, exist_ok=True)
    stats = {"tiles": 0, "bytes": 0, "triangles": 0}
    total = len(features)
    written = [0]
    jobs: list[tuple[str, NDArray[np.integer], Path]] = []

    def collect(node: QuadNode, name: str) -> None:
        if len(node.keys):
            jobs.append((name, np.sort(node.keys), out_dir / CONTENT_DIR / f"{name}.glb"))
        for i, child in enumerate(node.children):
            collect(child, f"{name}{i}")

    def advance(count: int) -> None:
        written[0] += count
        options.report_progress(0.3 + 0.6 * written[0] / total, "writing tiles")

    collect(root_node, "q")
    jobs.sort(key=lambda job: -len(job[1]))
    contents, (lines_box, lines_bytes) = _write_contents(features, jobs, out_dir / "lines.glb",
                                                         max(1, options.jobs or os.cpu_count() or 1), advance,
                                                         meanwhile)

    def to_tile(node: QuadNode, name: str) -> Tile:
        content = None
        volumes: list[BoundingVolume] = []
        if name in contents:
            box, size, triangles = contents[name]
            content = Content(f"{CONTENT_DIR}/{name}.glb", box)
            volumes.append(box)
            stats["tiles"] += 1
            stats["bytes"] += size
            stats["triangles"] += triangles
        children = [to_tile(child, f"{name}{i}") for i, child in enumerate(node.children)]
        t_lo, t_hi = node.lo, node.hi
        for volume in volumes + [c.bounding_volume for c in children]:
            v_lo, v_hi = volume.bounds()
            t_lo, t_hi = np.minimum(t_lo, v_lo), np.maximum(t_hi, v_hi)
        return Tile(BoundingVolume.from_bounds(t_lo, t_hi), node.geometric_error, content, children)

    solids_root = to_tile(root_node, "q")
    solids_root.refine = "ADD"
    t_lo, t_hi = solids_root.bounding_volume.bounds()
    l_lo, l_hi = lines_box.bounds()
    box = BoundingVolume.from_bounds(np.minimum(t_lo, l_lo), np.maximum(t_hi, l_hi))
    largest = float(2 * max(features.half_u.max(), features.half_v.max()))
    diagonal = float(np.linalg.norm(np.maximum(t_hi, l_hi) - np.minimum(t_lo, l_lo)))
    # lines give way to solids when a viewer comes within a few times the network's size
    lines_error = max(solids_root.geometric_error * 1.5, largest * 4, 8.0, min(diagonal / 20, 200.0))
    root = Tile(box, lines_error, Content("lines.glb", lines_box), [solids_root], refine="REPLACE",
                transform=placement.frame.tileset_transform())
    stats["tiles"] += 1
    stats["bytes"] += lines_bytes
    tileset = Tileset(root=root, geometric_error=max(diagonal, lines_error * 2),
                      extras={"source": "pipelines", "features": total})
    return tileset, stats


def convert(input_path: Path, out_dir: Path, options: ConvertOptions) -> dict[str, Any]:
    with paused_gc():  # the network's many small objects hold no cycles (see records.paused_gc)
        return _convert(input_path, out_dir, options)


def _convert(input_path: Path, out_dir: Path, options: ConvertOptions) -> dict[str, Any]:
    started = time.perf_counter()
    path = Path(input_path)
    network = read_network(path, options)
    points, segments = network.point_table, network.segment_table
    options.report_progress(0.15, f"{len(segments)} segments, {len(points)} points read")
    if not len(segments) and not len(points):
        raise ConversionError(f"{path.name}: no usable segments or points")
    xyz = np.column_stack([points.x, points.y, np.where(np.isnan(points.ground), 0.0, points.ground)])
    placement = place_in_crs(network.crs, xyz.min(axis=0), xyz.max(axis=0))
    read_s = time.perf_counter() - started
    features, lengths = build_features(network, placement)
    if not len(features):
        raise ConversionError(f"{path.name}: no segment could be built and no point has a manhole or fitting to "
                              "draw (points need a ground elevation)")
    options.report_progress(0.3, "geometry built")
    outlines: list[dict[str, Any] | None] = []  # worked out here while the workers write the tiles
    tileset, stats = _tiles(features, Path(out_dir), placement, options,
                            lambda: outlines.append(_outline(features, placement)))
    tileset.write(Path(out_dir) / "tileset.json")
    outline = outlines[0]
    options.report_progress(1.0, "done")
    errors = network.errors
    by_category: dict[str, dict[str, float]] = {}
    for category, length in zip(segments.category, lengths.tolist(), strict=True):
        entry = by_category.setdefault(category, {"segments": 0, "length_m": 0.0})
        entry["segments"] += 1
        entry["length_m"] = round(entry["length_m"] + length, 3)
    return {
        "kind": "pipelines",
        "format": path.suffix.lower().lstrip("."),
        "tileset": "tileset.json",
        "lod": "pipelines",
        "counts": {
            "points": len(points), "segments": len(segments), "features": len(features),
            "refused_rows": len(errors), "warnings": len(network.problems) - len(errors),
            "tiles": stats["tiles"], "triangles": stats["triangles"], "content_bytes": stats["bytes"],
            "length_m": round(float(lengths.sum()), 3),
        },
        "categories": by_category,
        "problems": [p.as_dict() for p in network.problems[:500]],
        "problems_truncated": len(network.problems) > 500,
        "columns": network.columns,
        "ignored_tables": network.ignored_tables,
        "rows_read": network.rows_read,
        "crs": network.crs,
        "coordinates": ("X was read as northing and Y as easting (the surveying convention)"
                        if network.swapped_xy else "X easting, Y northing"),
        "depth_conventions": {c.code: c.depth_to for c in CATEGORIES},
        "heights": "centreline elevations in the survey's datum (Yellow Sea 1985), ellipsoidal through the geoid",
        "georeferencing": placement.report(),
        "footprint_wgs84": outline,
        "strict": options.strict,
        "timings": {"read_s": round(read_s, 3), "segments_per_s": round(
            len(segments) / max(time.perf_counter() - started, 1e-9), 1)},
    }
