"""Turning points into octree node contents (glb files) — in memory, or one spatial bucket at a time.

A *bucket* is the part of the cloud inside one octree node at ``depth``; it is stored on disk as
packed records (float32 positions relative to the bucket's corner, raw attributes). A bucket holding
more points than the memory budget allows is split into its eight children first. Nodes at or
below a bucket's depth lie inside it and are written directly; points of nodes above it (shared
with other buckets) are returned to the caller, which writes those nodes at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from converters.pointcloud.octree import BITS, Cube, assign_levels, group_nodes
from tiles.points import write_points_glb

RECORD = np.dtype([("x", "<f4"), ("y", "<f4"), ("z", "<f4"), ("rgb", "<u2", (3,)), ("intensity", "<u2"),
                   ("classification", "u1")])
CONTENT_DIR = "points"


@dataclass(slots=True)
class Attributes:
    has_rgb: bool
    has_intensity: bool
    has_classification: bool
    rgb_shift: int = 0  # 8 when colours use the 16-bit range


@dataclass(slots=True)
class PointSet:
    """Points in local ENU metres with raw attributes (rgb uint16, intensity uint16, class uint8)."""

    enu: NDArray[np.float64]  # (n, 3)
    rgb: NDArray[np.uint16]  # (n, 3)
    intensity: NDArray[np.uint16]
    classification: NDArray[np.uint8]

    def __len__(self) -> int:
        return len(self.enu)

    def take(self, index: NDArray[np.integer] | NDArray[np.bool_]) -> PointSet:
        return PointSet(self.enu[index], self.rgb[index], self.intensity[index], self.classification[index])

    @staticmethod
    def concat(parts: list[PointSet]) -> PointSet:
        if not parts:
            return PointSet(np.zeros((0, 3)), np.zeros((0, 3), np.uint16), np.zeros(0, np.uint16),
                            np.zeros(0, np.uint8))
        return PointSet(*(np.concatenate([getattr(p, name) for p in parts])
                          for name in ("enu", "rgb", "intensity", "classification")))


@dataclass(slots=True)
class NodeInfo:
    level: int
    key: int
    count: int
    lo: NDArray[np.float64]  # tight bounds of the content (ENU)
    hi: NDArray[np.float64]
    uri: str


def node_uri(level: int, key: int) -> str:
    return f"{CONTENT_DIR}/{level}-{key:x}.glb"


def write_node(out_dir: Path, level: int, key: int, points: PointSet, attrs: Attributes) -> NodeInfo:
    colors = None
    if attrs.has_rgb:
        colors = (points.rgb >> attrs.rgb_shift).astype(np.uint8) if attrs.rgb_shift else \
            np.minimum(points.rgb, 255).astype(np.uint8)
    properties: dict[str, NDArray[np.integer]] = {}
    if attrs.has_intensity:
        properties["intensity"] = points.intensity
    if attrs.has_classification:
        properties["classification"] = points.classification
    uri = node_uri(level, key)
    content = write_points_glb(points.enu, colors=colors, properties=properties or None, path=out_dir / uri)
    lo, hi = content.box.bounds()
    return NodeInfo(level, key, len(points), points.enu.min(axis=0), points.enu.max(axis=0), uri) if len(
        points) else NodeInfo(level, key, 0, lo, hi, uri)


def build_nodes(points: PointSet, cube: Cube, depth: int, out_dir: Path,
                attrs: Attributes) -> tuple[list[NodeInfo], PointSet, NDArray[np.uint8]]:
    """Write every node at level >= ``depth``; return them and the points (and levels) of the others."""
    codes = cube.codes(points.enu)
    order = np.argsort(codes)
    codes = codes[order]
    levels = assign_levels(codes, min_leaf_level=depth)
    written: list[NodeInfo] = []
    shared_index: list[NDArray[np.intp]] = []
    for level, key, index in group_nodes(codes, levels):
        if level < depth:
            shared_index.append(index)
        else:
            written.append(write_node(out_dir, level, key, points.take(order[index]), attrs))
    keep = np.concatenate(shared_index) if shared_index else np.zeros(0, dtype=np.int64)
    return written, points.take(order[keep]), levels[keep]


def write_shared(shared: PointSet, levels: NDArray[np.uint8], cube: Cube, out_dir: Path,
                 attrs: Attributes) -> list[NodeInfo]:
    """Write the nodes whose points came back from several buckets."""
    if len(shared) == 0:
        return []
    codes = cube.codes(shared.enu)
    keys = codes >> (np.uint64(3) * (np.uint64(BITS) - levels.astype(np.uint64)))
    order = np.lexsort((keys, levels))
    levels_sorted, keys_sorted = levels[order], keys[order]
    change = np.flatnonzero((levels_sorted[1:] != levels_sorted[:-1]) | (keys_sorted[1:] != keys_sorted[:-1])) + 1
    starts = np.concatenate(([0], change))
    ends = np.append(starts[1:], len(order))
    return [write_node(out_dir, int(levels_sorted[s]), int(keys_sorted[s]), shared.take(order[s:e]), attrs)
            for s, e in zip(starts, ends, strict=True)]


def to_records(points: PointSet, corner: NDArray[np.float64]) -> NDArray[np.void]:
    records = np.empty(len(points), dtype=RECORD)
    relative = points.enu - corner
    records["x"], records["y"], records["z"] = relative[:, 0], relative[:, 1], relative[:, 2]
    records["rgb"] = points.rgb
    records["intensity"] = points.intensity
    records["classification"] = points.classification
    return records


def from_records(records: NDArray[np.void], corner: NDArray[np.float64]) -> PointSet:
    enu = np.empty((len(records), 3), dtype=np.float64)
    enu[:, 0] = records["x"]
    enu[:, 1] = records["y"]
    enu[:, 2] = records["z"]
    enu += corner
    return PointSet(enu, np.asarray(records["rgb"]), np.asarray(records["intensity"]),
                    np.asarray(records["classification"]))


def bucket_path(spill_dir: Path, depth: int, key: int) -> Path:
    return spill_dir / f"{depth}-{key:x}.bin"


def process_bucket(path: Path, depth: int, key: int, cube: Cube, out_dir: Path, attrs: Attributes,
                   max_points: int) -> tuple[list[NodeInfo], PointSet, NDArray[np.uint8]]:
    """Convert one bucket file (splitting it into children first when it is too large)."""
    count = path.stat().st_size // RECORD.itemsize
    corner, _ = cube.node_bounds(depth, key)
    if count <= max_points or depth >= BITS - 8:
        points = from_records(np.fromfile(path, dtype=RECORD), corner)
        path.unlink()
        return build_nodes(points, cube, depth, out_dir, attrs)
    children: set[int] = set()
    records = np.memmap(path, dtype=RECORD, mode="r")
    step = max(1, max_points // 2)
    for start in range(0, count, step):
        part = from_records(np.asarray(records[start : start + step]), corner)
        child_keys = cube.codes(part.enu) >> np.uint64(3 * (BITS - depth - 1))
        for child in np.unique(child_keys):
            child_corner, _ = cube.node_bounds(depth + 1, int(child))
            with bucket_path(path.parent, depth + 1, int(child)).open("ab") as handle:
                to_records(part.take(np.flatnonzero(child_keys == child)), child_corner).tofile(handle)
            children.add(int(child))
    del records
    path.unlink()
    written: list[NodeInfo] = []
    shared_parts: list[PointSet] = []
    shared_levels: list[NDArray[np.uint8]] = []
    for child in sorted(children):
        nodes, shared, levels = process_bucket(bucket_path(path.parent, depth + 1, child), depth + 1, child,
                                               cube, out_dir, attrs, max_points)
        written += nodes
        shared_parts.append(shared)
        shared_levels.append(levels)
    shared_all = PointSet.concat(shared_parts)
    levels_all = np.concatenate(shared_levels) if shared_levels else np.zeros(0, np.uint8)
    own = levels_all >= depth  # nodes inside this bucket, gathered from its children
    written += write_shared(shared_all.take(np.flatnonzero(own)), levels_all[own], cube, out_dir, attrs)
    rest = np.flatnonzero(~own)
    return written, shared_all.take(rest), levels_all[rest]
