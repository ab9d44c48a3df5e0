"""From tessellated IFC shapes to georeferenced element meshes (local ENU) with materials.

Vertices go through the georeference in batches (one pyproj call per ~200 000 vertices, not per
element); normals are rotated by the georeference's local Jacobian. When the first batch lies more
than 1 km from the georeferencing point, the local frame moves to it (an exact rigid transform), so
that positions can be kept as float32 without losing precision. Each element keeps one part
per material. Elements with no style get a default colour per class.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from converters.georef import LocalFrame
from converters.ifc.geometry import ElementShape, Skipped
from converters.ifc.georeference import IfcGeoreference
from tiles.mesh import Material

BATCH_VERTICES = 200_000
RECENTRE_DISTANCE_M = 1000.0

DEFAULT_COLOURS: dict[str, tuple[float, float, float, float]] = {
    "IfcWall": (0.85, 0.83, 0.78, 1.0),
    "IfcSlab": (0.70, 0.70, 0.70, 1.0),
    "IfcRoof": (0.60, 0.25, 0.20, 1.0),
    "IfcWindow": (0.55, 0.75, 0.90, 0.4),
    "IfcDoor": (0.55, 0.40, 0.25, 1.0),
    "IfcColumn": (0.65, 0.65, 0.68, 1.0),
    "IfcBeam": (0.60, 0.60, 0.65, 1.0),
    "IfcStair": (0.75, 0.72, 0.68, 1.0),
    "IfcRailing": (0.35, 0.35, 0.38, 1.0),
    "IfcPlate": (0.60, 0.70, 0.80, 0.6),
    "IfcCurtainWall": (0.55, 0.75, 0.90, 0.4),
    "IfcMember": (0.50, 0.50, 0.55, 1.0),
    "IfcSpace": (0.30, 0.60, 0.90, 0.2),
    "IfcSite": (0.50, 0.60, 0.40, 1.0),
    "IfcFurnishingElement": (0.70, 0.55, 0.40, 1.0),
}
FALLBACK_COLOUR = (0.80, 0.80, 0.80, 1.0)


def default_colour(ifc_class: str) -> tuple[float, float, float, float]:
    for prefix, colour in DEFAULT_COLOURS.items():
        if ifc_class.startswith(prefix):
            return colour
    return FALLBACK_COLOUR


@dataclass(slots=True)
class ElementPart:
    positions: np.ndarray  # (N, 3) float32 ENU (halves memory; float64 maths happen before)
    normals: np.ndarray | None  # (N, 3) float32 ENU
    triangles: np.ndarray  # (M, 3) int32
    material: int


@dataclass(slots=True)
class Element:
    guid: str
    ifc_class: str
    step_id: int
    parts: list[ElementPart]
    lo: np.ndarray
    hi: np.ndarray
    triangles: int


@dataclass(slots=True)
class Collected:
    elements: list[Element] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    materials: list[Material] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    triangles: int = 0
    vertices: int = 0
    frame: LocalFrame | None = None  # the georeference's frame, or one moved to the geometry
    frame_moved: bool = False


class MaterialPalette:
    def __init__(self) -> None:
        self.materials: list[Material] = []
        self._index: dict[tuple[float, ...], int] = {}

    def index(self, name: str, rgba: tuple[float, float, float, float]) -> int:
        """Styles with the same colour share one material (and so one primitive per content)."""
        key = tuple(round(float(c), 3) for c in rgba)
        if key not in self._index:
            self._index[key] = len(self.materials)
            self.materials.append(Material(name, key))  # type: ignore[arg-type]
        return self._index[key]


def _jacobian(to_enu: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    probe = np.array([[0.0, 0, 0], [1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]])
    enu = to_enu(probe)
    jacobian = (enu[1:] - enu[0]).T
    return jacobian / np.linalg.norm(jacobian, axis=0)


def collect(
    shapes: Iterable[ElementShape | Skipped],
    georef: IfcGeoreference,
    progress: Callable[[int], None] | None = None,
) -> Collected:
    """Georeference every shape; skipped elements and empty shapes are recorded, not fatal."""
    out = Collected(frame=georef.frame)
    palette = MaterialPalette()
    rotation = _jacobian(georef.to_enu).T.astype(np.float32)
    batch: list[ElementShape] = []
    batch_vertices = 0
    rigid: np.ndarray | None = None  # old ENU → moved frame's ENU

    def flush() -> None:
        nonlocal batch, batch_vertices, rigid, rotation
        if not batch:
            return
        stacked = georef.to_enu(np.concatenate([s.positions for s in batch]))
        if not out.elements and rigid is None:
            centre = (stacked.min(axis=0) + stacked.max(axis=0)) / 2
            if np.linalg.norm(centre[:2]) > RECENTRE_DISTANCE_M:  # geometry far from the reference point
                out.frame, rigid = georef.frame.rebased(np.array([centre[0], centre[1], stacked[:, 2].min()]))
                out.frame_moved = True
                rotation = (rigid[:3, :3] @ rotation.T.astype(np.float64)).T.astype(np.float32)
        if rigid is not None:
            stacked = stacked @ rigid[:3, :3].T + rigid[:3, 3]
        start = 0
        for shape in batch:
            enu = stacked[start : start + len(shape.positions)]
            start += len(shape.positions)
            out.elements.append(_element(shape, enu, rotation, palette))
            out.counts[shape.ifc_class] += 1
            out.triangles += len(shape.triangles)
            out.vertices += len(shape.positions)
        batch, batch_vertices = [], 0

    for seen, shape in enumerate(shapes, 1):
        if isinstance(shape, Skipped):
            out.skipped.append(shape)
        elif len(shape.triangles) == 0 or len(shape.positions) == 0:
            out.skipped.append(Skipped(shape.step_id, shape.guid, shape.ifc_class, "empty geometry"))
        elif not np.all(np.isfinite(shape.positions)):
            out.skipped.append(Skipped(shape.step_id, shape.guid, shape.ifc_class, "non-finite coordinates"))
        else:
            batch.append(shape)
            batch_vertices += len(shape.positions)
            if batch_vertices >= BATCH_VERTICES:
                flush()
        if progress is not None and seen % 200 == 0:
            progress(seen)
    flush()
    out.materials = palette.materials
    return out


def _element(shape: ElementShape, enu: np.ndarray, rotation: np.ndarray, palette: MaterialPalette) -> Element:
    normals = shape.normals @ rotation if shape.normals is not None else None
    triangle_materials = shape.triangle_materials
    if len(triangle_materials) != len(shape.triangles):
        triangle_materials = np.full(len(shape.triangles), -1, dtype=np.int32)
    parts: list[ElementPart] = []
    for material_id in np.unique(triangle_materials):
        material = shape.materials[material_id] if 0 <= material_id < len(shape.materials) else None
        if material is not None:
            index = palette.index(material.name, material.rgba)
        else:
            index = palette.index(f"default {shape.ifc_class}", default_colour(shape.ifc_class))
        triangles = shape.triangles[triangle_materials == material_id]
        used, remapped = np.unique(triangles, return_inverse=True)
        parts.append(
            ElementPart(
                enu[used].astype(np.float32),  # metres in the local frame: float32 keeps 0.5 mm at 5 km
                normals[used] if normals is not None else None,
                remapped.reshape(-1, 3).astype(np.int32),
                index,
            )
        )
    return Element(
        shape.guid, shape.ifc_class, shape.step_id, parts, enu.min(axis=0), enu.max(axis=0), len(shape.triangles)
    )
