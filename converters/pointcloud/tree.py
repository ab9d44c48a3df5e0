"""The point-cloud tileset: octree nodes → explicit 3D Tiles hierarchy (refine ADD).

Geometric error of a node with children = the diagonal of its subsampling grid cell (every original
point lies within that distance of a kept point); leaves have 0. Tile volumes are tight boxes around
the node's subtree points (so a flat cloud gets flat boxes), content volumes tight around its own.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from converters.pointcloud.nodes import NodeInfo
from converters.pointcloud.octree import Cube
from tiles.tileset import BoundingVolume, Content, Tile, Tileset

TILE_PAD_M = 0.01


def build_tileset(nodes: list[NodeInfo], cube: Cube, transform: list[float], extras: dict[str, Any]) -> Tileset:
    by_key = {(n.level, n.key): n for n in nodes}
    children: dict[tuple[int, int], list[tuple[int, int]]] = {}
    lo = {k: n.lo.copy() for k, n in by_key.items()}
    hi = {k: n.hi.copy() for k, n in by_key.items()}
    for level, key in sorted(by_key, reverse=True):  # deepest first: grow parents' subtree bounds
        if level == 0:
            continue
        parent = (level - 1, key >> 3)
        if parent not in by_key:
            raise RuntimeError(f"octree node {level}-{key:x} has no parent")  # a bug, not bad input
        children.setdefault(parent, []).append((level, key))
        lo[parent] = np.minimum(lo[parent], lo[(level, key)])
        hi[parent] = np.maximum(hi[parent], hi[(level, key)])

    def tile(node_key: tuple[int, int]) -> Tile:
        node = by_key[node_key]
        kids = sorted(children.get(node_key, []))
        error = math.sqrt(3) * cube.spacing(node.level) if kids else 0.0
        return Tile(
            bounding_volume=BoundingVolume.from_bounds(lo[node_key], hi[node_key], pad=TILE_PAD_M),
            geometric_error=error,
            content=Content(node.uri, BoundingVolume.from_bounds(node.lo, node.hi)),
            children=[tile(k) for k in kids],
        )

    if (0, 0) not in by_key:
        raise RuntimeError("octree without a root node")
    root = tile((0, 0))
    root.refine = "ADD"
    root.transform = transform
    diagonal = float(np.linalg.norm(hi[(0, 0)] - lo[(0, 0)]))
    return Tileset(root=root, geometric_error=max(diagonal, root.geometric_error), extras=extras)
