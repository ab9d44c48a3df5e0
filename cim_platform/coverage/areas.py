"""Administrative units, their boundaries, built-up areas per year and building inventories.

Loading a built-up area replaces the unit's area of that year (all polygons of the file for that unit
and year merged into one multipolygon); a feature names its unit (``unit``/``code``/``district``:
code, slug, pinyin or Chinese name) and ``year`` unless the caller gives them for the whole file.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Any

import shapely
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, Polygon
from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.orm import Session

from cim_platform.core.access import Caller
from cim_platform.core.audit import record_change
from cim_platform.core.db.base import utcnow
from cim_platform.core.errors import InvalidInput
from cim_platform.coverage.errors import BadGeometryFile, UnknownUnit
from cim_platform.coverage.geofiles import Feature
from cim_platform.coverage.models import BuiltUpArea, CoverageUnit, InventoryBuilding
from cim_platform.coverage.scopes import CoverageScope
from cim_platform.datasets.models import District

SOURCES = ("yearbook", "land_survey", "city_checkup", "demo", "other")
UNIT_KEYS = ("unit", "unit_code", "code", "district", "adcode")


def find_unit(session: Session, name: str) -> CoverageUnit:
    """A unit by code, district slug, pinyin or Chinese name (case-insensitive)."""
    text = str(name).strip()
    unit = session.get(CoverageUnit, text)
    if unit is not None:
        return unit
    district = session.scalar(select(District).where(District.slug == text.lower()))
    if district is not None:
        found = session.get(CoverageUnit, district.code)
        if found is not None:
            return found
    unit = session.scalar(
        select(CoverageUnit).where(or_(func.lower(CoverageUnit.name) == text.lower(), CoverageUnit.name_zh == text))
    )
    if unit is None:
        raise UnknownUnit(f"no administrative unit {text!r}", params={"unit": text})
    return unit


def district_units(session: Session) -> list[CoverageUnit]:
    return list(session.scalars(select(CoverageUnit).where(CoverageUnit.parent_code.is_(None)).order_by("code")))


def all_units(session: Session) -> list[CoverageUnit]:
    return list(session.scalars(select(CoverageUnit).order_by(CoverageUnit.code)))


def add_town(session: Session, caller: Caller, code: str, parent: str, name: str, name_zh: str) -> CoverageUnit:
    caller.require(CoverageScope.admin)
    district = find_unit(session, parent)
    if district.parent_code is not None:
        raise InvalidInput("a town's parent must be a district or banner")
    if not code.isdigit() or not 6 <= len(code) <= 12:
        raise InvalidInput("a unit code is 6 to 12 digits (administrative division code)", params={"code": code})
    if session.get(CoverageUnit, code) is not None:
        raise InvalidInput("this unit code exists already", params={"code": code})
    unit = CoverageUnit(
        code=code, district_code=district.code, parent_code=district.code, level="town", name=name, name_zh=name_zh
    )
    session.add(unit)
    session.flush()
    after = {"code": code, "parent_code": district.code, "name": name, "name_zh": name_zh}
    record_change(
        session,
        caller,
        action="coverage.unit.created",
        object_type="coverage_unit",
        object_id=code,
        before=None,
        after=after,
    )
    return unit


def _merged(features: list[Feature]) -> MultiPolygon:
    try:
        merged = shapely.union_all([f.geometry for f in features])
    except shapely.errors.GEOSException as exc:
        raise BadGeometryFile(f"the polygons cannot be merged: {exc}") from None
    parts: list[Polygon] = [g for g in getattr(merged, "geoms", [merged]) if isinstance(g, Polygon)]
    if not parts:
        raise BadGeometryFile("no polygon area left after merging")
    return MultiPolygon(parts)


def _group(
    session: Session, features: list[Feature], unit: str | None, year: int | None
) -> dict[tuple[str, int], list[Feature]]:
    if not features:
        raise BadGeometryFile("the file has no polygons")
    groups: dict[tuple[str, int], list[Feature]] = defaultdict(list)
    for feature in features:
        name = unit or next((str(feature.properties[k]) for k in UNIT_KEYS if feature.properties.get(k)), None)
        if name is None:
            raise InvalidInput("say which unit (unit=…) or give each feature a 'unit' property")
        value = year if year is not None else feature.properties.get("year")
        try:
            number = int(str(value))
        except ValueError:
            raise InvalidInput("say which year (year=…) or give each feature a 'year' property") from None
        if not 1900 <= number <= 2200:
            raise InvalidInput("year must be between 1900 and 2200", params={"year": number})
        groups[(find_unit(session, name).code, number)].append(feature)
    return groups


def geodesic_area(session: Session, geometry: MultiPolygon) -> float:
    area = session.scalar(select(func.ST_Area(func.ST_GeogFromWKB(shapely.to_wkb(geometry)))))
    return float(area or 0.0)


def load_built_up(
    session: Session,
    caller: Caller,
    features: list[Feature],
    *,
    unit: str | None,
    year: int | None,
    source: str,
    note: str = "",
) -> list[BuiltUpArea]:
    """Store (replace) the built-up area of each unit and year in the features; audited."""
    caller.require(CoverageScope.admin)
    if source not in SOURCES:
        raise InvalidInput(f"source must be one of {', '.join(SOURCES)}", params={"source": source})
    stored = []
    for (code, number), group in sorted(_group(session, features, unit, year).items()):
        geometry = _merged(group)
        wkb = shapely.to_wkb(geometry, include_srid=False)
        area_m2 = geodesic_area(session, geometry)
        area = session.scalar(
            select(BuiltUpArea).where(BuiltUpArea.unit_code == code, BuiltUpArea.year == number).with_for_update()
        )
        before = _summary(area) if area else None
        if area is None:
            area = BuiltUpArea(unit_code=code, year=number, created_by=caller.user_id)
        area.source, area.source_note = source, note
        area.geom = from_shape(geometry, srid=4326)
        area.area_m2 = area_m2
        area.geom_sha256 = hashlib.sha256(wkb).hexdigest()
        area.updated_at = utcnow()
        session.add(area)
        session.flush()
        record_change(
            session,
            caller,
            action="coverage.built_up.loaded",
            object_type="coverage_built_up_area",
            object_id=str(area.id),
            before=before,
            after=_summary(area),
        )
        stored.append(area)
    return stored


def _summary(area: BuiltUpArea) -> dict[str, Any]:
    return {
        "unit_code": area.unit_code,
        "year": area.year,
        "source": area.source,
        "area_m2": round(area.area_m2, 1),
        "geom_sha256": area.geom_sha256,
    }


def delete_built_up(session: Session, caller: Caller, unit: str, year: int) -> None:
    caller.require(CoverageScope.admin)
    code = find_unit(session, unit).code
    area = session.scalar(select(BuiltUpArea).where(BuiltUpArea.unit_code == code, BuiltUpArea.year == year))
    if area is None:
        raise UnknownUnit(f"no built-up area of {code} in {year}", params={"unit": code, "year": year})
    before = _summary(area)
    session.delete(area)
    session.flush()
    record_change(
        session,
        caller,
        action="coverage.built_up.deleted",
        object_type="coverage_built_up_area",
        object_id=str(area.id),
        before=before,
        after=None,
    )


def set_boundary(session: Session, caller: Caller, features: list[Feature], unit: str, source: str) -> CoverageUnit:
    caller.require(CoverageScope.admin)
    target = find_unit(session, unit)
    if not features:
        raise BadGeometryFile("the file has no polygons")
    target.boundary = from_shape(_merged(features), srid=4326)
    target.boundary_source = source[:200]
    session.flush()
    record_change(
        session,
        caller,
        action="coverage.unit.boundary_set",
        object_type="coverage_unit",
        object_id=target.code,
        before=None,
        after={"boundary_source": target.boundary_source},
    )
    return target


def load_inventory(session: Session, caller: Caller, features: list[Feature], unit: str, source: str) -> int:
    """Replace the unit's building inventory (one row per polygon); returns the number of buildings."""
    caller.require(CoverageScope.admin)
    code = find_unit(session, unit).code
    if not features:
        raise BadGeometryFile("the file has no polygons")
    session.execute(delete(InventoryBuilding).where(InventoryBuilding.unit_code == code))
    rows = [
        {"unit_code": code, "source": source[:32], "footprint": from_shape(MultiPolygon([p]), srid=4326)}
        for feature in features
        for p in feature.geometry.geoms
    ]
    session.execute(insert(InventoryBuilding), rows)
    record_change(
        session,
        caller,
        action="coverage.inventory.loaded",
        object_type="coverage_unit",
        object_id=code,
        before=None,
        after={"buildings": len(rows), "source": source},
    )
    return len(rows)
