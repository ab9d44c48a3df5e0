"""Which projected CRS puts a model's raw coordinates at its IfcSite reference point?

Some exports (city models, survey-based designs) carry national-grid coordinates straight in their
placements and are georeferenced only by ``IfcSite`` RefLatitude/RefLongitude. :func:`search`
takes the site point and the plan box of the geometry (engineering metres) and tries every EPSG
projected CRS whose area of use contains the site point:

1. screening: the site point projected with the CRS's own map projection (no datum shift, so a
   few hundred metres off at worst) must lie within ``tolerance + SCREEN_MARGIN_M`` of the box;
2. the survivors are checked with the full pyproj transformation (datum shift included): a CRS
   *fits* when the site point lies within ``tolerance`` of the geometry's plan box;
3. fitting CRSs that place the geometry within ``tolerance`` of each other are one *grid*
   (EPSG:4546 and EPSG:4508 are the same projection; Xian 1980 and CGCS2000 Gauss-Krüger zones
   differ by ~2 m, WGS 72 and WGS 84 UTM zones by a few metres): a site point trusted to
   ``tolerance`` cannot tell them apart, so the one on the most recently published datum (the
   current realisation; an ensemble dates from its newest member) represents the grid and the
   others are reported with their offsets from it. Fitting CRSs farther apart than that are
   different grids: more than one fitting grid is an ambiguity the caller refuses.

The caller accepts the result only when exactly one grid fits.
"""

from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pyproj
from pyproj import CRS, Transformer
from pyproj.aoi import AreaOfInterest
from pyproj.database import query_crs_info
from pyproj.enums import PJType
from pyproj.exceptions import CRSError, ProjError

SCREEN_MARGIN_M = 2000.0  # datum shifts ignored by the screening projection stay well below this
_GEOD = pyproj.Geod(ellps="WGS84")


@dataclass(frozen=True, slots=True)
class Fit:
    """One candidate CRS and where it puts the geometry."""

    crs: str  # "EPSG:4546"
    name: str
    distance_m: float  # from the site point to the geometry's plan box, in this CRS
    centre: tuple[float, float]  # WGS84 lon/lat of the plan box centre in this CRS
    area_deg2: float  # size of the area of use (smaller: more specific)
    datum_date: str  # publication date of the geodetic datum ("" if unknown)
    east_first: bool  # axis order easting, northing (as IFC x, y are written)

    def as_report(self) -> dict[str, object]:
        return {"crs": self.crs, "name": self.name, "site_distance_m": round(self.distance_m, 2)}


@dataclass(slots=True)
class Grid:
    """Fitting CRSs that place the geometry within the site tolerance of each other."""

    members: list[Fit]

    @property
    def chosen(self) -> Fit:
        return sorted(self.members, key=lambda f: (_neg(f.datum_date), not f.east_first, f.area_deg2, _code(f.crs)))[0]

    def equivalents(self) -> list[dict[str, object]]:
        chosen = self.chosen
        return [
            {**fit.as_report(), "offset_from_chosen_m": round(_metres(chosen.centre, fit.centre), 2)}
            for fit in self.members
            if fit is not chosen
        ]


@dataclass(slots=True)
class SearchResult:
    checked: int  # candidates whose area of use contains the site point
    grids: list[Grid] = field(default_factory=list)
    nearest: Fit | None = None  # the best candidate even when none fits (for the refusal message)


def _neg(date: str) -> tuple[int, ...]:
    """Sort key putting the most recent date first and unknown dates last."""
    if not date:
        return (1,)
    return (0, *(-int(part) for part in date.split("-") if part.isdigit()))


def _code(crs: str) -> int:
    tail = crs.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else 1 << 30


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(_GEOD.inv(a[0], a[1], b[0], b[1])[2])


def _box_distance(point: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    """Plan distance from ``point`` to the box [lo, hi] (0 inside)."""
    outside = np.maximum(np.maximum(lo - point, point - hi), 0.0)
    return float(np.hypot(*outside))


@cache
def _datum_dates() -> dict[tuple[str, str], str]:
    path = Path(pyproj.datadir.get_data_dir().split(":")[0]) / "proj.db"
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            rows = db.execute("SELECT auth_name, code, publication_date FROM geodetic_datum").fetchall()
            members = db.execute(
                "SELECT ensemble_auth_name, ensemble_code, member_auth_name, member_code "
                "FROM geodetic_datum_ensemble_member"
            ).fetchall()
    except sqlite3.Error:
        return {}
    dates = {(str(a), str(c)): str(d or "") for a, c, d in rows}
    for ensemble_auth, ensemble_code, member_auth, member_code in members:
        key = (str(ensemble_auth), str(ensemble_code))
        dates[key] = max(dates.get(key, ""), dates.get((str(member_auth), str(member_code)), ""))
    return dates


def _datum_date(crs: CRS) -> str:
    datum = crs.datum
    ident = datum.to_json_dict().get("id") if datum is not None else None
    if not ident:
        return ""
    return _datum_dates().get((str(ident.get("authority")), str(ident.get("code"))), "")


def _unit_m(crs: CRS) -> float:
    axes = crs.axis_info
    return float(axes[0].unit_conversion_factor or 1.0) if axes else 1.0


def search(lon: float, lat: float, lo: np.ndarray, hi: np.ndarray, tolerance_m: float) -> SearchResult:
    """Projected CRSs that put the plan box ``lo``..``hi`` (engineering metres) at the site (lon, lat)."""
    lo, hi = np.asarray(lo, dtype=np.float64)[:2], np.asarray(hi, dtype=np.float64)[:2]
    centre_m = (lo + hi) / 2
    infos = query_crs_info(
        auth_name="EPSG",
        pj_types=PJType.PROJECTED_CRS,
        area_of_interest=AreaOfInterest(lon, lat, lon, lat),
        contains=False,
    )
    unique = {(i.auth_name, i.code): i for i in infos}.values()  # one CRS may have several areas
    result = SearchResult(checked=len(unique))
    fits: list[Fit] = []
    for info in unique:
        fit = _evaluate(info.auth_name, info.code, info.name, info.area_of_use, lon, lat, lo, hi, centre_m, tolerance_m)
        if fit is None:
            continue
        if result.nearest is None or fit.distance_m < result.nearest.distance_m:
            result.nearest = fit
        if fit.distance_m <= tolerance_m:
            fits.append(fit)
    result.grids = _group(fits, tolerance_m)
    return result


def _evaluate(
    authority: str,
    code: str,
    name: str,
    area: object,
    lon: float,
    lat: float,
    lo: np.ndarray,
    hi: np.ndarray,
    centre_m: np.ndarray,
    tolerance_m: float,
) -> Fit | None:
    try:
        crs = CRS.from_authority(authority, code)
        unit = _unit_m(crs)
        if not crs.is_projected or crs.geodetic_crs is None:
            return None
        screen = Transformer.from_crs(crs.geodetic_crs, crs, always_xy=True)
        rough = np.array(screen.transform(lon, lat), dtype=np.float64) * unit
        if not np.all(np.isfinite(rough)) or _box_distance(rough, lo, hi) > tolerance_m + SCREEN_MARGIN_M:
            return None
        forward = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        site = np.array(forward.transform(lon, lat), dtype=np.float64) * unit
        inverse = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
        centre = inverse.transform(centre_m[0] / unit, centre_m[1] / unit)
    except (CRSError, ProjError):
        return None
    if not (np.all(np.isfinite(site)) and all(math.isfinite(v) for v in centre)):
        return None
    bounds = getattr(area, "bounds", None) or (0.0, 0.0, 360.0, 180.0)
    west, south, east, north = bounds
    width = (east - west) % 360.0 or 360.0
    return Fit(
        f"{authority}:{code}",
        name,
        _box_distance(site, lo, hi),
        (float(centre[0]), float(centre[1])),
        width * (north - south),
        _datum_date(crs),
        bool(crs.axis_info) and crs.axis_info[0].direction.lower() == "east",
    )


def _group(fits: list[Fit], within_m: float) -> list[Grid]:
    """Single-linkage groups of fits whose geometry centres lie within ``within_m`` of each other."""
    grids: list[Grid] = []
    for fit in sorted(fits, key=lambda f: f.distance_m):
        joined = [g for g in grids if any(_metres(fit.centre, m.centre) <= within_m for m in g.members)]
        if not joined:
            grids.append(Grid([fit]))
            continue
        first = joined[0]
        first.members.append(fit)
        for other in joined[1:]:
            first.members.extend(other.members)
            grids.remove(other)
    return grids
