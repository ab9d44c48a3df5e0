"""Do a file's coordinates fit the CRS it declares? Checked on the header bounds before the CRS is used.

Real files carry wrong CRS records (a terrestrial scan declaring EPSG:4326 while its X/Y are UTM
metres). Used anyway, such a CRS fails deep inside the transform with a message that tells the user
nothing (the geoid grid "has no value"), or puts the data on the wrong continent. Rules:

* geographic CRS: X (longitude) within ±180°, Y (latitude) within ±90°;
* projected CRS with an area of use: the bounds' corners and centre, transformed to WGS84, lie inside
  that area widened by :func:`margin_deg` (data a little past a zone's edge is common and fine);
* projected CRS without an area of use (user-defined, WKT without an EPSG identity): the corners
  must at least transform to finite positions.

A contradiction raises :class:`GeoreferencingError` (a data error: one line, CLI exit code 2) naming
the CRS, the bounds and the override.
"""

from __future__ import annotations

import numpy as np
import pyproj
from numpy.typing import NDArray
from pyproj import CRS, Transformer

from converters.errors import GeoreferencingError
from converters.georef import crs_label

_SOURCES = {"wkt": "the file's WKT record declares", "geotiff": "the file's GeoTIFF keys declare",
            "user": "--crs gives"}


def margin_deg(west: float, south: float, east: float, north: float) -> float:
    """How far outside the area of use coordinates may lie: a quarter of its size, at least 1°."""
    return max(1.0, 0.25 * max(east - west, north - south))


def check_bounds(crs: CRS, mins: NDArray[np.float64], maxs: NDArray[np.float64], source: str, name: str) -> None:
    """Raise :class:`GeoreferencingError` when the X/Y bounds cannot be coordinates of ``crs``."""
    horizontal = _horizontal(crs)
    x0, y0, x1, y1 = float(mins[0]), float(mins[1]), float(maxs[0]), float(maxs[1])
    bounds = f"X {x0:.10g} to {x1:.10g}, Y {y0:.10g} to {y1:.10g}"
    fix = _fix(source)
    if horizontal.is_geographic:
        if not (-180.0 <= x0 and x1 <= 180.0 and -90.0 <= y0 and y1 <= 90.0):
            raise GeoreferencingError(
                f"{_declared(crs, source, name)}, a geographic CRS, but the coordinates ({bounds}) are not "
                f"longitudes within ±180° and latitudes within ±90°; {fix}"
            )
        return
    xs = np.array([x0, x1, x1, x0, (x0 + x1) / 2])
    ys = np.array([y0, y0, y1, y1, (y0 + y1) / 2])
    try:
        lon, lat = Transformer.from_crs(horizontal, "EPSG:4326", always_xy=True).transform(xs, ys)
    except pyproj.exceptions.ProjError:
        lon = lat = np.full(5, np.inf)
    lon, lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    if not (np.all(np.isfinite(lon)) and np.all(np.isfinite(lat))):
        raise GeoreferencingError(
            f"{_declared(crs, source, name)}, but the coordinates ({bounds}) lie outside its valid range; {fix}"
        )
    area = horizontal.area_of_use
    if area is None:
        return
    margin = margin_deg(area.west, area.south, area.east, area.north)
    east = area.east if area.east >= area.west else area.east + 360.0  # areas crossing the antimeridian
    lon_east = np.where(lon < area.west - margin, lon + 360.0, lon)
    inside = (lon_east >= area.west - margin) & (lon_east <= east + margin)
    inside &= (lat >= area.south - margin) & (lat <= area.north + margin)
    if not np.all(inside):
        centre = f"{lon[-1]:.4f}°, {lat[-1]:.4f}°"
        raise GeoreferencingError(
            f"{_declared(crs, source, name)}, but the coordinates ({bounds}) fall at lon/lat {centre}, "
            f"outside its area of use (lon {area.west:g}° to {area.east:g}°, lat {area.south:g}° to "
            f"{area.north:g}°); {fix}"
        )


def _declared(crs: CRS, source: str, name: str) -> str:
    label = crs_label(crs)  # may search the whole database for a CRS without EPSG code: only on error
    horizontal = _horizontal(crs).name
    named = f" ({horizontal})" if horizontal != label else ""
    return f"{name}: {_SOURCES.get(source, 'the file declares')} {label}{named}"


def _fix(source: str) -> str:
    if source == "user":
        return "give the CRS the coordinates are in with --crs"
    return "the file's CRS record is wrong: override it with --crs and the CRS the coordinates are in"


def _horizontal(crs: CRS) -> CRS:
    if crs.is_compound:
        return next((p for p in crs.sub_crs_list if not p.is_vertical), crs)
    return crs
