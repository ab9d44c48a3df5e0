"""The survey-and-mapping archive of a record: items in five sections, each an original file kept
unchanged (size, SHA-256) with survey metadata and a QA stage (self_check → re_check → accepted).

A new version of an item is a new item superseding the old one (never overwritten). Items are retired
with a reason, never deleted. Every change is a row of the record's history (the audit trail).
A section is complete when it holds an active, accepted item of a kind that completes it
(``COMPLETING_KINDS``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cim_platform.core.access import Caller
from cim_platform.core.audit import fields_of, jsonable, record_change
from cim_platform.core.db.base import utcnow
from cim_platform.core.errors import Conflict, InvalidInput, NotFound
from cim_platform.core.settings import Settings
from cim_platform.datasets.service import resolve_district
from cim_platform.datasets.sources import IncomingFile, keep_source
from cim_platform.heritage import service
from cim_platform.heritage.geometry import check_crs
from cim_platform.heritage.models import ArchiveItem, Building, ItemKind, QaStage, Section
from cim_platform.heritage.scopes import HeritageScope

K = ItemKind
KINDS_BY_SECTION: dict[Section, frozenset[ItemKind]] = {
    Section.features: frozenset({K.photo, K.panorama, K.video, K.survey_report, K.orthophoto}),
    Section.technical: frozenset({K.site_plan, K.plan, K.elevation, K.section, K.detail, K.bim_model, K.model_3d}),
    Section.use_ownership: frozenset({K.ownership_record, K.approval_document, K.photo}),
    Section.interventions: frozenset(
        {K.repair_record, K.approval_document, K.photo, K.video, K.plan, K.elevation, K.section, K.detail}
    ),
    Section.survey: frozenset(set(ItemKind) - {K.repair_record, K.ownership_record, K.approval_document}),
}
COMPLETING_KINDS: dict[Section, frozenset[ItemKind]] = {
    Section.features: frozenset({K.photo, K.survey_report}),
    Section.technical: frozenset({K.site_plan, K.plan, K.elevation, K.section}),
    Section.use_ownership: frozenset({K.ownership_record}),
    Section.interventions: frozenset({K.repair_record}),
    Section.survey: frozenset({K.survey_report, K.point_cloud, K.model_3d, K.bim_model}),
}
METADATA_FIELDS = (
    "title",
    "description",
    "event_date",
    "plane_datum",
    "height_datum",
    "survey_tier",
    "accuracy",
    "captured_on",
    "surveyor",
    "organisation",
    "equipment",
)
AUDITED = ("id", "section", "kind", "filename", "bytes", "sha256", "qa_stage", "version_no", "supersedes_id")


def _audit(session: Session, caller: Caller, item: ArchiveItem, action: str, before: Any, after: Any) -> None:
    record_change(
        session,
        caller,
        action=action,
        object_type=service.OBJECT_TYPE,
        object_id=str(item.building_id),
        before=before,
        after=after,
    )


def add_item(
    session: Session,
    settings: Settings,
    caller: Caller,
    building: Building,
    incoming: IncomingFile,
    *,
    section: Section,
    kind: ItemKind,
    metadata: dict[str, Any],
    supersedes: uuid.UUID | None,
) -> ArchiveItem:
    """File an item (the file is moved to its permanent, read-only place; the caller removes ``incoming``
    if this raises)."""
    caller.require(HeritageScope.write)
    if building.retired_at is not None:
        raise Conflict(f"record {building.code} is retired")
    if kind not in KINDS_BY_SECTION[section]:
        allowed = ", ".join(sorted(k.value for k in KINDS_BY_SECTION[section]))
        raise InvalidInput(
            f"a {kind.value} does not belong in section {section.value}; expected one of: {allowed}",
            params={"kind": kind.value, "section": section.value},
        )
    unknown = set(metadata) - set(METADATA_FIELDS)
    if unknown:
        raise InvalidInput(f"unknown item fields: {', '.join(sorted(unknown))}")
    if metadata.get("plane_datum"):
        check_crs(str(metadata["plane_datum"]))
    previous = None
    if supersedes is not None:
        previous = get_item(session, caller, supersedes, lock=True)
        if previous.building_id != building.id or previous.superseded_at is not None:
            raise Conflict("only the current version of an item of this record can be superseded")
    item = ArchiveItem(
        id=uuid.uuid4(),
        building_id=building.id,
        section=section.value,
        kind=kind.value,
        filename=incoming.filename,
        bytes=incoming.size,
        sha256=incoming.sha256,
        format=(incoming.filename.rsplit(".", 1)[-1].lower() if "." in incoming.filename else "")[:32],
        qa_stage=QaStage.self_check.value,
        qa_log=[{"stage": QaStage.self_check.value, "by": caller.username, "at": utcnow().isoformat()}],
        version_no=previous.version_no + 1 if previous else 1,
        supersedes_id=previous.id if previous else None,
        created_by=caller.user_id,
        **{field: metadata.get(field) for field in METADATA_FIELDS if field != "description"},
        description=metadata.get("description") or "",
    )
    if previous is not None:
        previous.superseded_at = utcnow()
    item.path = keep_source(settings, incoming, item.id)
    session.add(item)
    session.flush()
    after = {**fields_of(item, *AUDITED), **jsonable({k: metadata.get(k) for k in METADATA_FIELDS})}
    _audit(session, caller, item, "heritage.item.added", None, after)
    return item


def get_item(session: Session, caller: Caller, item_id: uuid.UUID, *, lock: bool = False) -> ArchiveItem:
    caller.require(HeritageScope.read)
    query = select(ArchiveItem).where(ArchiveItem.id == item_id)
    item = session.scalar(query.with_for_update() if lock else query)
    if item is None:
        raise NotFound(f"no archive item {item_id}", params={"id": str(item_id)})
    return item


def list_items(session: Session, caller: Caller, building_id: uuid.UUID, *, every_version: bool) -> list[ArchiveItem]:
    caller.require(HeritageScope.read)
    query = select(ArchiveItem).where(ArchiveItem.building_id == building_id)
    if not every_version:
        query = query.where(ArchiveItem.superseded_at.is_(None), ArchiveItem.retired_at.is_(None))
    return list(session.scalars(query.order_by(ArchiveItem.section, ArchiveItem.event_date, ArchiveItem.created_at)))


NEXT_STAGE = {QaStage.self_check: QaStage.re_check, QaStage.re_check: QaStage.accepted}


def qa_step(session: Session, caller: Caller, item_id: uuid.UUID, to: QaStage, comment: str) -> ArchiveItem:
    """self_check → re_check (a writer or reviewer other than the one who filed it) → accepted (reviewers)."""
    item = get_item(session, caller, item_id, lock=True)
    current = QaStage(item.qa_stage)
    if NEXT_STAGE.get(current) is not to:
        raise Conflict(f"an item at {current.value} cannot go to {to.value}", params={"from": current.value})
    if to is QaStage.accepted:
        caller.require(HeritageScope.review)
    else:
        service.require_any(caller, HeritageScope.write, HeritageScope.review)
        if item.qa_log and item.qa_log[0].get("by") == caller.username:
            raise Conflict("the re-check is done by someone other than the person who filed the item")
    if item.retired_at is not None:
        raise Conflict("the item is retired")
    item.qa_stage = to.value
    item.qa_log = [
        *item.qa_log,
        {"stage": to.value, "by": caller.username, "at": utcnow().isoformat(), "comment": comment},
    ]
    session.flush()
    after = {"item_id": str(item.id), "qa_stage": to.value, "comment": comment}
    _audit(session, caller, item, "heritage.item.qa", {"item_id": str(item.id), "qa_stage": current.value}, after)
    return item


def retire_item(session: Session, caller: Caller, item_id: uuid.UUID, reason: str) -> ArchiveItem:
    service.require_any(caller, HeritageScope.write, HeritageScope.review)
    item = get_item(session, caller, item_id, lock=True)
    if item.qa_stage == QaStage.accepted.value:
        caller.require(HeritageScope.review)
    if item.retired_at is not None:
        raise Conflict("the item is already retired")
    if not reason.strip():
        raise InvalidInput("a reason is required to retire an item")
    item.retired_at = utcnow()
    item.retired_reason = reason.strip()
    session.flush()
    after = {"item_id": str(item.id), "retired_reason": item.retired_reason}
    _audit(session, caller, item, "heritage.item.retired", {"item_id": str(item.id), "retired_at": None}, after)
    return item


# -- completeness ------------------------------------------------------------------------------------


@dataclass
class BuildingCompleteness:
    building: Building
    missing: list[Section]


@dataclass
class Completeness:
    buildings: list[BuildingCompleteness]
    listed_total: int
    listed_complete: int


def missing_sections(items: list[ArchiveItem]) -> list[Section]:
    have = {
        (Section(i.section), ItemKind(i.kind))
        for i in items
        if i.qa_stage == QaStage.accepted.value and i.retired_at is None and i.superseded_at is None
    }
    return [s for s in Section if not any((s, kind) in have for kind in COMPLETING_KINDS[s])]


def completeness(session: Session, caller: Caller, district: str | None) -> Completeness:
    """Per active record (of a district, or all): the sections still missing; and the city-wide share of
    listed records whose archive is complete."""
    caller.require(HeritageScope.read)
    items: dict[uuid.UUID, list[ArchiveItem]] = {}
    for item in session.scalars(select(ArchiveItem).where(ArchiveItem.retired_at.is_(None))):
        items.setdefault(item.building_id, []).append(item)
    everyone = list(session.scalars(select(Building).where(Building.retired_at.is_(None)).order_by(Building.code)))
    code = resolve_district(session, district) if district else None
    rows = [BuildingCompleteness(b, missing_sections(items.get(b.id, []))) for b in everyone]
    listed = [r for r in rows if r.building.status == "listed"]
    shown = [r for r in rows if code is None or r.building.district_code == code]
    return Completeness(shown, len(listed), sum(1 for r in listed if not r.missing))
