"""Showcase streets: create, edit, status (candidate → under_construction → accepted with the
acceptance document and date), list."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from geoalchemy2.shape import to_shape
from pyproj import Geod
from shapely.geometry import LineString, MultiLineString
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cim_platform.core.access import Caller
from cim_platform.core.audit import record_change
from cim_platform.core.db.base import utcnow
from cim_platform.core.errors import NotFound
from cim_platform.facades import geometry, units
from cim_platform.facades.errors import AcceptanceRequired, DuplicateCode, InvalidTransition, UnknownUnit
from cim_platform.facades.models import STREET_STEPS, Street, StreetStatus
from cim_platform.facades.palette import Zone
from cim_platform.facades.scopes import FacadesScope

_GEOD = Geod(ellps="GRS80")  # CGCS2000's ellipsoid (inverse flattening differs from GRS80 in the 10th digit)
EDITABLE = ("name", "district", "town", "zone", "year", "note", "geometry")


def snapshot(street: Street) -> dict[str, Any]:
    return {
        "code": street.code,
        "name": street.name,
        "district_code": street.district_code,
        "town_code": street.town_code,
        "unit_code": street.unit_code,
        "zone": street.zone,
        "year": street.year,
        "status": street.status,
        "acceptance_document": street.acceptance_document,
        "accepted_on": street.accepted_on.isoformat() if street.accepted_on else None,
        "note": street.note,
        "version": street.version,
    }


def _length(street: Street) -> float | None:
    shape_ = to_shape(street.geometry) if not isinstance(street.geometry, str) else None
    if isinstance(shape_, LineString | MultiLineString):
        return round(float(_GEOD.geometry_length(shape_)), 2)
    return None


def _place(street: Street, district: str | None, town: str | None) -> None:
    if district is not None:
        street.district_code = units.district(district).code
    if town is not None:
        town_unit = units.unit(town)
        if town_unit.district_code != street.district_code or town_unit.code == town_unit.district_code:
            raise UnknownUnit(f"{town!r} is not a town of {street.district_code}", params={"unit": town[:40]})
        street.town_code = town_unit.code
    street.unit_code = units.unit_for(street.district_code, street.town_code).code


def create(session: Session, caller: Caller, values: dict[str, Any], crs: str) -> Street:
    caller.require(FacadesScope.write)
    street = Street(
        code=values["code"],
        name=values["name"],
        year=values["year"],
        zone=Zone(values.get("zone") or Zone.old_town).value,
        note=values.get("note") or "",
        status=StreetStatus.candidate.value,
        created_by=caller.user_id,
    )
    street.town_code = None
    _place(street, values["district"], values.get("town"))
    street.geometry = geometry.to_storage("geometry", values["geometry"], crs, lines=True)
    session.add(street)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise DuplicateCode(f"a street with code {street.code!r} exists", params={"code": street.code}) from None
    session.refresh(street)
    street.length_m = _length(street)
    session.flush()
    record_change(
        session,
        caller,
        action="facades.street.created",
        object_type="facade_street",
        object_id=str(street.id),
        before=None,
        after=snapshot(street),
    )
    return street


def get(session: Session, street_id: uuid.UUID, *, lock: bool = False) -> Street:
    """The street (``lock``: held until the transaction ends, for a conditional write)."""
    street = session.get(Street, street_id, with_for_update=lock)
    if street is None:
        raise NotFound("no such showcase street")
    return street


def update(session: Session, caller: Caller, street: Street, values: dict[str, Any], crs: str) -> Street:
    caller.require(FacadesScope.write)
    before = snapshot(street)
    for key in ("name", "year", "note"):
        if key in values and values[key] is not None:
            setattr(street, key, values[key])
    if values.get("zone") is not None:
        street.zone = Zone(values["zone"]).value
    if "district" in values or "town" in values:
        if values.get("district") is not None and values.get("town") is None:
            street.town_code = None
        _place(street, values.get("district"), values.get("town"))
    if values.get("geometry") is not None:
        street.geometry = geometry.to_storage("geometry", values["geometry"], crs, lines=True)
    street.version += 1
    street.updated_at = utcnow()
    session.flush()
    session.refresh(street)
    street.length_m = _length(street)
    record_change(
        session,
        caller,
        action="facades.street.updated",
        object_type="facade_street",
        object_id=str(street.id),
        before=before,
        after=snapshot(street),
    )
    return street


def change_status(
    session: Session,
    caller: Caller,
    street: Street,
    status: StreetStatus,
    *,
    acceptance_document: str | None = None,
    accepted_on: date | None = None,
) -> Street:
    """Workflow steps; accepting needs the acceptance document and date and the facades:admin scope."""
    caller.require(FacadesScope.admin if status is StreetStatus.accepted else FacadesScope.write)
    current = StreetStatus(street.status)
    if status not in STREET_STEPS[current]:
        raise InvalidTransition(
            f"a {current.value} street cannot become {status.value}", params={"from": current.value, "to": status.value}
        )
    before = snapshot(street)
    if status is StreetStatus.accepted:
        if not (acceptance_document and acceptance_document.strip()) or accepted_on is None:
            raise AcceptanceRequired("accepting a showcase street needs the acceptance document and its date")
        street.acceptance_document = acceptance_document.strip()
        street.accepted_on = accepted_on
    street.status = status.value
    street.version += 1
    street.updated_at = utcnow()
    session.flush()
    record_change(
        session,
        caller,
        action="facades.street.status",
        object_type="facade_street",
        object_id=str(street.id),
        before=before,
        after=snapshot(street),
    )
    return street


def listing(
    session: Session,
    *,
    year: int | None = None,
    unit: str | None = None,
    district: str | None = None,
    status: StreetStatus | None = None,
    limit: int = 200,
    offset: int = 0,
) -> tuple[list[Street], int]:
    from sqlalchemy import func

    query = select(Street)
    if year is not None:
        query = query.where(Street.year == year)
    if unit is not None:
        query = query.where(Street.unit_code == units.unit(unit).code)
    if district is not None:
        query = query.where(Street.district_code == units.district(district).code)
    if status is not None:
        query = query.where(Street.status == status.value)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(Street.year.desc(), Street.code).limit(limit).offset(offset)).all()
    return list(rows), int(total)
