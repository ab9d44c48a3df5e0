"""``metadata.xml`` of an OSGB delivery: the SRS (``EPSG:…``, WKT, or ``ENU:lat,lon``) and the SRS origin
the vertex coordinates are relative to; and the georeferencing it implies (map → local ENU)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from converters.errors import ConversionError, GeoreferencingError
from converters.georef import LocalFrame, MapToLocal, parse_crs

_ENU = re.compile(r"^\s*ENU\s*:\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Georeference:
    """Vertices are ``origin + v`` in ``srs`` (or ENU metres at ``enu_origin``)."""

    srs: str
    origin: tuple[float, float, float]
    enu_origin: tuple[float, float] | None = None  # (lat, lon) of an ENU:lat,lon SRS

    @cached_property
    def frame(self) -> LocalFrame:
        if self.enu_origin is not None:
            lat, lon = self.enu_origin
            return LocalFrame(lon, lat, 0.0)
        return MapToLocal.frame_at(self.srs, self.origin)

    @cached_property
    def _map(self) -> MapToLocal | None:
        return None if self.enu_origin is not None else MapToLocal(self.srs, self.frame)

    def to_enu(self, vertices: NDArray[np.float64]) -> NDArray[np.float64]:
        """(N, 3) file vertices → (N, 3) ENU metres of :attr:`frame`."""
        shifted: NDArray[np.float64] = np.asarray(vertices, dtype=np.float64) + np.asarray(self.origin)
        if self._map is None:
            return shifted
        return self._map.to_enu(shifted)

    def report(self) -> dict[str, Any]:
        info: dict[str, Any] = {"source": "metadata.xml", "srs": self.srs, "srs_origin": list(self.origin),
                                "frame": self.frame.as_report()}
        if self._map is not None:
            info["crs"] = self._map.report()
        return info


def _safe_xml(text: bytes) -> ET.Element:
    if b"<!DOCTYPE" in text.upper() or b"<!ENTITY" in text.upper():
        raise ConversionError("metadata.xml: DTDs and entities are not accepted")
    try:
        return ET.fromstring(text)  # noqa: S314  (no DTD or entities: checked above)
    except ET.ParseError as error:
        raise ConversionError(f"metadata.xml is not well-formed XML ({error})") from error


def read_metadata(text: bytes) -> Georeference:
    root = _safe_xml(text)
    srs_element = root.find(".//SRS")
    if srs_element is None or not (srs_element.text or "").strip():
        raise GeoreferencingError("metadata.xml names no SRS (<SRS>EPSG:4546</SRS>, WKT or ENU:lat,lon)")
    srs = (srs_element.text or "").strip()
    origin_element = root.find(".//SRSOrigin")
    origin_text = (origin_element.text or "0,0,0") if origin_element is not None else "0,0,0"
    try:
        numbers = [float(v) for v in re.split(r"[,\s]+", origin_text.strip()) if v]
    except ValueError:
        raise GeoreferencingError(f"metadata.xml: SRSOrigin {origin_text!r} is not numbers") from None
    if len(numbers) == 2:
        numbers.append(0.0)
    if len(numbers) != 3 or not all(np.isfinite(numbers)):
        raise GeoreferencingError(f"metadata.xml: SRSOrigin {origin_text!r} needs x,y[,z]")
    origin = (numbers[0], numbers[1], numbers[2])
    enu = _ENU.match(srs)
    if enu:
        lat, lon = float(enu.group(1)), float(enu.group(2))
        georef = Georeference(srs, origin, (lat, lon))
    else:
        parse_crs(srs)  # unknown SRS: a clear refusal
        georef = Georeference(srs, origin)
    georef.frame  # noqa: B018  (fails early when the origin lies outside the SRS's area)
    return georef
