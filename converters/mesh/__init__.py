"""Scan and photogrammetry meshes (OBJ + MTL + textures, PLY, glTF/GLB) → 3D Tiles 1.1."""

from converters.mesh.convert import convert

__all__ = ["convert"]
