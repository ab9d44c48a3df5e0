"""One tile of extruded blocks as a glb, gathered with array operations (no per-building Python work).

Same encoding as ``tiles.mesh``: ``_FEATURE_ID_0`` per vertex declared by ``EXT_mesh_features``, one
``EXT_structural_metadata`` property table row per building; walls and roofs/floors as two
primitives with their own material; float32 positions relative to the tile centre, glTF y-up.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from converters.footprints.extrude import Blocks
from tiles.glb import TRIANGLES, GlbBuilder
from tiles.mesh import Material
from tiles.metadata import MESH_FEATURES, StructuralMetadata, feature_id_attribute, mesh_features
from tiles.tileset import BoundingVolume


def _ranges(starts: NDArray[np.integer], counts: NDArray[np.integer]) -> NDArray[np.int64]:
    """Concatenation of ``arange(s, s + c)`` for every (s, c)."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.concatenate(([0], np.cumsum(counts)[:-1]))
    return np.arange(total, dtype=np.int64) + np.repeat(starts - offsets, counts)


def _yup(enu: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.stack([enu[:, 0], enu[:, 2], -enu[:, 1]], axis=-1)


def gather(blocks: Blocks, keys: NDArray[np.integer]) -> list[tuple[NDArray[np.float64], NDArray[np.float64],
                                                                    NDArray[np.integer], NDArray[np.integer]]]:
    """(positions, normals, triangles, feature row) for walls and for roofs+floors of ``keys``."""
    vs, ve = blocks.vertex_offsets[keys], blocks.vertex_offsets[keys + 1]
    counts = ve - vs
    rows = np.arange(len(keys))
    edges = _ranges(vs, counts)
    wall_positions, wall_normals = blocks.wall_quads(edges)
    quads = np.arange(len(edges), dtype=np.int64)[:, None] * 4
    walls = (wall_positions, wall_normals, np.concatenate([quads + np.array([0, 1, 2]), quads + np.array([0, 2, 3])]),
             np.repeat(rows, 4 * counts))
    ts, te = blocks.cap_offsets[keys], blocks.cap_offsets[keys + 1]
    roof = blocks.cap_triangles[_ranges(ts, te - ts)]
    local_start = np.concatenate(([0], np.cumsum(counts)[:-1]))
    roof = roof + np.repeat(local_start - vs, te - ts)[:, None]
    vertices = edges  # the ring vertices of these buildings, in order
    total = len(vertices)
    positions = np.concatenate([blocks.cap_top[vertices], blocks.cap_bottom[vertices]])
    normals = np.zeros_like(positions)
    normals[:total, 2] = 1.0
    normals[total:, 2] = -1.0
    triangles = np.concatenate([roof, roof[:, ::-1] + total])
    feature = np.concatenate([np.repeat(rows, counts)] * 2)
    return [walls, (positions, normals, triangles, feature)]


def write_blocks_glb(blocks: Blocks, keys: NDArray[np.integer], materials: Sequence[Material],
                     columns: dict[str, list[Any]], path: Path) -> tuple[BoundingVolume, int, int]:
    """Write the tile; returns its ENU box, size in bytes and triangle count."""
    pieces = gather(blocks, keys)
    caps = pieces[1][0]  # roofs and floors hold every vertex the walls use
    lo, hi = caps.min(axis=0), caps.max(axis=0)
    centre = (lo + hi) / 2
    builder = GlbBuilder()
    metadata = StructuralMetadata(builder)
    table = metadata.add_property_table("building", columns)
    primitives = []
    triangle_count = 0
    for material, (positions, normals, triangles, feature) in enumerate(pieces):
        attributes = {
            "POSITION": builder.add_accessor(_yup(positions - centre).astype(np.float32), with_bounds=True),
            "NORMAL": builder.add_accessor(_yup(normals).astype(np.float32)),
            "_FEATURE_ID_0": feature_id_attribute(builder, feature),
        }
        primitives.append({
            "attributes": attributes,
            "indices": builder.add_indices(triangles, len(positions)),
            "material": builder.add_material(materials[material].to_gltf()),
            "mode": TRIANGLES,
            "extensions": {MESH_FEATURES: mesh_features(len(keys), 0, table, "building")},
        })
        triangle_count += len(triangles)
    metadata.finish()
    builder.use_extension(MESH_FEATURES)
    mesh = builder.add_mesh(primitives)
    builder.add_node({"mesh": mesh, "translation": [float(centre[0]), float(centre[2]), float(-centre[1])]})
    data = builder.to_bytes()
    path.write_bytes(data)
    return BoundingVolume.from_bounds(lo, hi, pad=0.005), len(data), triangle_count
