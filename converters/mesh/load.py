"""Loading scan and photogrammetry meshes (OBJ + MTL + textures, PLY with vertex colours, glTF/GLB).

trimesh reads the files; every geometry of a scene is flattened into world coordinates and kept as a
:class:`Submesh` with its UVs and texture image (re-encoded PNG/JPEG bytes) or vertex colours.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import trimesh
from numpy.typing import NDArray

from converters.errors import ConversionError

_LOAD_ERRORS: tuple[type[BaseException], ...] = (ValueError, KeyError, IndexError, TypeError, OSError, EOFError,
                                                 AttributeError, NotImplementedError, UnicodeDecodeError)


@dataclass(slots=True)
class Texture:
    data: bytes
    mime: str  # image/png or image/jpeg


@dataclass(slots=True)
class Submesh:
    vertices: NDArray[np.float64]  # (n, 3) file coordinates
    faces: NDArray[np.int64]  # (m, 3)
    uv: NDArray[np.float32] | None = None  # (n, 2) glTF convention (v down)
    colors: NDArray[np.uint8] | None = None  # (n, 4)
    texture: Texture | None = None
    rgba: tuple[float, float, float, float] = (0.8, 0.8, 0.8, 1.0)
    name: str = ""


def _texture(material: Any) -> Texture | None:
    image = getattr(material, "baseColorTexture", None) or getattr(material, "image", None)
    if image is None:
        return None
    fmt = (getattr(image, "format", None) or "PNG").upper()
    buffer = io.BytesIO()
    if fmt in ("JPEG", "JPG"):
        image.convert("RGB").save(buffer, format="JPEG", quality=90)
        return Texture(buffer.getvalue(), "image/jpeg")
    image.save(buffer, format="PNG")
    return Texture(buffer.getvalue(), "image/png")


def _rgba(material: Any) -> tuple[float, float, float, float]:
    colour = getattr(material, "baseColorFactor", None)
    if colour is None:
        colour = getattr(material, "diffuse", None)
    if colour is None:
        return (0.8, 0.8, 0.8, 1.0)
    values = np.asarray(colour, dtype=np.float64).ravel()
    if values.max() > 1.0:
        values = values / 255.0
    values = np.concatenate([values, [1.0, 1.0, 1.0, 1.0]])[:4]
    return (float(values[0]), float(values[1]), float(values[2]), float(values[3]))


def _submesh(mesh: trimesh.Trimesh, name: str) -> Submesh:
    sub = Submesh(np.asarray(mesh.vertices, dtype=np.float64), np.asarray(mesh.faces, dtype=np.int64), name=name)
    visual = mesh.visual
    kind = getattr(visual, "kind", None)
    if kind == "texture":
        material = getattr(visual, "material", None)
        sub.rgba = _rgba(material)
        uv = getattr(visual, "uv", None)
        if uv is not None and len(uv) == len(sub.vertices):
            sub.texture = _texture(material)
            if sub.texture is not None:
                flipped = np.asarray(uv, dtype=np.float32).copy()
                flipped[:, 1] = 1.0 - flipped[:, 1]  # trimesh keeps OBJ's v-up; glTF has v down
                sub.uv = flipped
    elif kind in ("vertex", "face") and isinstance(visual, trimesh.visual.ColorVisuals):
        colors = np.asarray(visual.vertex_colors, dtype=np.uint8)
        if len(colors) == len(sub.vertices):
            sub.colors = colors
    return sub


def load_mesh(path: Path) -> list[Submesh]:
    try:
        scene = trimesh.load_scene(path)
    except _LOAD_ERRORS as error:
        reason = str(error)[:120] or type(error).__name__
        raise ConversionError(f"{path.name}: not a readable mesh ({reason})") from error
    meshes: list[Submesh] = []
    point_only = 0
    try:
        geometries = scene.dump(concatenate=False)
    except _LOAD_ERRORS as error:
        raise ConversionError(f"{path.name}: not a readable mesh ({str(error)[:120]})") from error
    for index, geometry in enumerate(geometries):
        if isinstance(geometry, trimesh.Trimesh) and len(geometry.faces):
            meshes.append(_submesh(geometry, str(geometry.metadata.get("name", index))))
        elif isinstance(geometry, trimesh.PointCloud) or getattr(geometry, "vertices", None) is not None:
            point_only += 1
    if not meshes:
        if point_only:
            raise ConversionError(f"{path.name}: the file has vertices but no faces (a point cloud, not a mesh); "
                                  "convert it as a point cloud (LAS/LAZ) instead")
        raise ConversionError(f"{path.name}: no triangles found")
    return meshes
