"""The coordinate reference system of a LAS/LAZ file, from its WKT and GeoTIFF-key records.

A file may carry an OGC WKT record, GeoTIFF keys, both, or none; both may disagree. The rule used:

* a ``--crs`` given by the user wins (and the report says the file's own records were overridden);
* LAS 1.4 files whose global encoding has the WKT bit set: the WKT record is authoritative (spec);
* otherwise the GeoTIFF keys are used when they resolve to a CRS, else the WKT record.

When both records resolve and place the file's centre more than :data:`AGREEMENT_TOLERANCE_M` apart,
the report lists the conflict and which one was used.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyproj
from pyproj import CRS, Transformer
from pyproj.crs import CompoundCRS, CoordinateOperation, ProjectedCRS  # type: ignore[attr-defined]  # public, not in __all__
from pyproj.crs import coordinate_operation as ops
from pyproj.crs.enums import Cartesian2DCSAxis

from converters.georef import crs_label, parse_crs

AGREEMENT_TOLERANCE_M = 1.0
USER_DEFINED = 32767

# GeoTIFF ProjLinearUnitsGeoKey codes → 2D axis definitions
_LINEAR_UNITS: dict[int, tuple[Cartesian2DCSAxis, float, str]] = {
    9001: (Cartesian2DCSAxis.EASTING_NORTHING, 1.0, "metre"),
    9002: (Cartesian2DCSAxis.EASTING_NORTHING_FT, 0.3048, "international foot"),
    9003: (Cartesian2DCSAxis.EASTING_NORTHING_US_FT, 1200 / 3937, "US survey foot"),
}


@dataclass(slots=True)
class CrsDetection:
    crs: CRS | None
    source: str  # "user", "wkt", "geotiff", "none"
    records: dict[str, str] = field(default_factory=dict)  # what each record says
    conflict: str | None = None
    notes: list[str] = field(default_factory=list)

    def report(self) -> dict[str, Any]:
        return {
            "crs": _label(self.crs) if self.crs is not None else None,
            "source": self.source,
            "file_records": self.records,
            "conflict": self.conflict,
            "notes": self.notes,
        }


def detect_crs(header: Any, user_crs: str | None, centre: tuple[float, float]) -> CrsDetection:
    """The CRS to use for a laspy ``header``; ``centre`` is the file's (x, y) centre in file units."""
    wkt_crs, wkt_note = _from_wkt(header)
    tiff_crs, tiff_note = _from_geotiff(header)
    records: dict[str, str] = {}
    notes = [note for note in (wkt_note, tiff_note) if note]
    if wkt_crs is not None:
        records["wkt"] = _label(wkt_crs)
    if tiff_crs is not None:
        records["geotiff"] = _label(tiff_crs)
    conflict = None
    if wkt_crs is not None and tiff_crs is not None and not _agree(wkt_crs, tiff_crs, centre):
        conflict = f"WKT record says {records['wkt']}, GeoTIFF keys say {records['geotiff']}"
    if user_crs:
        crs = parse_crs(user_crs)
        if records:
            notes.append(f"--crs {user_crs} overrides the file's own records ({', '.join(records.values())})")
        return CrsDetection(crs, "user", records, conflict, notes)
    wkt_first = bool(getattr(header.global_encoding, "wkt", False))
    ordered = [("wkt", wkt_crs), ("geotiff", tiff_crs)] if wkt_first else [("geotiff", tiff_crs), ("wkt", wkt_crs)]
    for source, found in ordered:
        if found is not None:
            if conflict:
                reason = "the global encoding's WKT bit is set" if wkt_first else "LAS before 1.4 uses GeoTIFF keys"
                conflict += f"; used the {source} record ({reason})"
            return CrsDetection(found, source, records, conflict, notes)
    return CrsDetection(None, "none", records, None, notes)


_LABELS: dict[str, str] = {}


def _label(crs: CRS) -> str:
    """``crs_label`` memoised by WKT: identifying a CRS without EPSG code searches the whole database."""
    key = crs.to_wkt()
    if key not in _LABELS:
        _LABELS[key] = crs_label(crs)
    return _LABELS[key]


def _agree(a: CRS, b: CRS, centre: tuple[float, float]) -> bool:
    try:
        lon_a, lat_a = Transformer.from_crs(_horizontal(a), "EPSG:4326", always_xy=True).transform(*centre)
        lon_b, lat_b = Transformer.from_crs(_horizontal(b), "EPSG:4326", always_xy=True).transform(*centre)
    except pyproj.exceptions.ProjError:
        return False
    if not all(np.isfinite([lon_a, lat_a, lon_b, lat_b])):
        return False
    _, _, distance = pyproj.Geod(ellps="WGS84").inv(lon_a, lat_a, lon_b, lat_b)
    same_vertical = (a.is_compound == b.is_compound)
    return bool(distance <= AGREEMENT_TOLERANCE_M and same_vertical)


def _horizontal(crs: CRS) -> CRS:
    if crs.is_compound:
        return next(part for part in crs.sub_crs_list if not part.is_vertical)
    return crs


def _from_wkt(header: Any) -> tuple[CRS | None, str | None]:
    for vlr in list(header.vlrs) + list(getattr(header, "evlrs", None) or []):
        if vlr.record_id != 2112 or vlr.user_id not in ("LASF_Projection", "liblas"):
            continue
        raw = getattr(vlr, "string", None)
        if raw is None:
            raw = bytes(getattr(vlr, "record_data", b"")).decode("utf-8", "replace")
        text = raw.strip("\x00 \n")
        if not text:
            continue
        try:
            return CRS.from_wkt(text), None
        except pyproj.exceptions.CRSError:
            return None, "the WKT record could not be read"
    return None, None


def _geokeys(header: Any) -> tuple[dict[int, Any], list[float], str] | None:
    keys: dict[int, tuple[int, int, int]] | None = None
    doubles: list[float] = []
    ascii_text = ""
    for vlr in header.vlrs:
        name = type(vlr).__name__
        if name == "GeoKeyDirectoryVlr":
            keys = {k.id: (k.tiff_tag_location, k.count, k.value_offset) for k in vlr.geo_keys if k.id}
        elif name == "GeoDoubleParamsVlr":
            doubles = [float(getattr(d, "value", d)) for d in vlr.doubles]
        elif name == "GeoAsciiParamsVlr":
            ascii_text = "".join(vlr.strings)
    if keys is None:
        return None
    values: dict[int, Any] = {}
    for key_id, (location, count, offset) in keys.items():
        if location == 0:
            values[key_id] = offset
        elif location == 34736 and offset < len(doubles):
            values[key_id] = doubles[offset]
        elif location == 34737:
            values[key_id] = ascii_text[offset : offset + count].strip("|\x00 ")
    return values, doubles, ascii_text


def _from_geotiff(header: Any) -> tuple[CRS | None, str | None]:
    parsed = _geokeys(header)
    if parsed is None:
        return None, None
    keys, _, _ = parsed
    try:
        horizontal = _horizontal_from_keys(keys)
    except (pyproj.exceptions.CRSError, KeyError, ValueError) as error:
        return None, f"the GeoTIFF keys could not be read ({str(error)[:80]})"
    if horizontal is None:
        return None, None
    vertical_code = keys.get(4096)
    if isinstance(vertical_code, int) and 0 < vertical_code < USER_DEFINED:
        with contextlib.suppress(pyproj.exceptions.CRSError):
            vertical = CRS.from_epsg(vertical_code)
            return CompoundCRS(f"{horizontal.name} + {vertical.name}", [horizontal, vertical]), None
    return horizontal, None


def _horizontal_from_keys(keys: dict[int, Any]) -> CRS | None:
    projected = keys.get(3072)
    if isinstance(projected, int) and 0 < projected < USER_DEFINED:
        return CRS.from_epsg(projected)
    if projected == USER_DEFINED or 3075 in keys:
        return _user_defined_projected(keys)
    geographic = keys.get(2048)
    if isinstance(geographic, int) and 0 < geographic < USER_DEFINED:
        return CRS.from_epsg(geographic)
    return None


def _geodetic_from_keys(keys: dict[int, Any]) -> CRS:
    geographic = keys.get(2048)
    if isinstance(geographic, int) and 0 < geographic < USER_DEFINED:
        return CRS.from_epsg(geographic)
    datum = keys.get(2050)
    if isinstance(datum, int) and 6000 <= datum < 7000:
        return CRS.from_epsg(datum - 2000)  # EPSG convention: datum 6xxx ↔ geographic CRS 4xxx
    a, rf = keys.get(2057), keys.get(2059)
    if isinstance(a, float) and isinstance(rf, float):
        return CRS.from_proj4(f"+proj=longlat +a={a} +rf={rf} +no_defs")
    raise ValueError("no geographic CRS, datum or ellipsoid")


def _user_defined_projected(keys: dict[int, Any]) -> CRS:
    unit_code = keys.get(3076, 9001)
    if unit_code not in _LINEAR_UNITS:
        raise ValueError(f"linear unit code {unit_code}")
    axis, to_metre, _ = _LINEAR_UNITS[unit_code]
    method = keys.get(3075)

    def param(*ids: int, default: float = 0.0) -> float:
        for key_id in ids:
            if isinstance(keys.get(key_id), float):
                return float(keys[key_id])
        return default

    false_easting = param(3082, 3086) * to_metre
    false_northing = param(3083, 3087) * to_metre
    conversion: CoordinateOperation
    if method == 1:  # TransverseMercator
        conversion = ops.TransverseMercatorConversion(
            latitude_natural_origin=param(3081, 3085),
            longitude_natural_origin=param(3080, 3084, 3088),
            false_easting=false_easting,
            false_northing=false_northing,
            scale_factor_natural_origin=param(3092, default=1.0),
        )
    elif method == 8:  # LambertConfConic_2SP
        conversion = ops.LambertConformalConic2SPConversion(
            latitude_first_parallel=param(3078),
            latitude_second_parallel=param(3079),
            latitude_false_origin=param(3085, 3081),
            longitude_false_origin=param(3084, 3080),
            easting_false_origin=false_easting,
            northing_false_origin=false_northing,
        )
    elif method == 9:  # LambertConfConic_1SP
        conversion = ops.LambertConformalConic1SPConversion(
            latitude_natural_origin=param(3081, 3085),
            longitude_natural_origin=param(3080, 3084),
            false_easting=false_easting,
            false_northing=false_northing,
            scale_factor_natural_origin=param(3092, default=1.0),
        )
    else:
        raise ValueError(f"projection method code {method} is not supported")
    from pyproj.crs.coordinate_system import Cartesian2DCS

    return ProjectedCRS(
        conversion=conversion,
        geodetic_crs=_geodetic_from_keys(keys),
        cartesian_cs=Cartesian2DCS(axis=axis),
        name=str(keys.get(3073) or keys.get(1026) or "user-defined projection"),
    )
