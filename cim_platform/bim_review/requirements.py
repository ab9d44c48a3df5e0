"""IDS documents managed by officials: upload, new versions, assignment (organisations, districts,
dataset kinds), "require a pass before publishing"; and which apply to a dataset."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cim_platform.bim_review.errors import IdsUnreadable, RequirementsNotFound
from cim_platform.bim_review.ids_check import load_ids_text
from cim_platform.bim_review.models import IdsDocument, IdsVersion
from cim_platform.bim_review.scopes import BimScope
from cim_platform.core.access import Caller
from cim_platform.core.audit import record_change
from cim_platform.core.db.base import utcnow
from cim_platform.datasets.models import Dataset

MAX_IDS_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class Assignment:
    organization_ids: list[uuid.UUID]
    district_codes: list[str]
    dataset_kinds: list[str]


def _parse(xml_bytes: bytes) -> tuple[str, str, list[dict[str, Any]]]:
    if len(xml_bytes) > MAX_IDS_BYTES:
        raise IdsUnreadable(f"the IDS file is larger than {MAX_IDS_BYTES // 1024} KiB")
    try:
        xml = xml_bytes.decode("utf-8")
    except UnicodeDecodeError:
        raise IdsUnreadable("the IDS file is not UTF-8 text") from None
    document = load_ids_text(xml)
    specifications = [
        {
            "name": str(s.name or ""),
            "description": str(s.description or ""),
            "ifc_versions": [str(v) for v in s.ifcVersion],
            "required": bool(s.minOccurs),
        }
        for s in document.specifications
    ]
    return xml, str(document.info.get("title", "")), specifications


def _version(document_id: uuid.UUID, number: int, filename: str, xml_bytes: bytes, caller: Caller) -> IdsVersion:
    xml, title, specifications = _parse(xml_bytes)
    return IdsVersion(
        document_id=document_id,
        number=number,
        filename=filename[:300],
        xml=xml,
        sha256=hashlib.sha256(xml_bytes).hexdigest(),
        title=title[:500],
        specifications=specifications,
        created_by=caller.user_id,
    )


def create_document(
    session: Session, caller: Caller, *, name: str, description: str, filename: str, xml_bytes: bytes
) -> IdsDocument:
    caller.require(BimScope.manage_ids)
    document = IdsDocument(
        id=uuid.uuid4(),
        name=name,
        description=description,
        created_by=caller.user_id,
        organization_ids=[],
        district_codes=[],
        dataset_kinds=[],
        current_version=1,
        active=True,
        require_pass=False,
    )
    version = _version(document.id, 1, filename, xml_bytes, caller)
    session.add(document)
    session.flush()
    session.add(version)
    session.flush()
    record_change(
        session,
        caller,
        action="ids.created",
        object_type="bim_ids",
        object_id=str(document.id),
        before=None,
        after={"name": name, "version": 1, "sha256": version.sha256},
    )
    return document


def add_version(
    session: Session, caller: Caller, document_id: uuid.UUID, filename: str, xml_bytes: bytes
) -> IdsVersion:
    caller.require(BimScope.manage_ids)
    document = get_document(session, caller, document_id)
    version = _version(document.id, document.current_version + 1, filename, xml_bytes, caller)
    session.add(version)
    before = {"version": document.current_version}
    document.current_version = version.number
    document.updated_at = utcnow()
    session.flush()
    record_change(
        session,
        caller,
        action="ids.version_added",
        object_type="bim_ids",
        object_id=str(document.id),
        before=before,
        after={"version": version.number, "sha256": version.sha256},
    )
    return version


def update_document(session: Session, caller: Caller, document_id: uuid.UUID, changes: dict[str, Any]) -> IdsDocument:
    """``changes``: any of name, description, active, require_pass, organization_ids, district_codes,
    dataset_kinds."""
    caller.require(BimScope.manage_ids)
    document = get_document(session, caller, document_id)
    before = document_settings(document)
    for key, value in changes.items():
        setattr(document, key, list(value) if isinstance(value, list | tuple) else value)
    document.updated_at = utcnow()
    session.flush()
    record_change(
        session,
        caller,
        action="ids.updated",
        object_type="bim_ids",
        object_id=str(document.id),
        before=before,
        after=document_settings(document),
    )
    return document


def document_settings(document: IdsDocument) -> dict[str, Any]:
    return {
        "name": document.name,
        "active": document.active,
        "require_pass": document.require_pass,
        "organization_ids": [str(o) for o in document.organization_ids],
        "district_codes": list(document.district_codes),
        "dataset_kinds": list(document.dataset_kinds),
    }


def get_document(session: Session, caller: Caller, document_id: uuid.UUID) -> IdsDocument:
    caller.require(BimScope.read)
    document = session.get(IdsDocument, document_id)
    if document is None:
        raise RequirementsNotFound(f"no IDS {document_id}")
    return document


def list_documents(session: Session, caller: Caller) -> list[IdsDocument]:
    caller.require(BimScope.read)
    return list(session.scalars(select(IdsDocument).order_by(IdsDocument.created_at)))


def versions_of(session: Session, document_id: uuid.UUID) -> list[IdsVersion]:
    return list(
        session.scalars(select(IdsVersion).where(IdsVersion.document_id == document_id).order_by(IdsVersion.number))
    )


def get_version(session: Session, caller: Caller, document_id: uuid.UUID, number: int) -> IdsVersion:
    get_document(session, caller, document_id)
    version = session.scalar(
        select(IdsVersion).where(IdsVersion.document_id == document_id, IdsVersion.number == number)
    )
    if version is None:
        raise RequirementsNotFound(f"no version {number} of IDS {document_id}")
    return version


def applies_to(document: IdsDocument, dataset: Dataset) -> bool:
    return (
        document.active
        and (not document.organization_ids or dataset.organization_id in document.organization_ids)
        and (not document.district_codes or dataset.district_code in document.district_codes)
        and (not document.dataset_kinds or dataset.kind in document.dataset_kinds)
    )


def applicable_versions(session: Session, dataset: Dataset) -> list[tuple[IdsDocument, IdsVersion]]:
    """The current version of every active IDS assigned to the dataset."""
    rows = session.execute(
        select(IdsDocument, IdsVersion)
        .join(IdsVersion, IdsVersion.document_id == IdsDocument.id)
        .where(IdsDocument.active.is_(True), IdsVersion.number == IdsDocument.current_version)
        .order_by(IdsDocument.created_at)
    ).all()
    return [(document, version) for document, version in rows if applies_to(document, dataset)]
