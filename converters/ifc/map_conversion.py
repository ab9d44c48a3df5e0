"""The georeference of an IFC model, and building one from a map conversion (pyproj; no ifcopenshell).

:class:`IfcGeoreference` is what :mod:`.georeference` finds and :mod:`.elements` applies.
:class:`MapConversion` is what a map conversion says (read from the model by :mod:`.georeference`);
:meth:`MapConversion.georeference` builds the georeference from it with pyproj. This module imports
no ifcopenshell, so that a forked helper (:mod:`.georef_service`) can build it while the converting
process imports ifcopenshell and reads the model.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from converters.errors import GeoreferencingError
from converters.georef import LocalFrame, MapToLocal, parse_crs


@dataclass(frozen=True, slots=True)
class SiteReference:
    """IfcSite RefLatitude/RefLongitude/RefElevation and where the site's placement origin lies."""

    lon: float
    lat: float
    elevation_m: float
    anchor: np.ndarray  # engineering metres of the site's placement origin
    resolution_m: float  # how finely the compound angles were written (1" ≈ 31 m)


@dataclass(slots=True)
class IfcGeoreference:
    source: str
    confidence: str
    frame: LocalFrame
    to_enu: Callable[[np.ndarray], np.ndarray]  # (N, 3) engineering metres → ENU metres in frame
    details: dict[str, Any] = field(default_factory=dict)
    site: SiteReference | None = None  # set for IfcSite georeferencing
    map_crs: str | None = None  # the map CRS when engineering coordinates go through one

    def report(self) -> dict[str, Any]:
        return {"source": self.source, "confidence": self.confidence, **self.details, "origin": self.frame.as_report()}


def rotation(theta: float) -> np.ndarray:
    c, s = math.cos(theta), math.sin(theta)
    return np.array([[c, -s], [s, c]])


def map_georeference(
    crs: str,
    eastings: float,
    northings: float,
    height: float,
    theta: float,
    scale: float,
    unit_m: float,
    source: str,
    confidence: str,
    details: dict[str, Any],
    factors: tuple[float, float, float] = (1.0, 1.0, 1.0),
    frame_point: np.ndarray | None = None,
) -> IfcGeoreference:
    """Engineering metres → map (E, N, H given in ``unit_m`` metres) → local ENU.

    ``factors``: IFC4.3 ``IfcMapConversionScaled`` FactorX/FactorY/FactorZ, applied to the
    engineering axes before the rotation. The local frame sits at the map origin, or at the
    engineering point ``frame_point`` (metres) when given."""
    crs_obj = parse_crs(crs)
    probe = MapToLocal(crs_obj, LocalFrame(0.0, 0.0, 0.0))
    horizontal_unit = probe.horizontal.axis_info[0].unit_conversion_factor if probe.horizontal.is_projected else None
    if horizontal_unit is None:
        raise GeoreferencingError(f"{crs}: a map conversion needs a projected CRS")
    vertical_unit = probe.vertical_unit
    origin_m = np.array([eastings, northings, height], dtype=np.float64) * unit_m
    turn = rotation(theta) * scale @ np.diag(factors[:2])

    def to_map(points: np.ndarray) -> np.ndarray:
        out = np.empty_like(points, dtype=np.float64)
        out[:, :2] = (origin_m[:2] + points[:, :2] @ turn.T) / horizontal_unit
        out[:, 2] = (origin_m[2] + points[:, 2] * factors[2]) / vertical_unit
        return out

    origin_map = to_map(np.zeros((1, 3)))[0]
    anchor = np.zeros((1, 3)) if frame_point is None else np.asarray(frame_point, dtype=np.float64).reshape(1, 3)
    # The probe's transformer serves the frame and the conversion too (PROJ's set-up of one costs
    # ~15 ms, a large share of a small model's conversion): what MapToLocal.frame_at and a second
    # MapToLocal(crs_obj, frame) would compute, without building two more.
    lon, lat, h = probe.to_geodetic(to_map(anchor))[0]
    frame = LocalFrame(float(lon), float(lat), float(h))
    to_local = copy.copy(probe)
    to_local.frame = frame
    details = {
        **details,
        "crs": to_local.report()["crs"],
        "map_origin": [float(v) for v in origin_map],
        "rotation_deg": math.degrees(theta),
        "grid_scale": scale,
        "heights": to_local.report(),
    }
    return IfcGeoreference(
        source, confidence, frame, lambda p: to_local.to_enu(to_map(p)), details, map_crs=details["crs"]
    )


@dataclass(frozen=True, slots=True)
class MapConversion:
    """A map conversion as the model states it: map = (E, N, H)·unit_m + scale·R(theta)·(x, y)."""

    crs: str
    eastings: float
    northings: float
    height: float
    theta: float
    scale: float
    unit_m: float
    source: str
    confidence: str
    details: dict[str, Any]
    factors: tuple[float, float, float] = (1.0, 1.0, 1.0)

    def georeference(self) -> IfcGeoreference:
        return map_georeference(
            self.crs,
            self.eastings,
            self.northings,
            self.height,
            self.theta,
            self.scale,
            self.unit_m,
            self.source,
            self.confidence,
            self.details,
            self.factors,
        )
