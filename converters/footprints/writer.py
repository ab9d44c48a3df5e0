"""Writing buildings as a quadtree of tiles (one feature per building, refine ADD).

Shared by extruded footprints (vectorised contents, :mod:`.blocks_glb`) and CityJSON (per-building
pieces through ``tiles.mesh``): the caller gives per-building bounds and triangle counts and a
function writing one tile's content for a set of building indices.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from converters.footprints.quadtree import QuadNode, build_quadtree
from converters.georef import LocalFrame
from tiles.mesh import Material, MeshPart, write_mesh_glb
from tiles.tileset import BoundingVolume, Content, Tile, Tileset

MAX_TILE_TRIANGLES = 60_000
PARENT_TRIANGLES = 15_000
CONTENT_DIR = "blocks"

# positions, normals or None, triangles, material
Piece = tuple[NDArray[np.float64], NDArray[np.float64] | None, NDArray[np.integer], int]
# box, bytes, triangles (and optionally the footprint area of those buildings, summed in the result)
ContentResult = tuple[BoundingVolume, int, int] | tuple[BoundingVolume, int, int, float]
# keys, path → ContentResult
WriteContent = Callable[[NDArray[np.integer], Path], ContentResult]


@dataclass(slots=True)
class WriteResult:
    tileset_bytes: int
    content_bytes: int
    tiles: int
    triangles: int
    max_features_per_tile: int
    area: float = 0.0  # sum of the areas the content writer reported (0 when it reports none)
    split_by_count: int = 0  # nodes whose buildings shared one place and were shared out by weight


@dataclass(slots=True)
class _Totals:
    """Running totals of :func:`write_buildings`."""

    tiles: int = 0
    bytes: int = 0
    triangles: int = 0
    max_features: int = 0
    written: int = 0  # buildings written so far (progress)
    area: float = 0.0
    split_by_count: int = 0


def pieces_writer(pieces_of: Callable[[int], list[Piece]], materials: Sequence[Material],
                  columns: Mapping[str, Sequence[Any]], compress: bool) -> WriteContent:
    """A content writer from per-building pieces (small inputs such as CityJSON)."""

    def write(keys: NDArray[np.integer], path: Path) -> tuple[BoundingVolume, int, int]:
        parts = [MeshPart(positions, normals, triangles, material, row)
                 for row, building in enumerate(keys.tolist())
                 for positions, normals, triangles, material in pieces_of(building)]
        table = {column: [values[k] for k in keys.tolist()] for column, values in columns.items()}
        content = write_mesh_glb(parts, materials, table, path=path, compress=compress, class_name="building")
        return content.box, len(content.data), content.triangle_count

    return write


_WRITER: dict[str, WriteContent] = {}


def _write_job(keys: NDArray[np.integer], path: Path) -> ContentResult:
    return _WRITER["write"](keys, path)


def _write_all(jobs: list[tuple[str, NDArray[np.integer], Path]], write_content: WriteContent, workers: int,
               progress: Callable[[int], None]) -> dict[str, ContentResult]:
    """Write every tile content; with several workers, in forked processes (they inherit the data)."""
    results: dict[str, ContentResult] = {}
    if workers <= 1 or len(jobs) < 2:
        for name, keys, path in jobs:
            results[name] = write_content(keys, path)
            progress(len(keys))
        return results
    _WRITER["write"] = write_content
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = {pool.submit(_write_job, keys, path): (name, len(keys)) for name, keys, path in jobs}
            for future in as_completed(futures):
                name, count = futures[future]
                results[name] = future.result()
                progress(count)
    finally:
        _WRITER.clear()
    return results


def write_buildings(out_dir: Path, frame: LocalFrame, write_content: WriteContent, lo: NDArray[np.float64],
                    hi: NDArray[np.float64], weights: NDArray[np.integer], extras: dict[str, Any],
                    progress: Callable[[float], None] | None = None, workers: int = 1) -> WriteResult:
    """``lo``/``hi``: (n, 3) per-building ENU bounds; ``weights``: triangles per building."""
    root = build_quadtree(lo, hi, weights, MAX_TILE_TRIANGLES, PARENT_TRIANGLES)
    (out_dir / CONTENT_DIR).mkdir(parents=True, exist_ok=True)
    stats = _Totals()
    total = len(weights)
    jobs: list[tuple[str, NDArray[np.integer], Path]] = []

    def collect(node: QuadNode, name: str) -> None:
        if len(node.keys):
            jobs.append((name, np.sort(node.keys), out_dir / CONTENT_DIR / f"{name}.glb"))
        for i, child in enumerate(node.children):
            collect(child, f"{name}{i}")

    def advance(count: int) -> None:
        stats.written += count
        if progress is not None:
            progress(stats.written / max(total, 1))

    collect(root, "q")
    jobs.sort(key=lambda job: -len(job[1]))  # largest first: the workers finish at about the same time
    written = _write_all(jobs, write_content, workers, advance)

    def to_tile(node: QuadNode, name: str) -> Tile:
        content = None
        if name in written:
            box, size, triangles, *area = written[name]
            stats.area += sum(area)
            content = Content(f"{CONTENT_DIR}/{name}.glb", box)
            stats.tiles += 1
            stats.bytes += size
            stats.triangles += triangles
            stats.max_features = max(stats.max_features, len(node.keys))
        stats.split_by_count += node.split_by_count
        children = [to_tile(child, f"{name}{i}") for i, child in enumerate(node.children)]
        t_lo, t_hi = node.lo, node.hi
        volumes = [c.bounding_volume for c in children]
        if content is not None and content.bounding_volume is not None:
            volumes.append(content.bounding_volume)
        for volume in volumes:
            v_lo, v_hi = volume.bounds()
            t_lo, t_hi = np.minimum(t_lo, v_lo), np.maximum(t_hi, v_hi)
        return Tile(BoundingVolume.from_bounds(t_lo, t_hi), node.geometric_error, content, children)

    root_tile = to_tile(root, "q")
    root_tile.refine = "ADD"
    root_tile.transform = frame.tileset_transform()
    t_lo, t_hi = root_tile.bounding_volume.bounds()
    tileset = Tileset(root=root_tile, geometric_error=max(float(np.linalg.norm(t_hi - t_lo)), root.geometric_error),
                      extras=extras)
    tileset_bytes = tileset.write(out_dir / "tileset.json")
    return WriteResult(
        tileset_bytes, stats.bytes, stats.tiles, stats.triangles, stats.max_features, abs(stats.area),
        stats.split_by_count,
    )
