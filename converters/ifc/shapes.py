"""What tessellation yields: an element's shape (geometry in object coordinates and its placement), or
the reason it has none. Plain data (NumPy arrays), no ifcopenshell: the shapes of a small model are
sent to the helper process that writes its tiles (:mod:`.georef_service`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(slots=True)
class ShapeMaterial:
    name: str
    rgba: tuple[float, float, float, float]


@dataclass(slots=True)
class ShapeGeometry:
    """One tessellated representation in its object's local coordinates (shared by mapped items)."""

    key: str
    positions: np.ndarray  # (N, 3) float64, metres, object coordinates
    normals: np.ndarray | None  # (N, 3) float32
    triangles: np.ndarray  # (M, 3) int32
    triangle_materials: np.ndarray  # (M,) int32 index into materials, -1 none
    materials: list[ShapeMaterial | None]  # None: no style, use the class default


@dataclass(slots=True)
class ElementShape:
    step_id: int
    guid: str
    ifc_class: str
    geometry: ShapeGeometry
    matrix: np.ndarray  # 4×4 object → world (engineering metres)

    @property
    def positions(self) -> np.ndarray:
        """World (engineering) coordinates."""
        world: np.ndarray = self.geometry.positions @ self.matrix[:3, :3].T + self.matrix[:3, 3]
        return world

    @property
    def triangles(self) -> np.ndarray:
        return self.geometry.triangles


@dataclass(slots=True)
class Skipped:
    step_id: int
    guid: str
    ifc_class: str
    reason: str
