"""Triangle-mesh glb contents with per-feature metadata for 3D Tiles 1.1.

Public API (stable)::

    from tiles.mesh import Material, MeshPart, write_mesh_glb

    parts = [MeshPart(positions, normals, triangles, material=0, feature=3), ...]
        # positions (N, 3) float64 local ENU metres (z-up, tileset frame); normals (N, 3) ENU or None
        # triangles (M, 3) int; material indexes ``materials``; feature indexes the feature table rows
    content = write_mesh_glb(parts, materials, features={"GlobalId": [...], ...}, path=..., compress=True)
    content.data, content.box (BoundingVolume, ENU), content.triangle_count, content.vertex_count

Parts sharing a material become one primitive. Each vertex carries ``_FEATURE_ID_0`` (the feature
table row), declared with ``EXT_mesh_features``; the table is an ``EXT_structural_metadata``
property table. Materials are PBR metallic-roughness with alpha blending when alpha < 1.
``compress=True`` stores normals as normalized int8 and — when the content is small enough for the
quantization step to stay below ``MAX_QUANTIZATION_STEP_M`` — positions as normalized int16
decoded by the node matrix (``KHR_mesh_quantization``), welds identical vertices and encodes
vertex and index data with ``EXT_meshopt_compression`` (:mod:`tiles.meshopt_codec`); both
extensions are then required. ``compress=False`` writes plain float32 attributes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tiles.glb import TRIANGLES, GlbBuilder
from tiles.instancing import InstanceGroup, add_instance_node, instance_corners
from tiles.meshopt_codec import encode_primitives, weld
from tiles.metadata import MESH_FEATURES, StructuralMetadata, feature_id_attribute, mesh_features
from tiles.tileset import BoundingVolume

QUANTIZATION = "KHR_mesh_quantization"
MAX_QUANTIZATION_STEP_M = 0.002
_INT16_STEPS = 32767.0


@dataclass(slots=True)
class Material:
    name: str
    rgba: tuple[float, float, float, float] = (0.8, 0.8, 0.8, 1.0)
    metallic: float = 0.0
    roughness: float = 0.9
    double_sided: bool = True

    def to_gltf(self) -> dict[str, Any]:
        rgba = [float(min(1.0, max(0.0, c))) for c in self.rgba]
        material: dict[str, Any] = {
            "name": self.name,
            "pbrMetallicRoughness": {
                "baseColorFactor": rgba,
                "metallicFactor": float(self.metallic),
                "roughnessFactor": float(self.roughness),
            },
            "doubleSided": self.double_sided,
        }
        if rgba[3] < 1.0:
            material["alphaMode"] = "BLEND"
        return material


@dataclass(slots=True)
class MeshPart:
    positions: np.ndarray
    normals: np.ndarray | None
    triangles: np.ndarray
    material: int
    feature: int


@dataclass(slots=True)
class MeshContent:
    data: bytes
    box: BoundingVolume
    triangle_count: int
    vertex_count: int
    quantized: bool = False
    materials: list[int] = field(default_factory=list)


def _yup(enu: np.ndarray) -> np.ndarray:
    return np.stack([enu[:, 0], enu[:, 2], -enu[:, 1]], axis=-1)


def _normals(positions: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Area-weighted vertex normals for parts that come without them."""
    normals = np.zeros_like(positions)
    a, b, c = (positions[triangles[:, i]] for i in range(3))
    face = np.cross(b - a, c - a)
    for i in range(3):
        np.add.at(normals, triangles[:, i], face)
    return normals


def _unit(normals: np.ndarray) -> np.ndarray:
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    out = np.where(length > 1e-12, normals / np.maximum(length, 1e-12), [0.0, 0.0, 1.0])
    return out


def vertex_normals(positions: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Unit area-weighted vertex normals ((0, 0, 1) where a vertex has no area around it)."""
    return _unit(_normals(positions, triangles))


_YUP = ((0, 1.0), (2, 1.0), (1, -1.0))  # glTF (x, y, z) = ENU (e, u, -n)
_ZUP = ((0, 1.0), (1, 1.0), (2, 1.0))


def _stacked(arrays: Sequence[np.ndarray], offsets: np.ndarray) -> np.ndarray:
    """The parts' (N, 3) arrays as one float64 array, filled in place (no per-part float64 copies)."""
    out = np.empty((int(offsets[-1]), 3), dtype=np.float64)
    for i, array in enumerate(arrays):
        out[offsets[i] : offsets[i + 1]] = array
    return out


def _unit_in_place(normals: np.ndarray) -> np.ndarray:
    """:func:`_unit` without temporaries of the array's size (same values, bit for bit)."""
    length = np.linalg.norm(normals, axis=1, keepdims=True)
    np.divide(normals, np.maximum(length, 1e-12), out=normals)
    normals[~(length[:, 0] > 1e-12)] = (0.0, 0.0, 1.0)
    return normals


def _columns(
    values: np.ndarray,
    axes: tuple[tuple[int, float], ...],
    dtype: type[np.generic],
    encode: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray:
    """(N, 3) float64 → (N, 3) ``dtype``, output column j = ``encode(sign * values[:, axis])``: one
    column at a time, so a float64 temporary is a third of the array (large tile contents)."""
    out = np.empty((len(values), 3), dtype=dtype)
    for j, (axis, sign) in enumerate(axes):
        column = values[:, axis] if sign > 0 else -values[:, axis]
        out[:, j] = encode(column)
    return out


def _quantization(lo: np.ndarray, hi: np.ndarray, compress: bool) -> tuple[np.ndarray, float, bool]:
    center = (lo + hi) / 2
    half_extent = float(np.max(hi - lo)) / 2
    return center, max(half_extent, 1e-6), compress and half_extent / _INT16_STEPS <= MAX_QUANTIZATION_STEP_M


def distinct_sorted(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` without its masked-array check, whose first call imports ``numpy.ma``
    (~20 ms, a few per cent of a small model's conversion)."""
    ordered = np.sort(values, axis=None)
    keep = np.empty(len(ordered), dtype=bool)
    keep[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    distinct: np.ndarray = ordered[keep]
    return distinct


def _add_mesh(
    builder: GlbBuilder,
    parts: Sequence[MeshPart],
    gltf_materials: dict[int, int],
    compress: bool,
    center: np.ndarray,
    scale: float,
    quantize: bool,
    yup: bool,
    feature_table: int | None,
) -> tuple[int, int, int]:
    """One mesh (a primitive per material); returns (mesh index, triangles, vertices)."""
    primitives: list[dict[str, Any]] = []
    welded_primitives: list[tuple[np.ndarray, np.ndarray]] = []
    triangle_count = vertex_count = 0
    for material in sorted({p.material for p in parts}):
        group = [p for p in parts if p.material == material]
        offsets = np.cumsum([0] + [len(p.positions) for p in group])
        positions = _stacked([p.positions for p in group], offsets)
        positions -= center
        given = [p.normals if p.normals is not None else _normals(p.positions, p.triangles) for p in group]
        normals = _unit_in_place(_stacked(given, offsets))
        del given
        triangles = np.concatenate([p.triangles + offsets[i] for i, p in enumerate(group)])
        ids = np.concatenate([np.full(len(p.positions), p.feature, dtype=np.float32) for p in group])
        axes = _YUP if yup else _ZUP
        primitive: dict[str, Any] = {"material": gltf_materials[material], "mode": TRIANGLES}
        if compress:
            if quantize:
                stored = _columns(positions, axes, np.int16, lambda c: np.round(c / scale * _INT16_STEPS))
            else:
                stored = _columns(positions, axes, np.float32, lambda c: c)
            del positions
            packed = _columns(normals, axes, np.int8, lambda c: np.round(c * 127.0))
            del normals
            welded_primitives.append(weld(stored, packed, ids, triangles))
            welded = len(welded_primitives[-1][0])
        else:
            if yup:
                positions, normals = _yup(positions), _yup(normals)
            primitive["attributes"] = {
                "POSITION": builder.add_accessor(positions.astype(np.float32), with_bounds=True),
                "NORMAL": builder.add_accessor(normals.astype(np.float32)),
            }
            if feature_table is not None:
                primitive["attributes"]["_FEATURE_ID_0"] = feature_id_attribute(builder, ids)
            primitive["indices"] = builder.add_indices(triangles, len(positions))
            welded = len(positions)
        if feature_table is not None:
            distinct = len(distinct_sorted(ids))
            primitive["extensions"] = {MESH_FEATURES: mesh_features(distinct, 0, feature_table, "element")}
        primitives.append(primitive)
        triangle_count += len(triangles)
        vertex_count += welded
    if compress:
        encoded = encode_primitives(builder, welded_primitives, quantize, feature_ids=feature_table is not None)
        for primitive, (attributes, indices) in zip(primitives, encoded, strict=True):
            primitive["attributes"], primitive["indices"] = attributes, indices
    return builder.add_mesh(primitives), triangle_count, vertex_count


def write_mesh_glb(
    parts: Sequence[MeshPart],
    materials: Sequence[Material],
    features: Mapping[str, Sequence[Any]],
    path: Path | None = None,
    compress: bool = True,
    class_name: str = "element",
    instances: Sequence[InstanceGroup] = (),
) -> MeshContent:
    """Build (and optionally write) one glb; see the module docstring."""
    parts = [p for p in parts if len(p.triangles)]
    instances = [g for g in instances if len(g.transforms) and any(len(p.triangles) for p in g.parts)]
    if not parts and not instances:
        raise ValueError("no triangles to write")
    points = [np.asarray(p.positions) for p in parts] + [instance_corners(g) for g in instances]
    # float32 min/max are exact: the same bounds as of float64 copies, without the copies
    lo = np.min([p.min(axis=0).astype(np.float64) for p in points], axis=0)
    hi = np.max([p.max(axis=0).astype(np.float64) for p in points], axis=0)
    del points
    center, scale, quantize = _quantization(lo, hi, compress)

    builder = GlbBuilder()
    metadata = StructuralMetadata(builder)
    table = metadata.add_property_table(class_name, features)
    used = sorted({p.material for p in parts} | {p.material for g in instances for p in g.parts})
    gltf_materials = {index: builder.add_material(materials[index].to_gltf()) for index in used}
    triangle_count = vertex_count = 0
    center_yup = [float(center[0]), float(center[2]), float(-center[1])]
    if parts:
        mesh, triangles, vertices = _add_mesh(
            builder, parts, gltf_materials, compress, center, scale, quantize, True, table
        )
        triangle_count, vertex_count = triangle_count + triangles, vertex_count + vertices
        node: dict[str, Any] = {"mesh": mesh}
        if quantize:  # normalized int16 q decodes to q / 32767, so the node scale is the half extent
            node["matrix"] = [scale, 0, 0, 0, 0, scale, 0, 0, 0, 0, scale, 0, *center_yup, 1.0]
        else:
            node["translation"] = center_yup
        builder.add_node(node)
        builder.use_extension(MESH_FEATURES)
    for group in instances:
        local = np.concatenate([np.asarray(p.positions, dtype=np.float64) for p in group.parts])
        local_center, local_scale, local_quantize = _quantization(local.min(axis=0), local.max(axis=0), compress)
        mesh, triangles, vertices = _add_mesh(
            builder, group.parts, gltf_materials, compress, local_center, local_scale, local_quantize, False, None
        )
        dequantize = np.eye(4)
        if local_quantize:
            dequantize[:3, :3] *= local_scale
        dequantize[:3, 3] = local_center
        add_instance_node(builder, mesh, group, center, dequantize, table)
        triangle_count += triangles * len(group.transforms)
        vertex_count += vertices
    if compress:
        builder.use_extension(QUANTIZATION, required=True)
    metadata.finish()
    data = builder.to_bytes()
    if path is not None:
        Path(path).write_bytes(data)
    return MeshContent(
        data=data,
        box=BoundingVolume.from_bounds(lo, hi, pad=0.005),
        triangle_count=triangle_count,
        vertex_count=vertex_count,
        quantized=quantize,
        materials=used,
    )
