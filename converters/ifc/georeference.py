"""Where an IFC model lies on the globe, from the sources the issue lists, in this order:

1. explicit options (``--crs --origin E,N,H [--rotation] [--scale]``) — confidence ``high``
2. IFC4/IFC4X3 ``IfcMapConversion`` + ``IfcProjectedCRS`` — ``high``
3. IFC2X3 ``ePSet_MapConversion`` / ``ePSet_ProjectedCRS`` property sets — ``medium``
4. ``IfcSite`` RefLatitude/RefLongitude/RefElevation with TrueNorth — ``low``
5. ``options.default_location`` when ``allow_ungeoreferenced`` — ``none``; otherwise refuse.

Engineering coordinates are metres (ifcopenshell's world coordinates). Map conversions follow
``map = (E, N, H)·unit + s·R(θ)·(x, y)`` with ``θ = atan2(XAxisOrdinate, XAxisAbscissa)``. Files
disagree about ``Scale`` (the IFC4.3 definition: project→map unit factor; one buildingSMART sample
writes its inverse, others put the grid scale there), so the effective grid scale is chosen among
the readings ``S``, ``S·p/m``, ``S·m/p`` and ``1/S`` (p, m: metres per project / map unit) as the
one closest to 1 — real grid scales lie within ±1 % — and the reading is reported.

Reading a map conversion (2, 3: :func:`read_map_conversion`, :func:`read_property_sets`) needs only
ifcopenshell; building its georeference (:class:`~.map_conversion.MapConversion`) needs only pyproj,
so a small model's can be built by a helper process (:mod:`.georef_service`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import ifcopenshell
import ifcopenshell.util.unit
import numpy as np

from converters.errors import GeoreferencingError
from converters.georef import LocalFrame, MapToLocal, geoid_undulation, parse_crs
from converters.ifc.map_conversion import IfcGeoreference, MapConversion, SiteReference, map_georeference, rotation
from converters.options import ConvertOptions

__all__ = [
    "HOW_TO",
    "IfcGeoreference",
    "MapConversion",
    "SiteReference",
    "from_options",
    "from_site",
    "map_conversion",
    "map_georeference",
    "read_map_conversion",
    "read_property_sets",
    "resolve",
]

HOW_TO = (
    "add an IfcMapConversion with an IfcProjectedCRS (e.g. EPSG:4546) to the model, or pass "
    "--crs EPSG:4546 --origin E,N,H, or --allow-ungeoreferenced to place it at the default location"
)


def _effective_scale(scale: float | None, project_m: float, map_m: float) -> tuple[float, str]:
    s = float(scale) if scale else 1.0
    readings = {
        "Scale as grid scale": s,
        "Scale as project-to-map unit factor (IFC4.3 definition)": s * map_m / project_m,
        "Scale as map-to-project unit factor (inverse convention)": s * project_m / map_m,
        "Scale inverted": 1 / s,
    }
    label, value = min(readings.items(), key=lambda kv: abs(math.log(abs(kv[1]) or 1e-12)))
    if not 0.9 < value < 1.1:
        raise GeoreferencingError(f"IfcMapConversion Scale={s} cannot be reconciled with the units of the model")
    return value, label


def _unit_m(unit: Any, default: float) -> float:
    if unit is None:
        return default
    try:
        return float(ifcopenshell.util.unit.get_full_unit_name(unit) and ifcopenshell.util.unit.get_unit_scale(unit))
    except Exception:
        prefix = getattr(unit, "Prefix", None)
        return {"MILLI": 0.001, "CENTI": 0.01, "DECI": 0.1, "KILO": 1000.0}.get(prefix or "", 1.0)


def _crs_name(name: str | None, vertical: str | None) -> str | None:
    if not name:
        return None
    crs = name.strip()
    if crs.isdigit():
        crs = f"EPSG:{crs}"
    if vertical and vertical.strip().upper().startswith("EPSG:") and "+" not in crs:
        crs = f"{crs}+{vertical.strip().split(':', 1)[1]}"
    return crs


def from_options(options: ConvertOptions) -> IfcGeoreference | None:
    """``--crs`` with ``--origin E,N,H``; ``--crs`` alone: the engineering coordinates are map
    coordinates of that CRS (in metres), the frame starts at the centre of its area of use and moves
    to the geometry (:mod:`.far_coordinates` checks the geometry lies inside the area of use)."""
    if not options.crs:
        return None
    theta = math.radians(options.rotation_deg)
    if options.origin is not None:
        e, n, h = options.origin
        return map_georeference(options.crs, e, n, h, theta, options.scale, 1.0, "explicit", "high", {})
    area = parse_crs(options.crs).area_of_use
    if area is None:
        raise GeoreferencingError(f"{options.crs} has no area of use; pass --origin E,N,H as well")
    west, south, east, north = area.bounds
    from pyproj import Transformer

    probe = MapToLocal(options.crs, LocalFrame(0.0, 0.0, 0.0))
    to_map = Transformer.from_crs("EPSG:4326", probe.horizontal, always_xy=True)
    e, n = to_map.transform((west + east) / 2, (south + north) / 2)
    unit = probe.horizontal.axis_info[0].unit_conversion_factor if probe.horizontal.is_projected else None
    if unit is None or not (math.isfinite(e) and math.isfinite(n)):
        raise GeoreferencingError(f"{options.crs}: --crs without --origin needs a projected CRS")
    details = {"note": "engineering coordinates taken as map coordinates of the CRS (--crs without --origin)"}
    georef = map_georeference(
        options.crs,
        0.0,
        0.0,
        0.0,
        theta,
        options.scale,
        1.0,
        "explicit",
        "high",
        details,
        frame_point=np.array([e * unit, n * unit, 0.0]),
    )
    georef.details["map_coordinates"] = True
    return georef


def read_map_conversion(model: ifcopenshell.file, project_m: float) -> MapConversion | None:
    """The first IfcMapConversion to an IfcProjectedCRS (IFC4 and later)."""
    if model.schema == "IFC2X3":
        return None
    for conversion in model.by_type("IfcMapConversion"):
        target = conversion.TargetCRS
        if target is None or not target.is_a("IfcProjectedCRS"):
            continue
        crs = _crs_name(target.Name, getattr(target, "VerticalDatum", None))
        if crs is None:
            continue
        map_m = _unit_m(target.MapUnit, 1.0) if target.MapUnit is not None else 1.0
        scale, reading = _effective_scale(conversion.Scale, project_m, map_m)
        a, b = conversion.XAxisAbscissa, conversion.XAxisOrdinate
        theta = math.atan2(b, a) if a is not None and b is not None else 0.0
        details = {"scale_in_file": conversion.Scale, "scale_reading": reading, "map_unit_m": map_m}
        factors = (1.0, 1.0, 1.0)
        if conversion.is_a("IfcMapConversionScaled"):
            factors = (float(conversion.FactorX), float(conversion.FactorY), float(conversion.FactorZ))
            details["factors_xyz"] = list(factors)
        return MapConversion(
            crs,
            conversion.Eastings,
            conversion.Northings,
            conversion.OrthogonalHeight or 0.0,
            theta,
            scale,
            map_m,
            conversion.is_a(),
            "high",
            details,
            factors,
        )
    return None


def read_property_sets(model: ifcopenshell.file, project_m: float) -> MapConversion | None:
    """IFC2X3's ePSet_MapConversion with ePSet_ProjectedCRS on the project or a site."""
    from ifcopenshell.util.element import get_psets  # imports shapely: not for an IFC4 map conversion

    for owner in [*model.by_type("IfcProject"), *model.by_type("IfcSite")]:
        psets = get_psets(owner)
        conversion, projected = psets.get("ePSet_MapConversion"), psets.get("ePSet_ProjectedCRS")
        if not conversion or not projected or "Eastings" not in conversion:
            continue
        crs = _crs_name(str(projected.get("Name", "")), projected.get("VerticalDatum"))
        if crs is None:
            continue
        map_unit = str(projected.get("MapUnit", "") or "").upper()
        map_m = 0.001 if "MILLI" in map_unit else 1.0
        scale, reading = _effective_scale(conversion.get("Scale"), project_m, map_m)
        a, b = conversion.get("XAxisAbscissa"), conversion.get("XAxisOrdinate")
        theta = math.atan2(b, a) if a is not None and b is not None else 0.0
        details = {"scale_in_file": conversion.get("Scale"), "scale_reading": reading, "map_unit_m": map_m}
        return MapConversion(
            crs,
            float(conversion["Eastings"]),
            float(conversion.get("Northings", 0.0)),
            float(conversion.get("OrthogonalHeight", 0.0) or 0.0),
            theta,
            scale,
            map_m,
            "ePSet_MapConversion",
            "medium",
            details,
        )
    return None


def _compound_angle(value: Any) -> float | None:
    if not value:
        return None
    parts = list(value) + [0] * (4 - len(value))
    sign = -1.0 if any(p < 0 for p in parts) else 1.0
    d, m, s, u = (abs(p) for p in parts[:4])
    return float(sign * (d + m / 60 + (s + u / 1e6) / 3600))


def _angle_resolution_m(value: Any, shrink: float) -> float:
    """Metres on the ground of one unit of the last non-zero component of a compound angle
    (``shrink``: 1 for latitudes, cos(latitude) for longitudes)."""
    parts = [abs(p) for p in list(value or ())[:4]]
    last = max((i for i, p in enumerate(parts) if p), default=0)
    degrees = (1.0, 1 / 60, 1 / 3600, 1e-6 / 3600)[last]
    return degrees * 111_320.0 * shrink


def _true_north_theta(model: ifcopenshell.file) -> float:
    for context in model.by_type("IfcGeometricRepresentationContext"):
        if context.is_a() == "IfcGeometricRepresentationContext" and context.TrueNorth is not None:
            tx, ty = context.TrueNorth.DirectionRatios[:2]
            return math.atan2(tx, ty)  # engineering x axis, counter-clockwise from east
    return 0.0


def from_site(model: ifcopenshell.file, project_m: float) -> IfcGeoreference | None:
    for site in model.by_type("IfcSite"):
        lat, lon = _compound_angle(site.RefLatitude), _compound_angle(site.RefLongitude)
        if lat is None or lon is None or (abs(lat) < 1e-9 and abs(lon) < 1e-9):
            continue  # absent or the (0, 0) placeholder
        elevation = float(site.RefElevation or 0.0) * project_m
        h = elevation + float(geoid_undulation(lon, lat)[0])
        frame = LocalFrame(lon, lat, h)
        theta = _true_north_theta(model)
        anchor = np.zeros(3)
        if site.ObjectPlacement is not None:
            from ifcopenshell.util.placement import get_local_placement

            anchor = get_local_placement(site.ObjectPlacement)[:3, 3] * project_m
        turn = rotation(theta)

        def to_enu(points: np.ndarray, anchor: np.ndarray = anchor, turn: np.ndarray = turn) -> np.ndarray:
            shifted = points - anchor
            out: np.ndarray = np.empty_like(shifted)
            out[:, :2] = shifted[:, :2] @ turn.T
            out[:, 2] = shifted[:, 2]
            return out

        resolution = max(
            _angle_resolution_m(site.RefLatitude, 1.0),
            _angle_resolution_m(site.RefLongitude, math.cos(math.radians(lat))),
        )
        reference = SiteReference(lon, lat, elevation, anchor.copy(), resolution)
        details = {
            "ref_latitude": lat,
            "ref_longitude": lon,
            "ref_elevation_m": elevation,
            "rotation_deg": math.degrees(theta),
            "heights": {
                "heights": "orthometric",
                "geoid": "EGM96",
                "caveat": "RefElevation taken as height above sea level",
            },
            "note": "IfcSite reference point: no projection; ENU frame at the site; accuracy depends on the tool",
        }
        return IfcGeoreference("IfcSite", "low", frame, to_enu, details, site=reference)
    return None


def _model_map_conversion(model: ifcopenshell.file, project_m: float) -> MapConversion | None:
    """The model's own map conversion: an IFC4 IfcMapConversion, else IFC2X3's property sets."""
    return read_map_conversion(model, project_m) or read_property_sets(model, project_m)


def map_conversion(model: ifcopenshell.file, options: ConvertOptions) -> MapConversion | None:
    """The model's map conversion when it is the source :func:`resolve` takes (no ``--crs``; then
    ``resolve`` returns its :meth:`~MapConversion.georeference`): what :mod:`.georef_service` sends."""
    if options.crs:
        return None
    return _model_map_conversion(model, float(ifcopenshell.util.unit.calculate_unit_scale(model)))


def resolve(model: ifcopenshell.file, options: ConvertOptions) -> IfcGeoreference:
    """The first source that applies (see the module docstring); raises GeoreferencingError if none."""
    project_m = float(ifcopenshell.util.unit.calculate_unit_scale(model))

    def from_model_map_conversion() -> IfcGeoreference | None:
        conversion = _model_map_conversion(model, project_m)
        return conversion.georeference() if conversion is not None else None

    finders: tuple[Callable[[], IfcGeoreference | None], ...] = (
        lambda: from_options(options),
        from_model_map_conversion,
        lambda: from_site(model, project_m),
    )
    for finder in finders:
        found = finder()
        if found is not None:
            return found
    if options.allow_ungeoreferenced:
        lon, lat, h = options.default_location
        frame = LocalFrame(lon, lat, h)
        return IfcGeoreference(
            "default-location",
            "none",
            frame,
            lambda p: np.asarray(p, dtype=np.float64),
            {"note": "placed at the configured default location"},
        )
    raise GeoreferencingError(f"the model is not georeferenced; {HOW_TO}")
