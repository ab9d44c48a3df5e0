"""Pipeline survey tables → 3D Tiles 1.1: tubes and boxes along 3D centrelines, manhole shafts, fittings.

Tileset: the root tile holds every segment and shaft as a thin coloured line (what a viewer shows from afar,
refine REPLACE); its child is a quadtree of solid contents (refine ADD; the largest pipes in the upper
tiles). One feature per segment or point, with its attributes in ``EXT_structural_metadata``.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import mapping

from converters.errors import ConversionError
from converters.footprints.quadtree import QuadNode, build_quadtree
from converters.options import ConvertOptions
from converters.pipelines.glb_writer import Features, write_lines_glb, write_solids_glb
from converters.pipelines.network import Network, PipePoint, PipeSegment, read_network
from converters.pipelines.schema import CATEGORIES, CATEGORY_BY_CODE
from converters.pointcloud.placement import Placement, place_in_crs
from tiles.mesh import Material
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


def _sides(size_m: float) -> int:
    return 8 if size_m < 0.4 else 12 if size_m < 1.2 else 16


def _joint_normals(network: Network, start: NDArray[np.float64], end: NDArray[np.float64]
                   ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Miter planes where exactly two segments of one category and size meet (a bend), not in a manhole."""
    d = end - start
    d /= np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-12)
    start_normal, end_normal = d.copy(), d.copy()
    n = len(network.segments)
    if n < 2:
        return start_normal, end_normal
    index = network.point_index()
    manhole = np.array([p.feature == "manhole" for p in network.points], dtype=bool)
    ends = np.array([index[s.start] for s in network.segments] + [index[s.end] for s in network.segments])
    segment = np.concatenate([np.arange(n), np.arange(n)])
    at_start = np.arange(2 * n) < n
    degree = np.bincount(ends, minlength=len(network.points))
    pick = np.flatnonzero((degree[ends] == 2) & ~manhole[ends])
    order = pick[np.argsort(ends[pick], kind="stable")]
    first, second = order[0::2], order[1::2]
    i, j = segment[first], segment[second]
    category = np.array([MATERIAL_INDEX[s.category] for s in network.segments])
    across = np.array([s.half_across_m for s in network.segments])
    high = np.array([s.half_height_m for s in network.segments])
    shape = np.array([s.round for s in network.segments])
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


def _point_solids(network: Network, ends: NDArray[np.int64], z: NDArray[np.float64], half_height: NDArray[np.float64],
                  half_across: NDArray[np.float64]) -> list[tuple[PipePoint, float, float, float, bool]]:
    """(point, bottom, top, half size, is shaft) for manholes (shafts) and fittings (small boxes); ``ends`` are
    the point indices of the segments' ends (start, end, start, …) with their centreline heights and halves."""
    count = np.bincount(ends, minlength=len(network.points)).tolist()
    low = np.full(len(network.points), np.inf)
    np.minimum.at(low, ends, z - half_height)
    total = np.zeros(len(network.points))
    np.add.at(total, ends, z)  # in order: the same sums as a running sum over two ends
    widest = np.zeros(len(network.points))
    np.maximum.at(widest, ends, half_across)
    order = np.argsort(ends, kind="stable")
    first = np.concatenate([[0], np.cumsum(count)])
    z_sorted = z[order]
    lows, totals, widests = low.tolist(), total.tolist(), widest.tolist()
    out = []
    for i, point in enumerate(network.points):
        connected = count[i]
        if point.feature == "manhole" and point.ground is not None:
            if connected:
                bottom = lows[i] - SUMP_M
            elif point.depth is not None:
                bottom = point.ground - point.depth
            else:
                bottom = point.ground - 1.5
            half = (point.manhole_m or DEFAULT_MANHOLE_M) / 2
            if point.ground - bottom > 0.05:
                out.append((point, bottom, point.ground, half, True))
        elif point.feature not in ("manhole", "feature_point") and connected:
            centre = (totals[i] / connected if connected <= 2
                      else float(np.mean(z_sorted[first[i]: first[i] + connected])))
            half = max(widests[i] * 1.4, 0.1)
            out.append((point, centre - half, centre + half, half, False))
    return out


def _halves(segments: list[PipeSegment]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Every segment's half size across and half height (metres)."""
    across = np.array([s.half_across_m for s in segments], dtype=np.float64)
    high = np.array([s.half_height_m for s in segments], dtype=np.float64)
    return across, high


def _columns(network: Network, segments: list[PipeSegment], lengths: NDArray[np.float64],
             solids: list[tuple[PipePoint, float, float, float, bool]]) -> dict[str, list[Any]]:
    points = [s[0] for s in solids]
    n_seg = len(segments)

    def seg(values: list[Any]) -> list[Any]:
        return values + [None] * len(points)

    def pts(values: list[Any]) -> list[Any]:
        return [None] * n_seg + values

    columns: dict[str, list[Any]] = {
        "kind": ["segment"] * n_seg + ["point"] * len(points),
        "id": [s.id for s in segments] + [p.id for p in points],
        "category": [s.category for s in segments] + [p.category or "other" for p in points],
        "category_zh": [CATEGORY_BY_CODE[s.category].name_zh for s in segments]
        + [CATEGORY_BY_CODE[p.category or "other"].name_zh for p in points],
        "feature": pts([p.feature for p in points]),
        "start_id": seg([s.start for s in segments]),
        "end_id": seg([s.end for s in segments]),
        "diameter_mm": seg([s.diameter_mm for s in segments]),
        "width_mm": seg([s.width_mm for s in segments]),
        "height_mm": seg([s.height_mm for s in segments]),
        "material": seg([s.material for s in segments]),
        "pressure": seg([s.pressure for s in segments]),
        "voltage": seg([s.voltage for s in segments]),
        "laying": seg([s.laying for s in segments]),
        "ducts": seg([s.ducts for s in segments]),
        "owner": [s.owner for s in segments] + [p.owner for p in points],
        "construction_year": seg([s.construction_year for s in segments]),
        "survey_date": seg([s.survey_date for s in segments]),
        "start_depth_m": seg([s.start_depth for s in segments]),
        "end_depth_m": seg([s.end_depth for s in segments]),
        "start_centre_elevation_m": seg([round(s.z_start, 3) for s in segments]),
        "end_centre_elevation_m": seg([round(s.z_end, 3) for s in segments]),
        "length_m": seg(np.round(lengths, 3).tolist()),
        "ground_elevation_m": pts([p.ground for p in points]),
        "depth_m": pts([p.depth for p in points]),
        "bottom_elevation_m": pts([round(s[1], 3) for s in solids]),
        "manhole_size_m": pts([p.manhole_m for p in points]),
        "district": [s.district for s in segments] + [p.district for p in points],
        "source_row": [s.row for s in segments] + [p.row for p in points],
    }
    extra_names: dict[str, None] = {}
    for extras in [s.extras for s in segments] + [p.extras for p in points]:
        extra_names.update(dict.fromkeys(extras))
        if len(extra_names) >= MAX_EXTRA_COLUMNS:
            break
    for name in list(extra_names)[:MAX_EXTRA_COLUMNS]:
        if name not in columns:
            columns[name] = [s.extras.get(name) for s in segments] + [p.extras.get(name) for p in points]
    return columns


def build_features(network: Network, placement: Placement) -> tuple[Features, NDArray[np.float64]]:
    """Every segment and every point with a solid, in local ENU metres; and the segments' 3D lengths."""
    index = network.point_index()
    segments = network.segments
    xy = np.column_stack([np.fromiter((p.x for p in network.points), np.float64, len(network.points)),
                          np.fromiter((p.y for p in network.points), np.float64, len(network.points))])
    s_idx = np.array([index[s.start] for s in segments], dtype=np.int64)
    e_idx = np.array([index[s.end] for s in segments], dtype=np.int64)
    z0 = np.array([s.z_start for s in segments], dtype=np.float64)
    z1 = np.array([s.z_end for s in segments], dtype=np.float64)
    map_start = np.column_stack([xy[s_idx], z0]) if len(segments) else np.zeros((0, 3))
    map_end = np.column_stack([xy[e_idx], z1]) if len(segments) else np.zeros((0, 3))
    lengths = np.linalg.norm(map_end - map_start, axis=1)
    across, high = _halves(segments)
    solids = _point_solids(network, np.column_stack([s_idx, e_idx]).ravel(), np.column_stack([z0, z1]).ravel(),
                           np.repeat(high, 2), np.repeat(across, 2))
    p_xy = np.array([[s[0].x, s[0].y] for s in solids], dtype=np.float64).reshape(-1, 2)
    p_start = np.column_stack([p_xy, [s[1] for s in solids]]) if solids else np.zeros((0, 3))
    p_end = np.column_stack([p_xy, [s[2] for s in solids]]) if solids else np.zeros((0, 3))
    enu = placement.to_enu(np.concatenate([map_start, map_end, p_start, p_end]))
    n, m = len(segments), len(solids)
    start = np.concatenate([enu[:n], enu[2 * n: 2 * n + m]])
    end = np.concatenate([enu[n: 2 * n], enu[2 * n + m:]])
    seg_normals = _joint_normals(network, enu[:n], enu[n: 2 * n])
    axis = (enu[2 * n + m:] - enu[2 * n: 2 * n + m]) if m else np.zeros((0, 3))
    half_u = np.concatenate([across, np.array([s[3] for s in solids], dtype=np.float64)])
    half_v = np.concatenate([high, np.array([s[3] for s in solids], dtype=np.float64)])
    round_ = np.array([s.round for s in segments] + [s[4] for s in solids], dtype=bool)
    features = Features(
        start=start, end=end, half_u=half_u, half_v=half_v, round=round_,
        sides=np.array([_sides(2 * h) for h in half_u.tolist()], dtype=np.int64),
        start_normal=np.concatenate([seg_normals[0], axis]), end_normal=np.concatenate([seg_normals[1], axis]),
        material=np.array([MATERIAL_INDEX[s.category] for s in segments]
                          + [MATERIAL_INDEX[s[0].category or "other"] for s in solids], dtype=np.int64),
        columns=_columns(network, segments, lengths, solids),
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
    cells = np.unique(np.floor(samples / OUTLINE_CELL_M).astype(np.int64), axis=0)  # sorted by row, then column
    order = np.lexsort((cells[:, 0], cells[:, 1]))
    cells = cells[order]
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
                    workers: int, progress: Callable[[int], None]
                    ) -> tuple[dict[str, tuple[BoundingVolume, int, int]], tuple[BoundingVolume, int]]:
    """Every solid content and the lines content; with several workers in forked processes (they inherit the
    features), the lines written beside the solids."""
    if workers <= 1 or len(jobs) < 4:
        out = {}
        for name, keys, path in jobs:
            out[name] = write_solids_glb(features, keys, MATERIALS, path)
            progress(len(keys))
        return out, write_lines_glb(features, np.arange(len(features)), MATERIALS, lines_path)
    _FEATURES["features"] = features
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
            lines = pool.submit(_lines_job, lines_path)
            futures = {pool.submit(_write_job, keys, path): (name, len(keys)) for name, keys, path in jobs}
            results = {}
            for future in as_completed(futures):
                name, count = futures[future]
                results[name] = future.result()
                progress(count)
            return results, lines.result()
    finally:
        _FEATURES.clear()


def _tiles(features: Features, out_dir: Path, placement: Placement, options: ConvertOptions
           ) -> tuple[Tileset, dict[str, int]]:
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
                                                         max(1, options.jobs or os.cpu_count() or 1), advance)

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
    started = time.perf_counter()
    path = Path(input_path)
    network = read_network(path, options)
    options.report_progress(0.15, f"{len(network.segments)} segments, {len(network.points)} points read")
    if not network.segments and not network.points:
        raise ConversionError(f"{path.name}: no usable segments or points")
    xyz = np.array([[p.x, p.y, p.ground if p.ground is not None else 0.0] for p in network.points])
    placement = place_in_crs(network.crs, xyz.min(axis=0), xyz.max(axis=0))
    read_s = time.perf_counter() - started
    features, lengths = build_features(network, placement)
    if not len(features):
        raise ConversionError(f"{path.name}: no segment could be built and no point has a manhole or fitting to "
                              "draw (points need a ground elevation)")
    options.report_progress(0.3, "geometry built")
    tileset, stats = _tiles(features, Path(out_dir), placement, options)
    tileset.write(Path(out_dir) / "tileset.json")
    outline = _outline(features, placement)
    options.report_progress(1.0, "done")
    errors = network.errors
    by_category: dict[str, dict[str, float]] = {}
    for segment, length in zip(network.segments, lengths.tolist(), strict=True):
        entry = by_category.setdefault(segment.category, {"segments": 0, "length_m": 0.0})
        entry["segments"] += 1
        entry["length_m"] = round(entry["length_m"] + length, 3)
    return {
        "kind": "pipelines",
        "format": path.suffix.lower().lstrip("."),
        "tileset": "tileset.json",
        "lod": "pipelines",
        "counts": {
            "points": len(network.points), "segments": len(network.segments), "features": len(features),
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
            len(network.segments) / max(time.perf_counter() - started, 1e-9), 1)},
    }
