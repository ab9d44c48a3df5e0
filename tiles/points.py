"""Point-cloud glb contents (glTF ``POINTS`` primitives) for 3D Tiles 1.1.

Public API (stable)::

    from tiles.points import PointProperty, write_points_glb

    content = write_points_glb(
        positions,                       # (N, 3) float64, local ENU metres (z-up) in the tileset frame
        colors=rgb,                      # optional (N, 3) or (N, 4) uint8 → COLOR_0, normalized UNSIGNED_BYTE
        properties={                     # optional per-point values → EXT_structural_metadata property
            "intensity": intensity,      #   attributes (_INTENSITY …); dtype uint8/int8/uint16/int16/float32
            "classification": classes,   #   (other dtypes are converted: ints to the smallest fitting
        },                               #   16-bit type if possible, else float32)
        path=out_dir / "points_0.glb",   # optional: also write the file
    )
    content.data        # the glb bytes
    content.box         # tiles.tileset.BoundingVolume (local ENU, z-up) → Content/Tile boundingVolume
    content.center      # (3,) float64 ENU: positions are stored as float32 relative to it
    content.point_count

The glb stores y-up glTF (x=E, y=U, z=-N) positions relative to ``center`` (float32) and one node
whose translation is the centre (in y-up), so the runtime's y-up→z-up rotation puts points back
at ``positions`` in the tile frame. ``PointProperty(values, description=...)`` may wrap an array to
give it a description. Points carry an unlit material so colours are shown as measured.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from tiles.glb import POINTS, GlbBuilder
from tiles.metadata import StructuralMetadata, property_id
from tiles.tileset import BoundingVolume

UNLIT = "KHR_materials_unlit"

_SCHEMA_TYPES: dict[np.dtype, str] = {
    np.dtype(np.int8): "INT8",
    np.dtype(np.uint8): "UINT8",
    np.dtype(np.int16): "INT16",
    np.dtype(np.uint16): "UINT16",
    np.dtype(np.float32): "FLOAT32",
}


@dataclass(slots=True)
class PointProperty:
    values: np.ndarray
    description: str | None = None


@dataclass(slots=True)
class PointsContent:
    data: bytes
    box: BoundingVolume
    center: NDArray[np.float64]
    point_count: int


def _attribute_array(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values)
    if values.dtype in _SCHEMA_TYPES:
        return values
    if values.dtype == np.bool_:
        return values.astype(np.uint8)
    if np.issubdtype(values.dtype, np.integer) and values.size:
        lo, hi = int(values.min()), int(values.max())
        for dtype in (np.uint8, np.int8, np.uint16, np.int16):
            info = np.iinfo(dtype)
            if info.min <= lo and hi <= info.max:
                return values.astype(dtype)
    return values.astype(np.float32)


def write_points_glb(
    positions: ArrayLike,
    colors: ArrayLike | None = None,
    properties: Mapping[str, ArrayLike | PointProperty] | None = None,
    path: Path | None = None,
    class_name: str = "point",
) -> PointsContent:
    """Build (and optionally write) one glb of points; see the module docstring."""
    points = np.asarray(positions, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 3 or len(points) == 0:
        raise ValueError("positions must be a non-empty (N, 3) array")
    count = len(points)
    lo, hi = points.min(axis=0), points.max(axis=0)
    center = (lo + hi) / 2
    relative = points - center
    yup = np.stack([relative[:, 0], relative[:, 2], -relative[:, 1]], axis=-1).astype(np.float32)

    builder = GlbBuilder()
    attributes: dict[str, int] = {"POSITION": builder.add_accessor(yup, with_bounds=True)}
    if colors is not None:
        rgb = np.asarray(colors)
        if rgb.shape not in ((count, 3), (count, 4)) or rgb.dtype != np.uint8:
            raise ValueError("colors must be (N, 3) or (N, 4) uint8")
        attributes["COLOR_0"] = builder.add_accessor(rgb, normalized=True)

    primitive: dict[str, Any] = {"attributes": attributes, "mode": POINTS}
    if properties:
        metadata = StructuralMetadata(builder)
        taken: set[str] = set()
        schema_props: dict[str, tuple[str, dict[str, Any]]] = {}
        for name, raw in properties.items():
            prop = raw if isinstance(raw, PointProperty) else PointProperty(np.asarray(raw))
            array = _attribute_array(prop.values).reshape(-1)
            if len(array) != count:
                raise ValueError(f"property {name!r} has {len(array)} values for {count} points")
            ident = property_id(name, taken)
            attribute = "_" + ident.upper().lstrip("_")
            attributes[attribute] = builder.add_accessor(array)
            schema: dict[str, Any] = {"type": "SCALAR", "componentType": _SCHEMA_TYPES[array.dtype]}
            if ident != name:
                schema["name"] = name
            if prop.description:
                schema["description"] = prop.description
            schema_props[ident] = (attribute, schema)
        index = metadata.add_property_attribute(class_name, schema_props)
        primitive["extensions"] = {"EXT_structural_metadata": {"propertyAttributes": [index]}}
        metadata.finish()

    builder.use_extension(UNLIT)
    primitive["material"] = builder.add_material(
        {"pbrMetallicRoughness": {"metallicFactor": 0.0}, "extensions": {UNLIT: {}}}
    )
    mesh = builder.add_mesh([primitive])
    translation = [float(center[0]), float(center[2]), float(-center[1])]
    builder.add_node({"mesh": mesh, "translation": translation})
    data = builder.to_bytes()
    if path is not None:
        Path(path).write_bytes(data)
    return PointsContent(data=data, box=BoundingVolume.from_bounds(lo, hi), center=center, point_count=count)
