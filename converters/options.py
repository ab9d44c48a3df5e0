"""Options shared by every converter (the library form of ``cim convert``'s flags)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

ProgressCallback = Callable[[float, str], None]
"""Called with a fraction 0..1 and a short message; may raise ConversionCancelled."""

# Kangbashi district seat, Ordos (lon, lat, ellipsoidal height in metres): where inputs with no
# georeferencing are placed when the caller explicitly allows it.
DEFAULT_LOCATION: tuple[float, float, float] = (109.790, 39.608, 1290.0)


@dataclass(slots=True)
class ConvertOptions:
    # georeferencing overrides
    crs: str | None = None  # e.g. "EPSG:4546" or "EPSG:4546+5737"
    origin: tuple[float, float, float] | None = None  # E, N, H in the CRS's units
    rotation_deg: float = 0.0  # rotation from local x to grid east, counter-clockwise
    scale: float = 1.0
    up: Literal["z", "y"] = "z"  # up axis of meshes that carry none
    allow_ungeoreferenced: bool = False  # IFC: place at default_location instead of refusing
    local: bool = False  # survey: treat coordinates as local metres at default_location
    default_location: tuple[float, float, float] = DEFAULT_LOCATION
    geoid_grid: str | None = None  # GTX/GeoTIFF geoid for Yellow Sea 1985 heights (EPSG:5737); None: EGM96
    # IFC
    include_spaces: bool = False
    element_timeout_s: float = 30.0
    # performance
    jobs: int | None = None  # None: all cores
    memory_mb: int = 1024
    compress: bool = True
    # building footprints
    height_field: str | None = None
    floors_field: str | None = None
    storey_height: float = 3.0
    base_field: str | None = None
    base_height: float | None = None  # base elevation when there is no base_field (CRS vertical units)
    # survey tables (pipelines)
    column_map: dict[str, str] | None = None  # field (point_id, ground_elevation, …) → this upload's column name
    strict: bool = False  # refuse the whole upload when any row is refused
    # plumbing
    kind: str | None = None  # force a converter; None: detect from the file
    progress: ProgressCallback | None = None

    def report_progress(self, fraction: float, message: str) -> None:
        if self.progress is not None:
            self.progress(max(0.0, min(1.0, fraction)), message)
