"""Geometry lying kilometres from the local origin its georeferencing declares.

Called by :func:`converters.ifc.elements.collect` once the geometry's engineering extent is known
(metres, ``lo``/``hi``), before any vertex is georeferenced:

- ``IfcSite`` georeferencing (RefLatitude/RefLongitude at the site's placement origin): when the
  geometry's plan box lies more than ``FAR_M`` from that origin, the coordinates are taken for raw
  map coordinates and :func:`converters.ifc.crs_search.search` looks for the projected CRS that puts
  them at the site point. Exactly one fitting grid: the model is placed by that CRS (frame at the
  geometry, report says which CRS, how far the site point is, and the equivalents); otherwise
  :class:`GeoreferencingError` in one line naming the distance and asking for ``--crs``.
- ``--crs`` without ``--origin`` (coordinates are map coordinates): the geometry must lie inside the
  CRS's area of use.
- the default location (``--allow-ungeoreferenced``): far geometry is moved so that its plan centre
  sits at the default location (the model has no position of its own), and the report says so.

Map conversions keep their geometry where the map says (the frame then moves to the geometry for
float precision, see :mod:`.elements`). :func:`check_placed` is the last guard: after conversion the
geometry's ENU box must lie within the allowed distance of the point the georeferencing declares.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from converters.errors import GeoreferencingError
from converters.georef import parse_crs
from converters.ifc.map_conversion import IfcGeoreference, SiteReference, map_georeference

FAR_M = 1000.0  # geometry farther than this from the site's origin is not in site coordinates
SITE_TOLERANCE_M = 50.0  # how far outside the geometry's plan box the site point may lie
AREA_MARGIN_DEG = 0.5


def _plan_distance(point: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    outside = np.maximum(np.maximum(lo[:2] - point[:2], point[:2] - hi[:2]), 0.0)
    return float(np.hypot(*outside))


def _km(metres: float) -> str:
    return f"{metres / 1000:,.1f} km" if metres < 100_000 else f"{metres / 1000:,.0f} km"


def tolerance_m(site: SiteReference) -> float:
    """The site point is trusted to ``SITE_TOLERANCE_M``, or half the resolution it was written with."""
    return max(SITE_TOLERANCE_M, site.resolution_m / 2)


def place(georef: IfcGeoreference, lo: np.ndarray, hi: np.ndarray) -> IfcGeoreference:
    """The georeference to use for geometry spanning ``lo``..``hi`` (engineering metres)."""
    lo, hi = np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
    if georef.site is not None and georef.source == "IfcSite":
        distance = _plan_distance(georef.site.anchor, lo, hi)
        if distance <= FAR_M:
            return georef
        return _detect_crs(georef, georef.site, lo, hi)
    if georef.details.get("map_coordinates"):
        _check_area_of_use(georef, lo, hi)
        return georef
    if georef.source == "default-location" and _plan_distance(np.zeros(3), lo, hi) > FAR_M:
        return _recentre(georef, lo, hi)
    return georef


def _where(site: SiteReference, lo: np.ndarray, hi: np.ndarray) -> str:
    centre = (lo + hi) / 2
    distance = float(np.hypot(*(centre[:2] - site.anchor[:2])))
    return (
        f"the geometry lies {_km(distance)} from the IfcSite origin, the only georeferencing "
        f"(RefLatitude {site.lat:.5f}, RefLongitude {site.lon:.5f})"
    )


def _detect_crs(georef: IfcGeoreference, site: SiteReference, lo: np.ndarray, hi: np.ndarray) -> IfcGeoreference:
    from converters.ifc.crs_search import search  # pyproj's database: only for far coordinates

    tolerance = tolerance_m(site)
    result = search(site.lon, site.lat, lo, hi, tolerance)
    if not result.grids:
        nearest = (
            f"; nearest {result.nearest.crs} puts it {_km(result.nearest.distance_m)} from the site"
            if result.nearest is not None
            else ""
        )
        raise GeoreferencingError(
            f"{_where(site, lo, hi)}; none of the {result.checked} projected CRSs of that area puts its coordinates "
            f"within {tolerance:.0f} m of the site point{nearest}: pass --crs EPSG:<code> if they are map coordinates"
        )
    if len(result.grids) > 1:
        names = ", ".join(g.chosen.crs for g in result.grids)
        raise GeoreferencingError(
            f"{_where(site, lo, hi)}; its coordinates fit {len(result.grids)} different projected CRSs "
            f"within {tolerance:.0f} m of the site point ({names}): pass --crs with the right one"
        )
    grid = result.grids[0]
    chosen = grid.chosen
    offset = _vertical_offset(site, float(lo[2]))
    centre = np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2]])
    details = {
        "crs_detection": {
            "reason": _where(site, lo, hi),
            "chosen": chosen.as_report(),
            "tolerance_m": round(tolerance, 2),
            "candidates_checked": result.checked,
            "equivalent": grid.equivalents(),
            "heights": "z taken as heights of the grid"
            if offset == 0.0
            else "z taken relative to IfcSite RefElevation",
            "true_north_ignored_deg": georef.details.get("rotation_deg", 0.0),
        },
        "ref_latitude": site.lat,
        "ref_longitude": site.lon,
    }
    placed = map_georeference(
        chosen.crs, 0.0, 0.0, offset, 0.0, 1.0, 1.0, "IfcSite+detected-CRS", "medium", details, frame_point=centre
    )
    return replace(placed, site=site)


def _vertical_offset(site: SiteReference, z_min: float) -> float:
    """0 when the z values already look like heights near RefElevation, else RefElevation."""
    return 0.0 if abs(z_min - site.elevation_m) <= abs(z_min) else site.elevation_m


def _check_area_of_use(georef: IfcGeoreference, lo: np.ndarray, hi: np.ndarray) -> None:
    area = parse_crs(str(georef.map_crs)).area_of_use
    centre = ((lo + hi) / 2).reshape(1, 3)
    lon, lat, _ = georef.frame.enu_to_geodetic(georef.to_enu(centre))[0]
    if area is None:
        return
    west, south, east, north = area.bounds
    inside_lon = west - AREA_MARGIN_DEG <= lon <= east + AREA_MARGIN_DEG or west > east
    if not (inside_lon and south - AREA_MARGIN_DEG <= lat <= north + AREA_MARGIN_DEG) or not math.isfinite(lon):
        raise GeoreferencingError(
            f"read as map coordinates of {georef.map_crs}, the geometry's centre ({centre[0, 0]:.0f}, "
            f"{centre[0, 1]:.0f}) falls at lon {lon:.4f}, lat {lat:.4f}, outside that CRS's area of use: "
            "pass --origin E,N,H if its coordinates are local"
        )


def _recentre(georef: IfcGeoreference, lo: np.ndarray, hi: np.ndarray) -> IfcGeoreference:
    shift = np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, 0.0])
    inner = georef.to_enu

    def to_enu(points: np.ndarray) -> np.ndarray:
        return inner(np.asarray(points, dtype=np.float64) - shift)

    details = {
        **georef.details,
        "recentred": {
            "shift_m": [float(v) for v in shift],
            "note": f"geometry {_km(float(np.hypot(*shift[:2])))} from its own origin moved to the default location",
        },
    }
    return replace(georef, to_enu=to_enu, details=details)


def check_placed(georef: IfcGeoreference, lo_enu: np.ndarray, hi_enu: np.ndarray) -> None:
    """Refuse a result whose geometry lies far from the place its georeferencing declares."""
    site = georef.site
    if site is None:
        return
    if georef.source == "IfcSite":
        declared, limit = georef.to_enu(site.anchor.reshape(1, 3))[0], FAR_M
    else:
        declared = georef.frame.geodetic_to_enu(site.lon, site.lat, georef.frame.height)[0]
        limit = tolerance_m(site)
    distance = _plan_distance(declared, np.asarray(lo_enu), np.asarray(hi_enu))
    if distance > limit:
        raise GeoreferencingError(
            f"the converted geometry lies {_km(distance)} from the point its georeferencing declares "
            f"(RefLatitude {site.lat:.5f}, RefLongitude {site.lon:.5f}): pass --crs (and --origin) to place it"
        )
