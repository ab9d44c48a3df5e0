"""glb contents for scan meshes: positions, normals, UVs + embedded texture or vertex colours.

``tiles.mesh`` writes feature meshes (per-feature metadata, flat materials); scan meshes need textures
and vertex colours instead, so they get this small writer on the same :class:`tiles.glb.GlbBuilder`.
Positions are float32 relative to the content centre (node translation), glTF y-up.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from converters.georef import enu_to_gltf
from converters.mesh.load import Texture
from tiles.glb import ELEMENT_ARRAY_BUFFER, TRIANGLES, GlbBuilder
from tiles.mesh import vertex_normals
from tiles.tileset import BoundingVolume


@dataclass(slots=True)
class Piece:
    positions: NDArray[np.float64]  # (n, 3) ENU metres
    faces: NDArray[np.integer]  # (m, 3)
    uv: NDArray[np.float32] | None = None  # (n, 2)
    colors: NDArray[np.uint8] | None = None  # (n, 4)
    texture: Texture | None = None
    rgba: tuple[float, float, float, float] = (0.8, 0.8, 0.8, 1.0)


def write_scan_glb(pieces: list[Piece], path: Path) -> tuple[BoundingVolume, int]:
    """Write one glb (one primitive per piece); returns its ENU bounding box and size in bytes."""
    pieces = [p for p in pieces if len(p.faces)]
    if not pieces:
        raise ValueError("no triangles")
    lo = np.min([p.positions.min(axis=0) for p in pieces], axis=0)
    hi = np.max([p.positions.max(axis=0) for p in pieces], axis=0)
    centre = (lo + hi) / 2
    builder = GlbBuilder()
    primitives: list[dict[str, Any]] = []
    for piece in pieces:
        attributes = {
            "POSITION": builder.add_accessor(enu_to_gltf(piece.positions - centre), with_bounds=True),
            "NORMAL": builder.add_accessor(enu_to_gltf(vertex_normals(piece.positions, piece.faces))),
        }
        material: dict[str, Any] = {"pbrMetallicRoughness": {"baseColorFactor": list(piece.rgba),
                                                             "metallicFactor": 0.0, "roughnessFactor": 1.0},
                                    "doubleSided": True}
        if piece.texture is not None and piece.uv is not None:
            attributes["TEXCOORD_0"] = builder.add_accessor(piece.uv.astype(np.float32))
            view = builder.add_buffer_view(piece.texture.data)
            images = builder.gltf.setdefault("images", [])
            images.append({"bufferView": view, "mimeType": piece.texture.mime})
            samplers = builder.gltf.setdefault("samplers", [{"magFilter": 9729, "minFilter": 9987}])
            textures = builder.gltf.setdefault("textures", [])
            textures.append({"source": len(images) - 1, "sampler": len(samplers) - 1})
            material["pbrMetallicRoughness"]["baseColorTexture"] = {"index": len(textures) - 1}
            material["pbrMetallicRoughness"]["baseColorFactor"] = [1.0, 1.0, 1.0, piece.rgba[3]]
        elif piece.colors is not None:
            attributes["COLOR_0"] = builder.add_accessor(piece.colors.astype(np.uint8), normalized=True)
            material["pbrMetallicRoughness"]["baseColorFactor"] = [1.0, 1.0, 1.0, 1.0]
        if material["pbrMetallicRoughness"]["baseColorFactor"][3] < 1.0:
            material["alphaMode"] = "BLEND"
        primitives.append({
            "attributes": attributes,
            "indices": builder.add_indices(piece.faces, len(piece.positions)),
            "material": builder.add_material(material),
            "mode": TRIANGLES,
        })
    mesh = builder.add_mesh(primitives)
    builder.add_node({"mesh": mesh, "translation": [float(centre[0]), float(centre[2]), float(-centre[1])]})
    data = builder.to_bytes()
    Path(path).write_bytes(data)
    return BoundingVolume.from_bounds(lo, hi, pad=0.005), len(data)


__all__ = ["ELEMENT_ARRAY_BUFFER", "Piece", "vertex_normals", "write_scan_glb"]
