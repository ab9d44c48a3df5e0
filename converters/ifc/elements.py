"""From tessellated IFC shapes to georeferenced element meshes (local ENU) with materials.

Vertices go through the georeference in batches (one pyproj call per ~200 000 vertices, not per
element); normals are rotated by the georeference's local Jacobian. When the first batch lies more
than 1 km from the georeferencing point, the local frame moves to it (an exact rigid transform), so
that positions can be kept as float32 without losing precision. Each element keeps one part
per material. Elements with no style get a default colour per class. Geometry that several elements
share (mapped type representations) is kept once, in object coordinates, with a local → ENU affine
per element (the georeference linearised at the element's origin: sub-millimetre over a few metres).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from converters.georef import LocalFrame
from converters.ifc import far_coordinates
from converters.ifc.map_conversion import IfcGeoreference
from converters.ifc.shapes import ElementShape, Skipped
from tiles.mesh import Material, distinct_sorted

BATCH_VERTICES = 200_000
INSTANCE_MIN_COUNT = 3
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
class InstancedGeometry:
    key: str
    parts: list[ElementPart]  # object coordinates (metres), written once per content
    corners: np.ndarray  # (8, 3) local bounding-box corners
    triangles: int


@dataclass(slots=True)
class Element:
    guid: str
    ifc_class: str
    step_id: int
    parts: list[ElementPart]  # ENU geometry, empty for instances
    lo: np.ndarray
    hi: np.ndarray
    triangles: int
    instance: tuple[InstancedGeometry, np.ndarray] | None = None  # shared geometry + local → ENU affine


@dataclass(slots=True)
class Collected:
    elements: list[Element] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    materials: list[Material] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    triangles: int = 0
    vertices: int = 0
    frame: LocalFrame | None = None  # the georeference's frame, or one moved to the geometry
    georef: IfcGeoreference | None = None  # the georeference used (far geometry may replace the given one)
    frame_moved: bool = False
    instances: int = 0
    instanced_geometries: int = 0


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
    unit: np.ndarray = jacobian / np.linalg.norm(jacobian, axis=0)
    return unit


def collect(
    shapes: Iterable[ElementShape | Skipped],
    georef: IfcGeoreference,
    progress: Callable[[int], None] | None = None,
    instancing: bool = True,
) -> Collected:
    """Georeference every shape; skipped elements and empty shapes are recorded, not fatal.

    Geometry shared by at least ``INSTANCE_MIN_COUNT`` elements (mapped type representations)
    becomes one :class:`InstancedGeometry` referenced by each element with its local → ENU affine.
    """
    out = Collected(frame=georef.frame)
    palette = MaterialPalette()
    accepted: list[ElementShape] = []
    uses: Counter[str] = Counter()
    for seen, shape in enumerate(shapes, 1):
        if isinstance(shape, Skipped):
            out.skipped.append(shape)
        elif len(shape.geometry.triangles) == 0 or len(shape.geometry.positions) == 0:
            out.skipped.append(Skipped(shape.step_id, shape.guid, shape.ifc_class, "empty geometry"))
        elif not np.isfinite(shape.geometry.positions.sum() + shape.matrix.sum()):  # a NaN or inf anywhere
            out.skipped.append(Skipped(shape.step_id, shape.guid, shape.ifc_class, "non-finite coordinates"))
        else:
            accepted.append(shape)
            uses[shape.geometry.key] += 1
        if progress is not None and seen % 200 == 0:
            progress(seen)
    if not accepted:
        return out
    # Model order, not arrival order: the children finish in any order, and the materials' order, the
    # extent's sample and the frame would follow it (outputs differed from run to run with 2 jobs).
    accepted.sort(key=lambda shape: shape.step_id)
    out.skipped.sort(key=lambda skipped: skipped.step_id)
    lo, hi = _engineering_extent(accepted)
    georef = far_coordinates.place(georef, lo, hi)
    converter = _Georeferencer(georef, accepted[: min(len(accepted), 2000)])
    out.frame, out.frame_moved, out.georef = converter.frame, converter.moved, converter.georef
    shared: dict[str, InstancedGeometry] = {}
    expanded: list[ElementShape] = []
    for shape in accepted:
        key = shape.geometry.key
        if instancing and uses[key] >= INSTANCE_MIN_COUNT and _is_trs(shape.matrix[:3, :3]):
            if key not in shared:
                shared[key] = _instanced_geometry(shape, palette)
            out.elements.append(converter.instance(shape, shared[key]))
            out.instances += 1
        else:
            expanded.append(shape)
        out.counts[shape.ifc_class] += 1
        out.triangles += len(shape.geometry.triangles)
        out.vertices += len(shape.geometry.positions)
    out.instanced_geometries = len(shared)
    accepted.clear()
    index = 0
    while index < len(expanded):
        batch: list[ElementShape] = []
        vertices = 0
        while index < len(expanded) and vertices < BATCH_VERTICES:
            batch.append(expanded[index])
            vertices += len(expanded[index].geometry.positions)
            expanded[index] = None  # type: ignore[call-overload]  # free as we go
            index += 1
        stacked = converter.to_enu(np.concatenate([s.positions for s in batch]))
        offset = 0
        for shape in batch:
            count = len(shape.geometry.positions)
            out.elements.append(_element(shape, stacked[offset : offset + count], converter.rotation, palette))
            offset += count
    out.materials = palette.materials
    if out.elements:
        lo_enu = np.min([e.lo for e in out.elements], axis=0)
        hi_enu = np.max([e.hi for e in out.elements], axis=0)
        far_coordinates.check_placed(converter.georef_in_frame(), lo_enu, hi_enu)
    return out


def _engineering_extent(shapes: list[ElementShape], sample: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    """Engineering box of the geometry: every element's origin, plus the vertices of the first ``sample``."""
    origins = np.array([s.matrix[:3, 3] for s in shapes], dtype=np.float64)
    vertices = [s.positions for s in shapes[:sample]]
    points = np.concatenate([origins, *vertices]) if vertices else origins
    return points.min(axis=0), points.max(axis=0)


class _Georeferencer:
    """Engineering metres → ENU of the (possibly moved) frame, plus per-instance affines."""

    def __init__(self, georef: IfcGeoreference, sample: list[ElementShape]) -> None:
        self.georef = georef
        self.frame = georef.frame
        self.moved = False
        self.rigid: np.ndarray | None = None
        probe = georef.to_enu(np.concatenate([s.matrix[:3, 3][None] for s in sample]))
        centre = (probe.min(axis=0) + probe.max(axis=0)) / 2
        if np.linalg.norm(centre[:2]) > RECENTRE_DISTANCE_M:  # geometry far from the reference point
            self.frame, self.rigid = georef.frame.rebased(np.array([centre[0], centre[1], probe[:, 2].min()]))
            self.moved = True
        self.rotation = _jacobian(self.to_enu).T.astype(np.float32)

    def georef_in_frame(self) -> IfcGeoreference:
        """The georeference expressed in this (possibly moved) frame."""
        if not self.moved:
            return self.georef
        return IfcGeoreference(
            self.georef.source, self.georef.confidence, self.frame, self.to_enu, self.georef.details, self.georef.site
        )

    def to_enu(self, points: np.ndarray) -> np.ndarray:
        enu = self.georef.to_enu(points)
        if self.rigid is not None:
            enu = enu @ self.rigid[:3, :3].T + self.rigid[:3, 3]
        return enu

    def instance(self, shape: ElementShape, geometry: InstancedGeometry) -> Element:
        origin = shape.matrix[:3, 3]
        probe = self.to_enu(np.vstack([origin, origin + np.eye(3)]))
        affine = np.eye(4)
        affine[:3, :3] = (probe[1:] - probe[0]).T @ shape.matrix[:3, :3]
        affine[:3, 3] = probe[0]
        corners = geometry.corners @ affine[:3, :3].T + affine[:3, 3]
        return Element(
            shape.guid,
            shape.ifc_class,
            shape.step_id,
            [],
            corners.min(axis=0),
            corners.max(axis=0),
            len(shape.geometry.triangles),
            instance=(geometry, affine),
        )


def _is_trs(linear: np.ndarray) -> bool:
    """True when ``linear`` is a rotation times a positive scale per axis (glTF TRS-expressible)."""
    gram = linear.T @ linear
    off_diagonal = gram - np.diag(np.diag(gram))
    return bool(np.linalg.det(linear) > 0 and np.abs(off_diagonal).max() <= 1e-9 * max(1.0, np.abs(gram).max()))


def _instanced_geometry(shape: ElementShape, palette: MaterialPalette) -> InstancedGeometry:
    geometry = shape.geometry
    local = geometry.positions
    lo, hi = local.min(axis=0), local.max(axis=0)
    corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])
    parts = _parts(shape, local, geometry.normals, palette)
    return InstancedGeometry(geometry.key, parts, corners, len(geometry.triangles))


def _parts(
    shape: ElementShape, positions: np.ndarray, normals: np.ndarray | None, palette: MaterialPalette
) -> list[ElementPart]:
    geometry = shape.geometry
    triangle_materials = geometry.triangle_materials
    if len(triangle_materials) != len(geometry.triangles):
        triangle_materials = np.full(len(geometry.triangles), -1, dtype=np.int32)
    parts: list[ElementPart] = []
    first = int(triangle_materials[0]) if len(triangle_materials) else -1
    single = not len(triangle_materials) or bool((triangle_materials == first).all())
    for material_id in [first] if single else distinct_sorted(triangle_materials):
        material = geometry.materials[material_id] if 0 <= material_id < len(geometry.materials) else None
        if material is not None:
            index = palette.index(material.name, material.rgba)
        else:
            index = palette.index(f"default {shape.ifc_class}", default_colour(shape.ifc_class))
        if single:  # one material (most elements): every vertex, no remapping
            parts.append(
                ElementPart(
                    positions.astype(np.float32), normals, geometry.triangles.astype(np.int32, copy=False), index
                )
            )
            continue
        triangles = geometry.triangles[triangle_materials == material_id]
        used, remapped = np.unique(triangles, return_inverse=True)
        parts.append(
            ElementPart(
                positions[used].astype(np.float32),  # metres in the local frame: float32 keeps 0.5 mm at 5 km
                normals[used] if normals is not None else None,
                remapped.reshape(-1, 3).astype(np.int32),
                index,
            )
        )
    return parts


def _element(shape: ElementShape, enu: np.ndarray, rotation: np.ndarray, palette: MaterialPalette) -> Element:
    geometry = shape.geometry
    normals = None
    if geometry.normals is not None:
        normals = (geometry.normals @ shape.matrix[:3, :3].T.astype(np.float32)) @ rotation
    parts = _parts(shape, enu, normals, palette)
    return Element(
        shape.guid, shape.ifc_class, shape.step_id, parts, enu.min(axis=0), enu.max(axis=0), len(geometry.triangles)
    )
