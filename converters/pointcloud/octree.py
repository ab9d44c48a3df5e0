"""Octree levels of detail by spatial subsampling, vectorised over Morton-sorted points.

The root cube (edge ``size``) is addressed by 21-bit integer coordinates per axis, interleaved into
63-bit Morton codes. A node at level ``l`` is a code prefix of ``3·l`` bits. Each node keeps one
point per cell of a ``2^GRID_BITS``-per-axis grid over its cube (a pseudo-random one, which avoids
grid artefacts); the rest go down to its children (refine ``ADD``). A node whose remaining points
are at most ``leaf_max`` keeps them all and has no children. For flat data only the bottom half of
each cube is occupied, so the tree degenerates into a quadtree by itself.

Points are sorted by code once; every level is then a few linear passes (no per-level sort).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

BITS = 21
GRID_BITS = 7
LEAF_MAX = 60_000
MAX_LEVEL = BITS - GRID_BITS


def morton_codes(q: NDArray[np.integer]) -> NDArray[np.uint64]:
    """(3, n) integer cell coordinates in [0, 2^21) → (n,) uint64 Morton codes (x lowest bit)."""
    out = np.zeros(q.shape[1], dtype=np.uint64)
    for axis in range(3):
        v = q[axis].astype(np.uint64)
        v = (v | (v << np.uint64(32))) & np.uint64(0x1F00000000FFFF)
        v = (v | (v << np.uint64(16))) & np.uint64(0x1F0000FF0000FF)
        v = (v | (v << np.uint64(8))) & np.uint64(0x100F00F00F00F00F)
        v = (v | (v << np.uint64(4))) & np.uint64(0x10C30C30C30C30C3)
        v = (v | (v << np.uint64(2))) & np.uint64(0x1249249249249249)
        out |= v << np.uint64(axis)
    return out


@dataclass(frozen=True, slots=True)
class Cube:
    """The root cube of the octree in local ENU metres."""

    origin: NDArray[np.float64]  # (3,) minimum corner
    size: float

    def cell_coords(self, enu: NDArray[np.floating]) -> NDArray[np.uint32]:
        """(n, 3) ENU → (3, n) uint32 cell coordinates at the finest level (clamped into the cube)."""
        scale = (1 << BITS) / self.size
        q = np.empty((3, len(enu)), dtype=np.uint32)
        for axis in range(3):
            column = (enu[:, axis] - self.origin[axis]) * scale
            np.clip(column, 0.0, float((1 << BITS) - 1), out=column)
            q[axis] = column
        return q

    def codes(self, enu: NDArray[np.floating]) -> NDArray[np.uint64]:
        return morton_codes(self.cell_coords(enu))

    def node_bounds(self, level: int, key: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The cube of node ``key`` at ``level`` (min, max corners)."""
        ix = iy = iz = 0
        for bit in range(level):
            triple = (key >> (3 * bit)) & 7
            ix |= (triple & 1) << bit
            iy |= ((triple >> 1) & 1) << bit
            iz |= ((triple >> 2) & 1) << bit
        edge = self.size / (1 << level)
        lo = self.origin + edge * np.array([ix, iy, iz], dtype=np.float64)
        return lo, lo + edge

    def spacing(self, level: int) -> float:
        """Grid cell edge of a node at ``level``: the point spacing its subsample guarantees."""
        return self.size / (1 << (level + GRID_BITS))


def _hash(values: NDArray[np.integer]) -> NDArray[np.uint64]:
    """A cheap deterministic pseudo-random uint64 per value (splitmix-style)."""
    x = values.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    x ^= x >> np.uint64(31)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    return x ^ (x >> np.uint64(29))


def _run_starts(keys: NDArray[np.integer]) -> NDArray[np.intp]:
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    change = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    return np.concatenate(([0], change))


def assign_levels(codes: NDArray[np.uint64], leaf_max: int = LEAF_MAX, min_leaf_level: int = 0) -> NDArray[np.uint8]:
    """Level of every point (``codes`` sorted ascending); nodes above ``min_leaf_level`` never keep all.

    ``min_leaf_level`` > 0 is used when the points are one spatial bucket of a larger cloud: nodes
    above the bucket's level also hold points of other buckets, so their totals are unknown here.
    """
    n = len(codes)
    level = np.empty(n, dtype=np.uint8)
    remaining = np.arange(n, dtype=np.int64)
    rest_codes = codes
    for lvl in range(MAX_LEVEL + 1):
        if len(remaining) == 0:
            break
        node = rest_codes >> np.uint64(3 * (BITS - lvl))
        starts = _run_starts(node)
        counts = np.diff(np.append(starts, len(node)))
        if lvl == MAX_LEVEL:
            level[remaining] = lvl
            break
        leaf_points = None
        if lvl >= min_leaf_level:
            leaf_nodes = counts <= leaf_max
            if leaf_nodes.any():
                leaf_points = np.repeat(leaf_nodes, counts)
                level[remaining[leaf_points]] = lvl
                remaining = remaining[~leaf_points]
                rest_codes = rest_codes[~leaf_points]
        cell = rest_codes >> np.uint64(3 * (BITS - lvl - GRID_BITS))
        starts = _run_starts(cell)
        if len(starts) == 0:
            break
        lengths = np.diff(np.append(starts, len(cell)))
        pick = starts + (_hash(remaining[starts]) % lengths.astype(np.uint64)).astype(np.int64)
        level[remaining[pick]] = lvl
        keep = np.ones(len(remaining), dtype=bool)
        keep[pick] = False
        remaining = remaining[keep]
        rest_codes = rest_codes[keep]
    return level


def group_nodes(codes: NDArray[np.uint64], level: NDArray[np.uint8]) -> list[tuple[int, int, NDArray[np.intp]]]:
    """``(level, key, indices)`` of every non-empty node; indices into the (sorted) point arrays."""
    order = np.argsort(level, kind="stable")
    sorted_levels = level[order]
    level_starts = _run_starts(sorted_levels)
    bounds = np.append(level_starts, len(order))
    nodes: list[tuple[int, int, NDArray[np.intp]]] = []
    for i, start in enumerate(level_starts):
        lvl = int(sorted_levels[start])
        idx = order[start : bounds[i + 1]]  # ascending codes within a level (stable sort)
        keys = codes[idx] >> np.uint64(3 * (BITS - lvl))
        key_starts = _run_starts(keys)
        key_bounds = np.append(key_starts, len(keys))
        for j, ks in enumerate(key_starts):
            nodes.append((lvl, int(keys[ks]), idx[ks : key_bounds[j + 1]]))
    return nodes
