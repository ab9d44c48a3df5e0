"""Where survey data sits on the globe: file coordinates → local ENU metres of one :class:`LocalFrame`.

Three cases, shared by point clouds and meshes:

* **map coordinates** (the file's CRS, or ``--crs``): exact pyproj transform through
  :class:`converters.georef.MapToLocal`, frame at the data's centre;
* **engineering coordinates placed by ``--origin``** (with optional ``--rotation`` counter-clockwise
  from local x to grid east, and ``--scale``): ``map = origin + R(rotation) · scale · xyz``, in the
  units of ``--crs``; without ``--crs`` the origin is WGS84 longitude, latitude, ellipsoidal height
  and local axes are east, north, up;
* **``--local``**: coordinates are metres; the data's horizontal centre and lowest point are put at the
  configured default location.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS

from converters.errors import GeoreferencingError
from converters.georef import LocalFrame, MapToLocal, parse_crs
from converters.options import ConvertOptions

ToEnu = Callable[[NDArray[np.float64]], NDArray[np.float64]]


@dataclass(slots=True)
class Placement:
    frame: LocalFrame
    to_enu: ToEnu  # exact (N, 3) file coordinates → (N, 3) ENU metres
    mode: str  # "crs", "origin", "local"
    details: dict[str, Any] = field(default_factory=dict)

    def report(self) -> dict[str, Any]:
        return {"mode": self.mode, "frame": self.frame.as_report(), **self.details}


def _rotation_scale(options: ConvertOptions) -> NDArray[np.float64]:
    angle = math.radians(options.rotation_deg)
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]) * float(options.scale)


def place_in_crs(crs: str | CRS, lo: ArrayLike, hi: ArrayLike, z_unit_factor: float | None = None) -> Placement:
    """Coordinates are map coordinates of ``crs``; the frame sits at the bounding box centre."""
    centre = tuple(float(v) for v in (np.asarray(lo) + np.asarray(hi)) / 2)
    probe = MapToLocal(crs, LocalFrame(0.0, 0.0, 0.0), z_unit_factor=z_unit_factor)
    lon, lat, h = probe.to_geodetic(np.array([centre]))[0]
    frame = LocalFrame(float(lon), float(lat), float(h))
    to_local = MapToLocal(crs, frame, z_unit_factor=z_unit_factor)
    return Placement(frame, to_local.to_enu, "crs", {"crs": to_local.report()})


def place_at_origin(options: ConvertOptions) -> Placement:
    """Engineering coordinates placed by ``options.origin`` (and rotation/scale, optional crs)."""
    assert options.origin is not None
    matrix = _rotation_scale(options)
    origin = np.asarray(options.origin, dtype=np.float64)
    details: dict[str, Any] = {"origin": [float(v) for v in origin], "rotation_deg": options.rotation_deg,
                               "scale": options.scale}
    if options.crs:
        crs = parse_crs(options.crs)
        frame = MapToLocal.frame_at(crs, (origin[0], origin[1], origin[2]))
        to_local = MapToLocal(crs, frame)
        details["crs"] = to_local.report()

        def to_enu(xyz: NDArray[np.float64]) -> NDArray[np.float64]:
            return to_local.to_enu(np.asarray(xyz, dtype=np.float64) @ matrix.T + origin)

        return Placement(frame, to_enu, "origin", details)
    try:
        frame = LocalFrame(float(origin[0]), float(origin[1]), float(origin[2]))
    except GeoreferencingError as error:
        raise GeoreferencingError(f"--origin without --crs is WGS84 lon, lat, height: {error}") from error
    details["crs"] = {"crs": "EPSG:4979 (origin only)", "heights": "ellipsoidal"}
    return Placement(frame, lambda xyz: np.asarray(xyz, dtype=np.float64) @ matrix.T, "origin", details)


def place_local(options: ConvertOptions, lo: NDArray[np.float64], hi: NDArray[np.float64]) -> Placement:
    """Local metres; horizontal centre and lowest point go to ``options.default_location``."""
    lon, lat, h = options.default_location
    frame = LocalFrame(float(lon), float(lat), float(h))
    shift = np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2]], dtype=np.float64)
    matrix = _rotation_scale(options)
    details = {"default_location": [lon, lat, h], "shift_applied": [float(v) for v in shift],
               "note": "no georeferencing: placed at the configured default location (--local)"}
    return Placement(frame, lambda xyz: (np.asarray(xyz, dtype=np.float64) - shift) @ matrix.T, "local", details)
