"""Footprint polygons → closed LOD1 blocks (walls, earcut-triangulated roof and floor, holes kept).

Work is vectorised over all buildings: rings are extracted with shapely's array functions, all
vertices go through the map → ENU transform at once (base and top heights), walls are built for
every ring edge in one pass; only the earcut call runs per polygon. Exterior rings are oriented
counter-clockwise and holes clockwise, so wall triangles face outwards; roof triangles face up and
floor triangles down. Coincident vertices of walls and caps make each block a closed 2-manifold.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import mapbox_earcut
import numpy as np
import shapely
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IndexArray = NDArray[np.integer]
ToEnu = Callable[[FloatArray], FloatArray]


@dataclass(slots=True)
class Blocks:
    """Meshes of ``n`` buildings; per-building slices via the offset arrays (length n + 1)."""

    edge_next: IndexArray  # (V,) end vertex of the wall edge starting at each ring vertex (index into cap_*)
    edge_normals: FloatArray  # (V, 3) unit outward normal of that wall (flat per wall)
    wall_offsets: IndexArray  # edge offsets per building (one edge per ring vertex)
    cap_top: FloatArray  # (V, 3) ENU, ring vertices at roof height
    cap_bottom: FloatArray  # (V, 3) ENU, ring vertices at base height
    vertex_offsets: IndexArray  # ring-vertex offsets per building
    cap_triangles: IndexArray  # (T, 3) roof triangles, indices into cap_top, grouped by building
    cap_offsets: IndexArray  # roof-triangle offsets per building

    def __len__(self) -> int:
        return len(self.vertex_offsets) - 1

    def wall_quads(self, edges: IndexArray) -> tuple[FloatArray, FloatArray]:
        """Positions (bottom i, bottom i+1, top i+1, top i) and normals of the wall quads of ``edges``."""
        nxt = self.edge_next[edges]
        positions = np.stack([self.cap_bottom[edges], self.cap_bottom[nxt], self.cap_top[nxt], self.cap_top[edges]],
                             axis=1).reshape(-1, 3)
        return positions, np.repeat(self.edge_normals[edges], 4, axis=0)

    def walls(self, building: int) -> tuple[FloatArray, FloatArray, IndexArray]:
        """Positions, outward normals and triangles of one building's walls."""
        a, b = self.wall_offsets[building], self.wall_offsets[building + 1]
        quads = np.arange(b - a, dtype=np.int64)[:, None] * 4
        triangles = np.concatenate([quads + np.array([0, 1, 2]), quads + np.array([0, 2, 3])])
        positions, normals = self.wall_quads(np.arange(a, b))
        return positions, normals, triangles

    def caps(self, building: int) -> tuple[FloatArray, FloatArray, IndexArray]:
        """Positions, normals (up for the roof, down for the floor) and triangles of roof and floor."""
        a, b = self.vertex_offsets[building], self.vertex_offsets[building + 1]
        roof = self.cap_triangles[self.cap_offsets[building] : self.cap_offsets[building + 1]] - a
        positions = np.concatenate([self.cap_top[a:b], self.cap_bottom[a:b]])
        normals = np.zeros_like(positions)
        normals[: b - a, 2] = 1.0
        normals[b - a :, 2] = -1.0
        floor = roof[:, ::-1] + (b - a)
        return positions, normals, np.concatenate([roof, floor])

    def triangle_count(self, building: int) -> int:
        edges = self.wall_offsets[building + 1] - self.wall_offsets[building]
        return int(2 * edges + 2 * (self.cap_offsets[building + 1] - self.cap_offsets[building]))


def _convex_single_ring(xy: NDArray[np.float64], ring_starts: NDArray[np.intp], ring_sizes: NDArray[np.intp],
                        rings_of_part: NDArray[np.intp], first_ring: NDArray[np.intp]) -> NDArray[np.bool_]:
    """Parts made of one strictly convex counter-clockwise ring (fan-triangulated without earcut)."""
    size = ring_sizes[first_ring]
    single: NDArray[np.bool_] = rings_of_part == 1  # numpy's stubs type == as Any
    vertex = np.arange(len(xy))
    ring_of_vertex = np.repeat(np.arange(len(ring_sizes)), ring_sizes)
    local = vertex - ring_starts[ring_of_vertex]
    nxt = ring_starts[ring_of_vertex] + (local + 1) % ring_sizes[ring_of_vertex]
    nxt2 = ring_starts[ring_of_vertex] + (local + 2) % ring_sizes[ring_of_vertex]
    d1, d2 = xy[nxt, :2] - xy[vertex, :2], xy[nxt2, :2] - xy[nxt, :2]
    left_turn = (d1[:, 0] * d2[:, 1] - d1[:, 1] * d2[:, 0]) > 0
    ring_convex = np.ones(len(ring_sizes), dtype=np.bool_)
    np.logical_and.at(ring_convex, ring_of_vertex, left_turn)
    return single & (size >= 3) & ring_convex[first_ring]


def _fans(starts: IndexArray, sizes: IndexArray) -> tuple[NDArray[np.int64], IndexArray]:
    """Fan triangles (s, s+i, s+i+1) of convex rings, and the ring (index into ``starts``) of each."""
    counts = np.maximum(sizes - 2, 0)
    total = int(counts.sum())
    ring = np.repeat(np.arange(len(starts)), counts)
    i = np.arange(total) - np.repeat(np.concatenate(([0], np.cumsum(counts)[:-1])), counts) + 1
    s = starts[ring]
    return np.column_stack([s, s + i, s + i + 1]).astype(np.int64).reshape(-1, 3), ring


def _earcut_parts(xy: FloatArray, parts: IndexArray, first_ring: IndexArray, rings_of_part: IndexArray,
                  ring_starts: IndexArray, ring_sizes: IndexArray) -> tuple[NDArray[np.int64], IndexArray]:
    """Earcut triangles (global vertex indices, counter-clockwise) of ``parts``, and the part of each."""
    if len(parts) == 0:
        return np.zeros((0, 3), np.int64), np.zeros(0, np.int64)
    first, last = first_ring[parts], first_ring[parts] + rings_of_part[parts]
    part_v0 = ring_starts[first]
    part_v1 = ring_starts[last - 1] + ring_sizes[last - 1]
    ring_ends = (ring_starts + ring_sizes).astype(np.uint32)
    triangulate = mapbox_earcut.triangulate_float64
    pieces = [triangulate(xy[v0:v1], ring_ends[r0:r1] - np.uint32(v0))
              for v0, v1, r0, r1 in zip(part_v0.tolist(), part_v1.tolist(), first.tolist(), last.tolist(),
                                        strict=True)]
    counts = np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces)) // 3
    triangles = np.concatenate(pieces).reshape(-1, 3).astype(np.int64) + np.repeat(part_v0, counts)[:, None]
    a, b, c = xy[triangles[:, 0]], xy[triangles[:, 1]], xy[triangles[:, 2]]
    clockwise = ((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])) < 0
    triangles[clockwise] = triangles[clockwise][:, ::-1]
    return triangles, np.repeat(parts, counts)


def extrude(geometries: NDArray[np.object_], base: FloatArray, height: FloatArray, to_enu: ToEnu) -> Blocks:
    """``geometries``: valid 2D (Multi)Polygons in map coordinates; base/height in map vertical units."""
    parts, building_of_part = shapely.get_parts(geometries, return_index=True)
    parts = shapely.orient_polygons(parts, exterior_cw=False)
    rings, part_of_ring = shapely.get_rings(parts, return_index=True)
    coords, ring_of_vertex = shapely.get_coordinates(rings, return_index=True)
    ring_sizes = np.bincount(ring_of_vertex, minlength=len(rings))
    ring_starts = np.concatenate(([0], np.cumsum(ring_sizes)[:-1]))
    keep = np.ones(len(coords), dtype=bool)
    keep[ring_starts + ring_sizes - 1] = False  # drop the closing vertex of every ring
    coords, ring_of_vertex = coords[keep], ring_of_vertex[keep]
    ring_sizes = ring_sizes - 1
    ring_starts = np.concatenate(([0], np.cumsum(ring_sizes)[:-1]))
    building_of_vertex = building_of_part[part_of_ring[ring_of_vertex]]

    z_base = base[building_of_vertex]
    bottom = to_enu(np.column_stack([coords, z_base]))
    top = to_enu(np.column_stack([coords, z_base + height[building_of_vertex]]))

    # walls: edge i → i+1 (wrapping inside each ring)
    nxt = np.arange(len(coords)) + 1
    ring_ends = ring_starts + ring_sizes
    wrap = nxt == ring_ends[ring_of_vertex]
    nxt[wrap] = ring_starts[ring_of_vertex[wrap]]
    edge = bottom[nxt] - bottom
    outward = np.zeros_like(edge)
    outward[:, 0], outward[:, 1] = edge[:, 1], -edge[:, 0]
    outward /= np.maximum(np.hypot(outward[:, 0], outward[:, 1]), 1e-12)[:, None]

    n = len(geometries)
    vertex_offsets = np.searchsorted(building_of_vertex, np.arange(n + 1))
    rings_of_part = np.bincount(part_of_ring, minlength=len(parts))
    first_ring = np.concatenate(([0], np.cumsum(rings_of_part)[:-1]))
    convex = _convex_single_ring(bottom, ring_starts, ring_sizes, rings_of_part, first_ring)
    fan_parts = np.flatnonzero(convex)
    fan_tris, fan_ring = _fans(ring_starts[first_ring[fan_parts]], ring_sizes[first_ring[fan_parts]])
    earcut_tris, earcut_parts = _earcut_parts(bottom[:, :2], np.flatnonzero(~convex), first_ring, rings_of_part,
                                              ring_starts, ring_sizes)
    part_of_triangle = np.concatenate([fan_parts[fan_ring], earcut_parts])
    order = np.argsort(part_of_triangle, kind="stable")  # group by part, hence by building
    caps = np.concatenate([fan_tris, earcut_tris])[order]
    per_building = np.bincount(building_of_part[part_of_triangle], minlength=n)
    cap_offsets = np.concatenate(([0], np.cumsum(per_building))).astype(np.int64)
    return Blocks(nxt, outward, vertex_offsets.copy(), top, bottom, vertex_offsets, caps, cap_offsets)
