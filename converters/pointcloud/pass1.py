"""Pass 1 of an out-of-core conversion in parallel: every worker process reads one range of points,
transforms it to local ENU, and spills it into its own spatial bucket files.

Workers are forked, so they inherit the transform and octree cube from :data:`_STATE` (the fitted
transform holds pyproj objects that do not pickle). A shared counter feeds the caller's progress
reports; a shared flag stops the workers when the conversion is cancelled.
"""

from __future__ import annotations

import multiprocessing
import shutil
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from converters.errors import ConversionCancelled
from converters.pointcloud.las_source import LasInfo, PointChunk, iter_chunks
from converters.pointcloud.nodes import PointSet, bucket_path, to_records
from converters.pointcloud.octree import BITS, Cube
from converters.pointcloud.outline import Occupancy
from converters.pointcloud.placement import ToEnu

_STATE: dict[str, Any] = {}


@dataclass(slots=True)
class Pass1Result:
    read: int
    rgb_max: int
    grid: NDArray[np.bool_]
    z_sum: float
    buckets: set[int]


def point_set(chunk: PointChunk, enu: NDArray[np.float64]) -> PointSet:
    n = len(enu)
    return PointSet(
        enu,
        chunk.rgb if chunk.rgb is not None else np.zeros((n, 3), np.uint16),
        chunk.intensity if chunk.intensity is not None else np.zeros(n, np.uint16),
        chunk.classification if chunk.classification is not None else np.zeros(n, np.uint8),
    )


def spill(points: PointSet, cube: Cube, depth: int, spill_dir: Path, suffix: str = "") -> set[int]:
    """Append ``points`` to the bucket files of their depth-``depth`` octree nodes."""
    keys = cube.codes(points.enu) >> np.uint64(3 * (BITS - depth))
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    starts = np.concatenate(([0], np.flatnonzero(keys[1:] != keys[:-1]) + 1))
    ends = np.append(starts[1:], len(keys))
    touched: set[int] = set()
    for start, end in zip(starts, ends, strict=True):
        key = int(keys[start])
        corner, _ = cube.node_bounds(depth, key)
        path = bucket_path(spill_dir, depth, key).with_suffix(f"{suffix}.bin")
        with path.open("ab") as handle:
            to_records(points.take(order[start:end]), corner).tofile(handle)
        touched.add(key)
    return touched


def _read_range(worker: int, start: int, stop: int) -> Pass1Result:
    state = _STATE
    info: LasInfo = state["info"]
    cube: Cube = state["cube"]
    occupancy = Occupancy(cube)
    result = Pass1Result(0, 0, occupancy.grid, 0.0, set())
    for chunk in iter_chunks(info, state["chunk_points"], start, stop, parallel=False):
        if state["stop"].value:
            raise ConversionCancelled()
        enu = state["transform"](chunk.xyz)
        occupancy.add(enu)
        if chunk.rgb is not None and len(chunk.rgb):
            result.rgb_max = max(result.rgb_max, int(chunk.rgb.max()))
        result.buckets |= spill(point_set(chunk, enu), cube, state["depth"], state["spill_dir"], f".w{worker}")
        result.read += len(enu)
        with state["counter"].get_lock():
            state["counter"].value += len(enu)
    result.z_sum = occupancy.z_sum
    return result


def parallel_pass1(info: LasInfo, transform: ToEnu, cube: Cube, depth: int, spill_dir: Path, chunk_points: int,
                   jobs: int, progress: Callable[[int], None]) -> Pass1Result:
    """Read, transform and spill the whole file with ``jobs`` processes; merge their bucket files."""
    context = multiprocessing.get_context("fork")
    counter = context.Value("q", 0)
    stop_flag = context.Value("b", 0)
    _STATE.update(info=info, transform=transform, cube=cube, depth=depth, spill_dir=spill_dir,
                  chunk_points=chunk_points, counter=counter, stop=stop_flag)
    bounds = np.linspace(0, info.point_count, jobs + 1).astype(np.int64)
    total = Pass1Result(0, 0, np.zeros_like(Occupancy(cube).grid), 0.0, set())
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            pending = {pool.submit(_read_range, i, int(bounds[i]), int(bounds[i + 1])) for i in range(jobs)
                       if bounds[i + 1] > bounds[i]}
            try:
                while pending:
                    finished, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                    for future in finished:
                        part = future.result()
                        total.read += part.read
                        total.rgb_max = max(total.rgb_max, part.rgb_max)
                        total.grid |= part.grid
                        total.z_sum += part.z_sum
                        total.buckets |= part.buckets
                    progress(counter.value)
            except BaseException:
                stop_flag.value = 1
                for future in pending:
                    future.cancel()
                raise
    finally:
        _STATE.clear()
    for key in total.buckets:
        base = bucket_path(spill_dir, depth, key)
        parts = sorted(spill_dir.glob(f"{base.stem}.w*.bin"))
        parts[0].rename(base)
        if len(parts) > 1:
            with base.open("ab") as handle:
                for spill in parts[1:]:
                    with spill.open("rb") as source:
                        shutil.copyfileobj(source, handle, 16 << 20)
                    spill.unlink()
    return total
