"""Cameras between the 3D city (globe, ECEF metres) and a model's own engineering coordinates (the
coordinates BCF viewpoints use), from the model's georeferencing as the converter read it (its
IfcMapConversion, or the CRS and origin given with the upload: the revision's stored conversion
parameters)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cim_platform.bim_review.bcf_files import Camera, Vector
from cim_platform.bim_review.ids_check import open_model
from converters.ifc.georeference import IfcGeoreference, resolve
from converters.options import ConvertOptions

STEP_M = 1.0


@dataclass(frozen=True)
class GlobeCamera:
    """A camera of the 3D city: ECEF position (metres), direction and up (unit vectors), field of view; or
    orthogonal, with ``view_to_world_scale`` (the view's visible vertical size, metres)."""

    position: Vector
    direction: Vector
    up: Vector
    field_of_view: float = 60.0
    aspect_ratio: float = 1.0
    view_to_world_scale: float | None = None


def _unit(vector: np.ndarray) -> Vector:
    norm = float(np.linalg.norm(vector))
    x, y, z = (float(v) / norm for v in vector)
    return (x, y, z)


def _scaled(view_to_world_scale: float | None, jacobian: np.ndarray, up: Vector) -> float | None:
    """An orthogonal view's vertical size through a map: the map stretches lengths along the view's up
    direction by ``|J · up|`` (1 unless the model's IfcMapConversion has a scale)."""
    if view_to_world_scale is None:
        return None
    return view_to_world_scale * float(np.linalg.norm(jacobian @ np.asarray(up, dtype=np.float64)))


class EngineeringFrame:
    """Model engineering metres ↔ ECEF for one model."""

    def __init__(self, georeference: IfcGeoreference) -> None:
        self.georeference = georeference
        self._enu_to_ecef = georeference.frame.enu_to_ecef_matrix()

    def to_ecef(self, points: Any) -> np.ndarray:
        model = np.atleast_2d(np.asarray(points, dtype=np.float64))
        enu = self.georeference.to_enu(model)
        result: np.ndarray = enu @ self._enu_to_ecef[:3, :3].T + self._enu_to_ecef[:3, 3]
        return result

    def jacobian(self, point: np.ndarray) -> np.ndarray:
        """∂ECEF/∂model at ``point`` (3×3), by central differences (the map is smooth at metre scale)."""
        steps = np.eye(3) * STEP_M
        ahead = self.to_ecef(point + steps)
        behind = self.to_ecef(point - steps)
        result: np.ndarray = ((ahead - behind) / (2 * STEP_M)).T
        return result

    def to_model(self, ecef: Any) -> np.ndarray:
        """ECEF → model coordinates (Newton iterations from the model origin; converges to < 1 µm)."""
        target = np.asarray(ecef, dtype=np.float64).reshape(3)
        point = np.zeros(3)
        for _ in range(6):
            error = target - self.to_ecef(point)[0]
            if float(np.linalg.norm(error)) < 1e-7:
                break
            point = point + np.linalg.solve(self.jacobian(point), error)
        return point

    def camera_to_model(self, camera: GlobeCamera) -> Camera:
        position = self.to_model(camera.position)
        inverse = np.linalg.inv(self.jacobian(position))
        return Camera(
            position=(float(position[0]), float(position[1]), float(position[2])),
            direction=_unit(inverse @ np.asarray(camera.direction)),
            up=_unit(inverse @ np.asarray(camera.up)),
            field_of_view=camera.field_of_view,
            aspect_ratio=camera.aspect_ratio,
            view_to_world_scale=_scaled(camera.view_to_world_scale, inverse, camera.up),
        )

    def camera_to_globe(self, camera: Camera) -> GlobeCamera:
        position = np.asarray(camera.position, dtype=np.float64)
        forward = self.jacobian(position)
        x, y, z = (float(v) for v in self.to_ecef(position)[0])
        return GlobeCamera(
            position=(x, y, z),
            direction=_unit(forward @ np.asarray(camera.direction)),
            up=_unit(forward @ np.asarray(camera.up)),
            field_of_view=camera.field_of_view,
            aspect_ratio=camera.aspect_ratio,
            view_to_world_scale=_scaled(camera.view_to_world_scale, forward, camera.up),
        )


def engineering_frame(ifc_path: Path, convert_params: dict[str, Any] | None = None) -> EngineeringFrame:
    """The frame of an uploaded IFC revision (its source file and stored conversion parameters)."""
    fields = {k: v for k, v in (convert_params or {}).items() if k in ConvertOptions.__dataclass_fields__}
    for key in ("origin", "default_location"):
        if fields.get(key) is not None:
            fields[key] = tuple(fields[key])
    return EngineeringFrame(resolve(open_model(ifc_path), ConvertOptions(**fields)))
