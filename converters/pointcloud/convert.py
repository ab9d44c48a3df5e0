"""LAS/LAZ/COPC → georeferenced 3D Tiles 1.1 point cloud (octree, refine ADD), out of core.

Pass 1 streams the file in chunks (a reader thread decompresses while the main thread transforms to
local ENU metres), collects attributes' ranges and the occupancy outline, and either keeps the points
in memory (small files) or spills them into spatial bucket files sized to the memory budget. Pass 2
builds and writes the octree nodes, one bucket per worker process.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import queue
import shutil
import threading
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from converters.errors import ConversionError, GeoreferencingError
from converters.options import ConvertOptions
from converters.pointcloud.crs_bounds import check_bounds
from converters.pointcloud.fast_transform import FastToEnu
from converters.pointcloud.las_crs import detect_crs
from converters.pointcloud.las_source import LasInfo, PointChunk, iter_chunks, read_info
from converters.pointcloud.nodes import (
    Attributes,
    NodeInfo,
    PointSet,
    bucket_path,
    build_nodes,
    process_bucket,
    write_shared,
)
from converters.pointcloud.octree import GRID_BITS, Cube
from converters.pointcloud.outline import Occupancy
from converters.pointcloud.pass1 import parallel_pass1, point_set
from converters.pointcloud.placement import Placement, place_at_origin, place_in_crs, place_local
from converters.pointcloud.tree import build_tileset

BYTES_PER_POINT = 120  # working memory of pass 2 per point (arrays, sort, temporaries)
MAX_CHUNK = 1_000_000
PARALLEL_MIN_POINTS = 1_500_000  # above this, bucket the cloud even when it fits in memory: all cores work
SPILL_DIR = ".spill"


def _placement(info: LasInfo, options: ConvertOptions) -> tuple[Placement, dict[str, Any]]:
    centre = ((info.mins[0] + info.maxs[0]) / 2, (info.mins[1] + info.maxs[1]) / 2)
    detection = detect_crs(info.header, None if options.origin else options.crs, centre)
    if options.local:
        return place_local(options, info.mins, info.maxs), detection.report()
    if options.origin is not None:
        return place_at_origin(options), detection.report()
    if detection.crs is None:
        raise GeoreferencingError(
            f"{info.path.name}: the file has no coordinate reference system (no WKT or GeoTIFF record); "
            "pass --crs EPSG:CODE for map coordinates, --origin to place local coordinates, "
            "or --local to put it at the default location"
        )
    check_bounds(detection.crs, info.mins, info.maxs, detection.source, info.path.name)
    return place_in_crs(detection.crs, info.mins, info.maxs), detection.report()


def _enu_bounds(transform: FastToEnu, lo: NDArray[np.float64],
                hi: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    t = np.linspace(0.0, 1.0, 5)
    gx, gy, gz = np.meshgrid(lo[0] + t * (hi[0] - lo[0]), lo[1] + t * (hi[1] - lo[1]), [lo[2], hi[2]])
    enu = transform(np.column_stack([gx.ravel(), gy.ravel(), gz.ravel()]))
    return enu.min(axis=0), enu.max(axis=0)


def _cube(lo: NDArray[np.float64], hi: NDArray[np.float64]) -> Cube:
    size = float((hi - lo).max())
    size = max(size * 1.001, 0.01)
    centre = (lo + hi) / 2
    origin = np.array([centre[0] - size / 2, centre[1] - size / 2, lo[2] - size * 0.0005])
    return Cube(origin, size)


def _prefetch(chunks: Iterator[PointChunk]) -> Iterator[PointChunk]:
    """Decompress the next chunk in a thread while the caller works on the current one."""
    box: queue.Queue[Any] = queue.Queue(maxsize=2)
    done = object()

    def run() -> None:
        try:
            for chunk in chunks:
                box.put(chunk)
            box.put(done)
        except BaseException as error:  # handed to the consumer, re-raised there
            box.put(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    while True:
        item = box.get()
        if item is done:
            break
        if isinstance(item, BaseException):
            raise item
        yield item
    thread.join()


def convert(input_path: Path, out_dir: Path, options: ConvertOptions) -> dict[str, Any]:
    started = time.perf_counter()
    info = read_info(Path(input_path))
    if info.point_count == 0:
        raise ConversionError(f"{info.path.name}: the file holds no points")
    placement, crs_report = _placement(info, options)
    transform = FastToEnu(placement.to_enu, info.mins, info.maxs)
    jobs = max(1, options.jobs or os.cpu_count() or 1)
    budget = max(64, options.memory_mb) * 2**20
    in_memory = info.point_count * BYTES_PER_POINT <= 0.7 * budget and (
        jobs == 1 or info.point_count < PARALLEL_MIN_POINTS)
    bucket_max = max(100_000, int(0.7 * budget / jobs / BYTES_PER_POINT))
    depth = 0 if in_memory else min(GRID_BITS, max(1, math.ceil(math.log(info.point_count / bucket_max, 4))))
    chunk_points = int(min(MAX_CHUNK, max(50_000, 0.1 * budget / BYTES_PER_POINT)))

    cube = _cube(*_enu_bounds(transform, info.mins, info.maxs))
    occupancy = Occupancy(cube)
    rgb_max = 0
    read = 0
    kept: list[PointSet] = []
    spill_dir = Path(out_dir) / SPILL_DIR
    content_dir = Path(out_dir) / "points"
    shutil.rmtree(content_dir, ignore_errors=True)
    content_dir.mkdir(parents=True)
    buckets: set[int] = set()
    if not in_memory:
        shutil.rmtree(spill_dir, ignore_errors=True)
        spill_dir.mkdir(parents=True)
    try:
        if in_memory:
            for chunk in _prefetch(iter_chunks(info, chunk_points)):
                enu = transform(chunk.xyz)
                occupancy.add(enu)
                if chunk.rgb is not None and len(chunk.rgb):
                    rgb_max = max(rgb_max, int(chunk.rgb.max()))
                kept.append(point_set(chunk, enu))
                read += len(enu)
                options.report_progress(0.5 * read / info.point_count,
                                        f"read {read:,} of {info.point_count:,} points")
        else:
            first = parallel_pass1(
                info, transform, cube, depth, spill_dir, chunk_points, jobs,
                lambda done: options.report_progress(0.5 * done / info.point_count,
                                                     f"read {done:,} of {info.point_count:,} points"))
            read, rgb_max, buckets = first.read, first.rgb_max, first.buckets
            occupancy.grid |= first.grid
            occupancy.z_sum, occupancy.count = first.z_sum, first.read
        attrs = Attributes(info.has_rgb, info.has_intensity, info.has_classification, 8 if rgb_max > 255 else 0)
        pass1 = time.perf_counter() - started
        if in_memory:
            all_points = PointSet.concat(kept)
            kept.clear()
            cube = _cube(all_points.enu.min(axis=0), all_points.enu.max(axis=0))
            nodes, _, _ = build_nodes(all_points, cube, 0, Path(out_dir), attrs)
            options.report_progress(0.95, "octree written")
        else:
            nodes = _run_buckets(sorted(buckets), depth, cube, Path(out_dir), attrs, bucket_max, jobs, options)
    finally:
        shutil.rmtree(spill_dir, ignore_errors=True)
    written = sum(n.count for n in nodes)
    extras = {"source": info.path.name, "points": written}
    tileset = build_tileset(nodes, cube, placement.frame.tileset_transform(), extras)
    tileset_bytes = tileset.write(Path(out_dir) / "tileset.json")
    outline, area = occupancy.outline(placement.frame)
    options.report_progress(1.0, "done")
    content_bytes = sum(f.stat().st_size for f in content_dir.iterdir())
    levels = sorted({n.level for n in nodes})
    return {
        "kind": "pointcloud",
        "tileset": "tileset.json",
        "counts": {"points_in_header": info.point_count, "points_read": read, "points_written": written,
                   "tiles": len(nodes), "levels": len(levels)},
        "crs": crs_report,
        "georeferencing": placement.report() | {"fast_transform_max_error_m": transform.fit_error_m,
                                                "fast_transform_used": transform.uses_fit},
        "source": info.report(),
        "octree": {"cube_size_m": cube.size, "root_spacing_m": cube.spacing(0), "out_of_core": not in_memory,
                   "bucket_depth": depth, "colour_bits": 16 if attrs.rgb_shift else 8, "jobs": jobs},
        "skipped": [],
        "footprint_wgs84": outline,
        "footprint_area_m2": area,
        "output_bytes": content_bytes + tileset_bytes,
        "timings": {"read_transform_s": round(pass1, 3), "convert_s": round(time.perf_counter() - started, 3)},
    }


def _run_buckets(keys: list[int], depth: int, cube: Cube, out_dir: Path, attrs: Attributes, bucket_max: int,
                 jobs: int, options: ConvertOptions) -> list[NodeInfo]:
    spill_dir = out_dir / SPILL_DIR
    nodes: list[NodeInfo] = []
    shared: list[PointSet] = []
    shared_levels: list[NDArray[np.uint8]] = []
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        pending = {pool.submit(process_bucket, bucket_path(spill_dir, depth, key), depth, key, cube, out_dir, attrs,
                               bucket_max) for key in keys}
        done_count = 0
        try:
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    written, points, levels = future.result()
                    nodes += written
                    shared.append(points)
                    shared_levels.append(levels)
                    done_count += 1
                options.report_progress(0.5 + 0.45 * done_count / len(keys),
                                        f"octree: {done_count} of {len(keys)} buckets")
        except BaseException:
            for future in pending:
                future.cancel()
            raise
    nodes += write_shared(PointSet.concat(shared), np.concatenate(shared_levels), cube, out_dir, attrs)
    return nodes
