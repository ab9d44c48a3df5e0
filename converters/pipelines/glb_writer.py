"""One tile of pipes as a glb: solids (tubes, boxes, shafts, fittings) or thin lines (the far level of detail).

Same encoding as the other converters (``tiles``): a primitive per category material, ``_FEATURE_ID_0`` per
vertex declared by ``EXT_mesh_features``, one ``EXT_structural_metadata`` property table row per feature
(segment or point) of the tile, float32 positions relative to the tile centre, glTF y-up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from converters.pipelines.geometry import Solids, concat, prisms
from tiles.glb import TRIANGLES, GlbBuilder
from tiles.mesh import Material
from tiles.metadata import (
    MESH_FEATURES,
    ArrayColumn,
    NumberColumn,
    StructuralMetadata,
    feature_id_attribute,
    mesh_features,
)
from tiles.tileset import BoundingVolume

LINES = 1
CLASS_NAME = "pipeline"


@dataclass(slots=True)
class Features:
    """Everything needed to draw feature ``i`` (segments first, then points), all ENU metres."""

    start: NDArray[np.float64]  # (n, 3) axis start
    end: NDArray[np.float64]
    half_u: NDArray[np.float64]  # radius, or half width
    half_v: NDArray[np.float64]  # half height (boxes)
    round: NDArray[np.bool_]
    sides: NDArray[np.int64]
    start_normal: NDArray[np.float64]  # miter planes (the axis direction for square ends)
    end_normal: NDArray[np.float64]
    material: NDArray[np.int64]
    columns: dict[str, ArrayColumn]  # one value per feature

    def __len__(self) -> int:
        return len(self.start)

    def bounds(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        pad = np.maximum(self.half_u, self.half_v)[:, None] * 1.8 + 0.01  # miter cuts reach past the axis ends
        return np.minimum(self.start, self.end) - pad, np.maximum(self.start, self.end) + pad

    def weights(self) -> NDArray[np.int64]:
        return np.where(self.round, 4 * self.sides, 12).astype(np.int64)


def solids_of(features: Features, keys: NDArray[np.integer]) -> Solids:
    """The closed solids of ``keys``; owners are positions in ``keys``."""
    parts = []
    rows = np.arange(len(keys), dtype=np.int64)
    for round_ in (True, False):
        for sides in np.unique(features.sides[keys]).tolist() if round_ else [4]:
            pick = (features.round[keys] == round_) & ((features.sides[keys] == sides) | (not round_))
            at = keys[pick]
            if not len(at):
                continue
            solids = prisms(features.start[at], features.end[at], features.half_u[at], features.half_v[at],
                            int(sides), round_, features.start_normal[at], features.end_normal[at])
            parts.append((solids, rows[pick]))
    return concat(parts)


def _yup(enu: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.stack([enu[:, 0], enu[:, 2], -enu[:, 1]], axis=-1)


def _table(features: Features, keys: NDArray[np.integer]) -> dict[str, ArrayColumn]:
    """The property table of ``keys``: the columns that hold a value for one of them at least."""
    whole = len(keys) == len(features) and bool(np.all(keys == np.arange(len(features))))
    table: dict[str, ArrayColumn] = {}
    for name, column in features.columns.items():
        picked = column if whole else column.take(keys)
        empty = bool(picked.absent().all()) if isinstance(picked, NumberColumn) else picked.all_absent()
        if not empty:
            table[name] = picked
    return table


def _write(builder: GlbBuilder, primitives: list[dict[str, Any]], centre: NDArray[np.float64], path: Path) -> int:
    builder.use_extension(MESH_FEATURES)
    mesh = builder.add_mesh(primitives)
    builder.add_node({"mesh": mesh, "translation": [float(centre[0]), float(centre[2]), float(-centre[1])]})
    data = builder.to_bytes()
    path.write_bytes(data)
    return len(data)


def write_solids_glb(features: Features, keys: NDArray[np.integer], materials: Sequence[Material],
                     path: Path) -> tuple[BoundingVolume, int, int]:
    """Tubes, boxes and shafts of ``keys``; returns the ENU box, bytes and triangles."""
    solids = solids_of(features, keys)
    columns = np.ascontiguousarray(solids.positions.T)  # faster reductions than along axis 0
    lo, hi = columns.min(axis=1), columns.max(axis=1)
    centre = (lo + hi) / 2
    builder = GlbBuilder()
    metadata = StructuralMetadata(builder)
    table = metadata.add_property_table(CLASS_NAME, _table(features, keys))
    key_material = features.material[keys]
    vertex_material = key_material[solids.owner].astype(np.uint8 if len(materials) <= 256 else np.int64)  # radix sort
    triangle_material = vertex_material[solids.triangles[:, 0]]
    # vertices and triangles grouped by material, each group in its original order
    vertex_order = np.argsort(vertex_material, kind="stable")
    triangle_order = np.argsort(triangle_material, kind="stable")
    vertex_start = np.searchsorted(vertex_material[vertex_order], np.arange(len(materials) + 1))
    triangle_start = np.searchsorted(triangle_material[triangle_order], np.arange(len(materials) + 1))
    rank = np.empty(len(vertex_order), dtype=np.int64)
    rank[vertex_order] = np.arange(len(vertex_order))
    primitives = []
    for material in np.flatnonzero(np.bincount(key_material)).tolist():
        used = vertex_order[vertex_start[material]: vertex_start[material + 1]]
        tris = solids.triangles[triangle_order[triangle_start[material]: triangle_start[material + 1]]]
        primitives.append({
            "attributes": {
                "POSITION": builder.add_accessor(_yup(solids.positions[used] - centre).astype(np.float32),
                                                 with_bounds=True),
                "NORMAL": builder.add_accessor(_yup(solids.normals[used]).astype(np.float32)),
                "_FEATURE_ID_0": feature_id_attribute(builder, solids.owner[used]),
            },
            "indices": builder.add_indices(rank[tris] - vertex_start[material], len(used)),
            "material": builder.add_material(materials[material].to_gltf()),
            "mode": TRIANGLES,
            "extensions": {MESH_FEATURES: mesh_features(int((key_material == material).sum()), 0, table,
                                                        CLASS_NAME)},
        })
    metadata.finish()
    size = _write(builder, primitives, centre, path)
    return BoundingVolume.from_bounds(lo, hi, pad=0.005), size, len(solids.triangles)


def write_lines_glb(features: Features, keys: NDArray[np.integer], materials: Sequence[Material],
                    path: Path) -> tuple[BoundingVolume, int]:
    """Every feature of ``keys`` as one line along its axis (the far level of detail)."""
    positions = np.stack([features.start[keys], features.end[keys]], axis=1).reshape(-1, 3)
    lo, hi = positions.min(axis=0), positions.max(axis=0)
    centre = (lo + hi) / 2
    builder = GlbBuilder()
    metadata = StructuralMetadata(builder)
    table = metadata.add_property_table(CLASS_NAME, _table(features, keys))
    rows = np.repeat(np.arange(len(keys)), 2)
    materials_of = np.repeat(features.material[keys], 2)
    primitives = []
    for material in np.unique(materials_of).tolist():
        pick = materials_of == material
        count = int(pick.sum())
        line_material = materials[material].to_gltf()
        line_material.pop("doubleSided", None)
        primitives.append({
            "attributes": {
                "POSITION": builder.add_accessor(_yup(positions[pick] - centre).astype(np.float32), with_bounds=True),
                "_FEATURE_ID_0": feature_id_attribute(builder, rows[pick]),
            },
            "indices": builder.add_indices(np.arange(count), count),
            "material": builder.add_material(line_material),
            "mode": LINES,
            "extensions": {MESH_FEATURES: mesh_features(count // 2, 0, table, CLASS_NAME)},
        })
    metadata.finish()
    size = _write(builder, primitives, centre, path)
    return BoundingVolume.from_bounds(lo, hi, pad=0.05), size
