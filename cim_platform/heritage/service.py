"""Historic-building records: create, read, list, edit (with ETags), the status workflow, retirement.

Every change is written to the core audit trail in the same transaction (object type
``heritage_building``), which is the record's history. A change names the version it was made on
(``If-Match``); a stale one is refused with nothing written. Edits of a listed record by a caller
without the review scope become proposals (``cim_platform.heritage.proposals``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from cim_platform.core.access import Caller
from cim_platform.core.audit import AuditEntry, jsonable, record_change
from cim_platform.core.conditional import if_match_names
from cim_platform.core.db.base import utcnow
from cim_platform.core.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from cim_platform.datasets.service import resolve_district
from cim_platform.heritage import geometry
from cim_platform.heritage.errors import (
    ApprovalRequired,
    DuplicateCode,
    InvalidTransition,
    PreconditionFailed,
    PreconditionRequired,
    RecordRetired,
)
from cim_platform.heritage.fields import EDITABLE_FIELDS, REQUIRED_FIELDS, from_json, snapshot, value_json
from cim_platform.heritage.models import STORAGE_SRID, ArchiveItem, Building, BuildingGroup, Status
from cim_platform.heritage.scopes import HeritageScope

OBJECT_TYPE = "heritage_building"


def require_any(caller: Caller, *scopes: HeritageScope) -> None:
    if not caller.authenticated:
        raise Unauthenticated("this needs a signed-in user or an API token")
    if not any(scope in caller.scopes for scope in scopes):
        raise Forbidden(f"role {caller.role} lacks the scope {scopes[0].value}")


def reviews(caller: Caller) -> bool:
    return HeritageScope.review in caller.scopes


def reads_full(caller: Caller) -> bool:
    return HeritageScope.read in caller.scopes


# -- ETags ---------------------------------------------------------------------------------------------


def etag(building: Building) -> str:
    return f'"{building.id}.{building.version}"'


def check_if_match(building: Building, if_match: str | None) -> None:
    """412 when ``If-Match`` names another version, 428 without it."""
    if if_match is None or not if_match.strip():
        raise PreconditionRequired(
            "send If-Match with the record's ETag (read it first), so a concurrent edit is never overwritten",
            params={"etag": etag(building)},
        )
    if not if_match_names(if_match, etag(building), any_version=False):
        raise PreconditionFailed(
            f"the record changed since you read it (now version {building.version}); nothing was written: "
            "read it again and reapply your change",
            params={"etag": etag(building), "version": building.version},
        )


# -- reading -------------------------------------------------------------------------------------------


def get_building(session: Session, caller: Caller, building_id: uuid.UUID, *, lock: bool = False) -> Building:
    """Signed-in readers see every record; anonymous callers only listed, active ones."""
    query = select(Building).where(Building.id == building_id)
    if lock:
        query = query.with_for_update()
    building = session.scalar(query)
    if building is None or (not reads_full(caller) and not _public(building)):
        raise NotFound(f"no historic building {building_id}", params={"id": str(building_id)})
    return building


def _public(building: Building) -> bool:
    return building.status == Status.listed.value and building.retired_at is None


@dataclass
class BuildingFilter:
    district: str | None = None
    status: Status | None = None
    level: str | None = None
    text: str | None = None
    bbox: tuple[float, float, float, float] | None = None
    group_id: uuid.UUID | None = None
    dataset_id: uuid.UUID | None = None
    """Records with an archive item converted into this dataset (a feature clicked in the 3D city)."""
    include_retired: bool = False
    limit: int = 100
    offset: int = 0


@dataclass
class BuildingPage:
    buildings: list[Building]
    total: int


def filtered(session: Session, caller: Caller, filters: BuildingFilter) -> Select[Building]:
    query = select(Building)
    if not reads_full(caller):
        query = query.where(Building.status == Status.listed.value, Building.retired_at.is_(None))
    elif not filters.include_retired:
        query = query.where(Building.retired_at.is_(None))
    if filters.district:
        query = query.where(Building.district_code == resolve_district(session, filters.district))
    if filters.status:
        query = query.where(Building.status == filters.status.value)
    if filters.level:
        query = query.where(Building.level == filters.level)
    if filters.group_id:
        query = query.where(Building.group_id == filters.group_id)
    if filters.dataset_id:
        linked = select(ArchiveItem.building_id).where(ArchiveItem.dataset_id == filters.dataset_id)
        query = query.where(Building.id.in_(linked))
    if filters.text:
        pattern = "%" + filters.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            or_(
                Building.name.ilike(pattern),
                Building.code.ilike(pattern),
                func.array_to_string(Building.aliases, " ").ilike(pattern),
                Building.address.ilike(pattern) if reads_full(caller) else Building.name.ilike(pattern),
            )
        )
    if filters.bbox:
        box = func.ST_MakeEnvelope(*filters.bbox, STORAGE_SRID)
        query = query.where(
            or_(
                func.ST_Intersects(Building.location, box),
                func.ST_Intersects(Building.outline, box),
                func.ST_Intersects(Building.protection_range, box),
            )
        )
    return query


def list_buildings(session: Session, caller: Caller, filters: BuildingFilter) -> BuildingPage:
    query = filtered(session, caller, filters)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = query.order_by(Building.code).limit(filters.limit).offset(filters.offset)
    return BuildingPage(list(session.scalars(page)), total)


def history(session: Session, caller: Caller, building_id: uuid.UUID) -> list[AuditEntry]:
    """Every change of the record, oldest first (signed-in readers)."""
    caller.require(HeritageScope.read)
    get_building(session, caller, building_id)
    query = select(AuditEntry).where(AuditEntry.object_type == OBJECT_TYPE, AuditEntry.object_id == str(building_id))
    return list(session.scalars(query.order_by(AuditEntry.id)))


# -- changing ------------------------------------------------------------------------------------------


def normalise(session: Session, changes: dict[str, Any], crs: str) -> dict[str, Any]:
    """Changes as JSON values: geometries transformed to EPSG:4490 GeoJSON, district resolved to its code,
    group checked. Raises InvalidInput on anything wrong (nothing is written)."""
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise InvalidInput(f"not editable: {', '.join(unknown)}", params={"fields": ", ".join(unknown)})
    out: dict[str, Any] = {}
    for field, value in changes.items():
        if field in geometry.GEOMETRY_FIELDS:
            out[field] = geometry.stored_geojson(geometry.to_storage(field, value, crs))
        elif field == "district_code":
            out[field] = resolve_district(session, value) if value is not None else None
        elif field == "group_id" and value is not None:
            if session.get(BuildingGroup, value) is None:
                raise InvalidInput(f"no group {value}", params={"group_id": str(value)})
            out[field] = str(value)
        elif field == "aliases":
            out[field] = [str(alias) for alias in value or []]
        else:
            out[field] = jsonable(value)
    for field in (*REQUIRED_FIELDS, "level"):
        if field in out and out[field] in (None, ""):
            raise InvalidInput(f"{field} is required", params={"field": field})
    return out


def apply(building: Building, changes: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Apply normalised changes; (before, after) of the fields that really changed."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for field, value in changes.items():
        current = value_json(building, field)
        if current == value:
            continue
        before[field], after[field] = current, value
        if field in geometry.GEOMETRY_FIELDS:
            setattr(building, field, geometry.to_storage(field, value))
        else:
            setattr(building, field, from_json(field, value))
    return before, after


def _check_code_free(session: Session, code: str, building_id: uuid.UUID | None = None) -> None:
    query = select(Building.id).where(Building.code == code)
    if building_id is not None:
        query = query.where(Building.id != building_id)
    if session.scalar(query) is not None:
        raise DuplicateCode(f"another record has the code {code!r}", params={"code": code})


def create_building(session: Session, caller: Caller, values: dict[str, Any], crs: str) -> Building:
    caller.require(HeritageScope.write)
    missing = [field for field in REQUIRED_FIELDS if not values.get(field)]
    if missing:
        raise InvalidInput(f"required: {', '.join(missing)}", params={"fields": ", ".join(missing)})
    changes = normalise(session, values, crs)
    _check_code_free(session, changes["code"])
    building = Building(id=uuid.uuid4(), version=1, status=Status.draft.value, created_by=caller.user_id, aliases=[])
    apply(building, changes)
    building.updated_at = utcnow()
    session.add(building)
    session.flush()
    record_change(
        session,
        caller,
        action="heritage.building.created",
        object_type=OBJECT_TYPE,
        object_id=str(building.id),
        before=None,
        after=snapshot(building),
    )
    return building


def edit(
    session: Session,
    caller: Caller,
    building: Building,
    changes: dict[str, Any],
    *,
    action: str,
    extra: dict[str, Any] | None = None,
) -> None:
    """Apply normalised changes to a locked record, bump its version, record the change."""
    if building.retired_at is not None:
        raise RecordRetired(f"record {building.code} is retired", params={"code": building.code})
    if "code" in changes:
        _check_code_free(session, changes["code"], building.id)
    before, after = apply(building, changes)
    if not before and not extra:
        return
    before["version"], after["version"] = building.version, building.version + 1
    building.version += 1
    building.updated_at = utcnow()
    session.flush()
    record_change(
        session,
        caller,
        action=action,
        object_type=OBJECT_TYPE,
        object_id=str(building.id),
        before=before,
        after={**after, **(extra or {})},
    )


# -- the status workflow -------------------------------------------------------------------------------

TRANSITIONS: dict[tuple[Status, Status], HeritageScope] = {
    (Status.draft, Status.submitted): HeritageScope.write,
    (Status.submitted, Status.draft): HeritageScope.write,  # withdrawn, or returned by a reviewer
    (Status.submitted, Status.under_review): HeritageScope.review,
    (Status.under_review, Status.draft): HeritageScope.review,  # returned for corrections
    (Status.under_review, Status.listed): HeritageScope.review,
    (Status.listed, Status.delisted): HeritageScope.review,  # only with an approval document
}


def change_status(
    session: Session, caller: Caller, building: Building, to: Status, *, comment: str, approval_reference: str | None
) -> None:
    """One step of draft → submitted → under_review → listed (→ delisted with an approval reference)."""
    current = Status(building.status)
    needed = TRANSITIONS.get((current, to))
    if needed is None:
        allowed = [t.value for (f, t) in TRANSITIONS if f is current]
        raise InvalidTransition(
            f"a {current.value} record cannot become {to.value}; allowed: {', '.join(allowed) or 'none'}",
            params={"from": current.value, "to": to.value},
        )
    require_any(caller, needed, HeritageScope.review)
    if to is Status.delisted and not (approval_reference or "").strip():
        raise ApprovalRequired("delisting needs the approval document's reference (approval_reference)")
    if building.retired_at is not None:
        raise RecordRetired(f"record {building.code} is retired", params={"code": building.code})
    before = {"status": current.value, "version": building.version}
    building.status = to.value
    if to is Status.delisted:
        building.delisting_reference = (approval_reference or "").strip()
    building.version += 1
    building.updated_at = utcnow()
    session.flush()
    after: dict[str, Any] = {"status": to.value, "version": building.version, "comment": comment}
    if approval_reference:
        after["approval_reference"] = approval_reference
    record_change(
        session,
        caller,
        action="heritage.building.status_changed",
        object_type=OBJECT_TYPE,
        object_id=str(building.id),
        before=before,
        after=after,
    )


def retire(session: Session, caller: Caller, building: Building, reason: str) -> None:
    """No hard delete: a retired record stays readable (and in its history) but leaves lists and checks.
    Drafts may be retired by their writers; anything further along needs the review scope."""
    needed = HeritageScope.write if building.status == Status.draft.value else HeritageScope.review
    require_any(caller, needed, HeritageScope.review)
    if building.retired_at is not None:
        raise RecordRetired(f"record {building.code} is already retired", params={"code": building.code})
    if not reason.strip():
        raise InvalidInput("a reason is required to retire a record")
    building.retired_at = utcnow()
    building.retired_reason = reason.strip()
    building.version += 1
    session.flush()
    record_change(
        session,
        caller,
        action="heritage.building.retired",
        object_type=OBJECT_TYPE,
        object_id=str(building.id),
        before={"retired_at": None, "version": building.version - 1},
        after={
            "retired_at": jsonable(building.retired_at),
            "retired_reason": building.retired_reason,
            "version": building.version,
        },
    )
