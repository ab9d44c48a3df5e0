"""Writing buildings as a quadtree of tiles (one feature per building, refine ADD).

Shared by extruded footprints (vectorised contents, :mod:`.blocks_glb`) and CityJSON (per-building
pieces through ``tiles.mesh``): the caller gives per-building bounds and triangle counts and a
function writing one tile's content for a set of building indices.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from converters.footprints.quadtree import QuadNode, build_quadtree
from converters.georef import LocalFrame
from tiles.mesh import Material, MeshPart, write_mesh_glb
from tiles.tileset import BoundingVolume, Content, Tile, Tileset

MAX_TILE_TRIANGLES = 60_000
PARENT_TRIANGLES = 15_000
CONTENT_DIR = "blocks"

Piece = tuple[np.ndarray, np.ndarray | None, np.ndarray, int]  # positions, normals or None, triangles, material
WriteContent = Callable[[np.ndarray, Path], tuple[BoundingVolume, int, int]]  # keys, path → box, bytes, triangles


@dataclass(slots=True)
class WriteResult:
    tileset_bytes: int
    content_bytes: int
    tiles: int
    triangles: int
    max_features_per_tile: int


def pieces_writer(pieces_of: Callable[[int], list[Piece]], materials: Sequence[Material],
                  columns: dict[str, Sequence[Any]], compress: bool) -> WriteContent:
    """A content writer from per-building pieces (small inputs such as CityJSON)."""

    def write(keys: np.ndarray, path: Path) -> tuple[BoundingVolume, int, int]:
        parts = [MeshPart(positions, normals, triangles, material, row)
                 for row, building in enumerate(keys.tolist())
                 for positions, normals, triangles, material in pieces_of(building)]
        table = {column: [values[k] for k in keys.tolist()] for column, values in columns.items()}
        content = write_mesh_glb(parts, materials, table, path=path, compress=compress, class_name="building")
        return content.box, len(content.data), content.triangle_count

    return write


def write_buildings(out_dir: Path, frame: LocalFrame, write_content: WriteContent, lo: np.ndarray,
                    hi: np.ndarray, weights: np.ndarray, extras: dict[str, Any],
                    progress: Callable[[float], None] | None = None) -> WriteResult:
    """``lo``/``hi``: (n, 3) per-building ENU bounds; ``weights``: triangles per building."""
    root = build_quadtree(lo, hi, weights, MAX_TILE_TRIANGLES, PARENT_TRIANGLES)
    (out_dir / CONTENT_DIR).mkdir(parents=True, exist_ok=True)
    stats = {"tiles": 0, "bytes": 0, "triangles": 0, "max_features": 0, "written": 0}
    total = len(weights)

    def to_tile(node: QuadNode, name: str) -> Tile:
        content = None
        if len(node.keys):
            uri = f"{CONTENT_DIR}/{name}.glb"
            box, size, triangles = write_content(np.sort(node.keys), out_dir / uri)
            content = Content(uri, box)
            stats["tiles"] += 1
            stats["bytes"] += size
            stats["triangles"] += triangles
            stats["max_features"] = max(stats["max_features"], len(node.keys))
            stats["written"] += len(node.keys)
            if progress is not None:
                progress(stats["written"] / max(total, 1))
        children = [to_tile(child, f"{name}{i}") for i, child in enumerate(node.children)]
        t_lo, t_hi = node.lo, node.hi
        for volume in [c.bounding_volume for c in children] + ([content.bounding_volume] if content else []):
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
    return WriteResult(tileset_bytes, stats["bytes"], stats["tiles"], stats["triangles"], stats["max_features"])
