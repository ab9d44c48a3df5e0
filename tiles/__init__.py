"""3D Tiles 1.1 writing: glb contents with feature metadata, tileset.json, the tile hierarchy.

Knows nothing of IFC, HTTP or databases. Coordinates handed to this package are local ENU metres
(z-up) of the tileset frame; glb files store glTF y-up, the root tile carries the ENU→ECEF
``transform`` (see :mod:`converters.georef`).

Stable public API:

- :mod:`tiles.tileset` — ``Tileset(root, geometric_error, metadata=None, extras=None,
  extensions_used=[], extensions_required=[]).to_dict() / .write(path)``, ``Tile(bounding_volume,
  geometric_error, content=None, children=[], refine=None, transform=None)``, ``Content(uri,
  bounding_volume=None)``, ``BoundingVolume(box=|region=|sphere=)`` with ``from_bounds(lo, hi, pad)``
  and ``bounds()``.
- :mod:`tiles.points` — ``write_points_glb(positions, colors=None, properties=None, path=None,
  class_name="point") -> PointsContent(data, box, center, point_count)``; ``PointProperty``.
- :mod:`tiles.mesh` — ``write_mesh_glb(parts, materials, features, path=None, compress=True,
  class_name="element", instances=()) -> MeshContent``; ``MeshPart``, ``Material``.
- :mod:`tiles.instancing` — ``InstanceGroup(parts, transforms, features)`` (EXT_mesh_gpu_instancing).
- :mod:`tiles.hierarchy` — ``Item``, ``build_hierarchy(items, max_weight, parent_weight)``,
  ``to_tiles(root, write_content)``.
- :mod:`tiles.glb` — ``GlbBuilder``, ``read_glb``, ``read_accessor`` (decodes meshopt) for tools/tests.
- :mod:`tiles.metadata` — ``StructuralMetadata`` (EXT_structural_metadata property tables/attributes).
"""

from tiles.hierarchy import Item, build_hierarchy, to_tiles
from tiles.instancing import InstanceGroup
from tiles.mesh import Material, MeshContent, MeshPart, write_mesh_glb
from tiles.points import PointProperty, PointsContent, write_points_glb
from tiles.tileset import BoundingVolume, Content, Tile, Tileset

__all__ = [
    "BoundingVolume",
    "Content",
    "InstanceGroup",
    "Item",
    "Material",
    "MeshContent",
    "MeshPart",
    "PointProperty",
    "PointsContent",
    "Tile",
    "Tileset",
    "build_hierarchy",
    "to_tiles",
    "write_mesh_glb",
    "write_points_glb",
]
