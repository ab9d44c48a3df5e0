"""Writing building meshes as a bounded tile hierarchy (one feature per building, refine ADD).

Shared by the extruded footprints and CityJSON: a building is a list of (positions, triangles,
material) pieces in local ENU metres plus one property-table row. ``tiles.hierarchy`` keeps the
largest buildings in coarse parent tiles (what a viewer shows from afar) and splits the rest
spatially until every tile holds at most ``MAX_TILE_TRIANGLES`` triangles.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from converters.georef import LocalFrame
from tiles.hierarchy import HierarchyNode, Item, build_hierarchy, to_tiles
from tiles.mesh import Material, MeshPart, write_mesh_glb
from tiles.tileset import BoundingVolume, Tileset

MAX_TILE_TRIANGLES = 60_000
PARENT_TRIANGLES = 15_000
CONTENT_DIR = "blocks"

Piece = tuple[np.ndarray, np.ndarray | None, np.ndarray, int]  # positions, normals or None, triangles, material
PiecesOf = Callable[[int], list[Piece]]


@dataclass(slots=True)
class WriteResult:
    tileset_bytes: int
    content_bytes: int
    tiles: int
    triangles: int
    max_features_per_tile: int


def write_buildings(out_dir: Path, frame: LocalFrame, pieces_of: PiecesOf, bounds: np.ndarray,
                    weights: np.ndarray, columns: dict[str, Sequence[Any]], materials: list[Material],
                    compress: bool, extras: dict[str, Any], class_name: str = "building",
                    progress: Callable[[float], None] | None = None) -> WriteResult:
    """``bounds``: (n, 2, 3) per-building ENU min/max; ``columns``: one value list per attribute."""
    items = [Item(i, bounds[i, 0], bounds[i, 1], int(weights[i])) for i in range(len(weights))]
    root = build_hierarchy(items, max_weight=MAX_TILE_TRIANGLES, parent_weight=PARENT_TRIANGLES)
    (out_dir / CONTENT_DIR).mkdir(parents=True, exist_ok=True)
    stats = {"tiles": 0, "bytes": 0, "triangles": 0, "max_features": 0, "written": 0}
    total = len(items)

    def write_content(node: HierarchyNode, name: str) -> BoundingVolume | None:
        parts: list[MeshPart] = []
        for row, building in enumerate(node.keys):
            for positions, normals, triangles, material in pieces_of(building):
                parts.append(MeshPart(positions, normals, triangles, material, row))
        if not parts:
            return None
        table = {column: [values[k] for k in node.keys] for column, values in columns.items()}
        content = write_mesh_glb(parts, materials, table, path=out_dir / f"{name}.glb",
                                 compress=compress, class_name=class_name)
        stats["tiles"] += 1
        stats["bytes"] += len(content.data)
        stats["triangles"] += content.triangle_count
        stats["max_features"] = max(stats["max_features"], len(node.keys))
        stats["written"] += len(node.keys)
        if progress is not None:
            progress(stats["written"] / max(total, 1))
        return content.box

    root_tile = to_tiles(root, write_content, name=f"{CONTENT_DIR}/t")
    root_tile.transform = frame.tileset_transform()
    lo, hi = root_tile.bounding_volume.bounds()
    tileset = Tileset(root=root_tile, geometric_error=max(float(np.linalg.norm(hi - lo)), root.geometric_error),
                      extras=extras)
    tileset_bytes = tileset.write(out_dir / "tileset.json")
    return WriteResult(tileset_bytes, stats["bytes"], stats["tiles"], stats["triangles"], stats["max_features"])
