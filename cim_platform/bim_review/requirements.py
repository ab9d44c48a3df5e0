"""IDS documents managed by officials: upload, new versions, assignment (organisations, districts,
dataset kinds), "require a pass before publishing"; and which apply to a dataset.

Edits are conditional when the client names the version it read (``expected`` = the document's ETag):
a document changed meanwhile answers ``IdsEditConflict`` and nothing is written. Design institutes and
other readers see only the active IDS assigned to their organisation (or to every organisation)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cim_platform.accounts.models import Organization, User
from cim_platform.bim_review.errors import IdsUnreadable, RequirementsNotFound
from cim_platform.bim_review.ids_check import load_ids_text
from cim_platform.bim_review.models import IdsCheck, IdsDocument, IdsVersion
from cim_platform.bim_review.scopes import BimScope
from cim_platform.core.access import Caller
from cim_platform.core.audit import record_change
from cim_platform.core.conditional import if_match_names
from cim_platform.core.db.base import utcnow
from cim_platform.core.errors import Conflict, InvalidInput
from cim_platform.datasets.models import Dataset, DatasetKind, DatasetRevision, District

MAX_IDS_BYTES = 2 * 1024 * 1024
MAX_CHECKS_LISTED = 500


class IdsEditConflict(Conflict):
    """The IDS was changed by someone else since the client read it."""

    code = "ids_edit_conflict"


def etag(document: IdsDocument) -> str:
    """Names the document's state: its current version and the moment of its last change."""
    moment = document.updated_at or document.created_at
    return f'"{document.current_version}-{int(moment.timestamp() * 1_000_000):x}"'


def _check_unchanged(document: IdsDocument, expected: str | None) -> None:
    if expected is not None and not if_match_names(expected, etag(document), any_version=False):
        raise IdsEditConflict(
            f"the IDS “{document.name}” was changed by someone else since you read it (now version "
            f"{document.current_version}): reload it and make your change again",
            params={"current_version": document.current_version},
        )


def _locked(session: Session, caller: Caller, document_id: uuid.UUID) -> IdsDocument:
    get_document(session, caller, document_id)
    document = session.get(IdsDocument, document_id, with_for_update=True, populate_existing=True)
    assert document is not None
    return document


def _check_assignment(session: Session, changes: dict[str, Any]) -> None:
    """Organisations, districts and dataset kinds must be ones the platform knows (422 naming the others)."""
    if changes.get("organization_ids"):
        wanted = set(changes["organization_ids"])
        known = set(session.scalars(select(Organization.id).where(Organization.id.in_(wanted))))
        if wanted - known:
            missing = ", ".join(sorted(str(o) for o in wanted - known))
            raise InvalidInput(f"no organisation {missing}: choose from the organisations list")
    if changes.get("district_codes"):
        known_codes = set(session.scalars(select(District.code)))
        unknown = sorted(set(changes["district_codes"]) - known_codes)
        if unknown:
            raise InvalidInput(f"no district {', '.join(unknown)}: use the codes of GET /api/v1/districts")
    if changes.get("dataset_kinds"):
        unknown = sorted(set(changes["dataset_kinds"]) - {k.value for k in DatasetKind})
        if unknown:
            raise InvalidInput(
                f"no dataset kind {', '.join(unknown)}: use one of {', '.join(k.value for k in DatasetKind)}"
            )


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
    session: Session,
    caller: Caller,
    document_id: uuid.UUID,
    filename: str,
    xml_bytes: bytes,
    *,
    expected: str | None = None,
) -> IdsVersion:
    caller.require(BimScope.manage_ids)
    document = _locked(session, caller, document_id)
    _check_unchanged(document, expected)
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


def update_document(
    session: Session, caller: Caller, document_id: uuid.UUID, changes: dict[str, Any], *, expected: str | None = None
) -> IdsDocument:
    """``changes``: any of name, description, active, require_pass, organization_ids, district_codes,
    dataset_kinds."""
    caller.require(BimScope.manage_ids)
    document = _locked(session, caller, document_id)
    _check_unchanged(document, expected)
    _check_assignment(session, changes)
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


def visible_to(caller: Caller, document: IdsDocument) -> bool:
    """Officials (and admins) see every IDS; others the active ones assigned to their organisation or to all."""
    if BimScope.manage_ids.value in caller.scopes or caller.reads_everything():
        return True
    return document.active and (not document.organization_ids or caller.organization_id in document.organization_ids)


def get_document(session: Session, caller: Caller, document_id: uuid.UUID) -> IdsDocument:
    caller.require(BimScope.read)
    document = session.get(IdsDocument, document_id)
    if document is None or not visible_to(caller, document):
        raise RequirementsNotFound(f"no IDS {document_id}")
    return document


def list_documents(session: Session, caller: Caller) -> list[IdsDocument]:
    caller.require(BimScope.read)
    documents = session.scalars(select(IdsDocument).order_by(IdsDocument.created_at))
    return [d for d in documents if visible_to(caller, d)]


@dataclass(frozen=True)
class VersionInfo:
    version: IdsVersion
    author: str | None
    checks: int


def version_history(session: Session, document_id: uuid.UUID) -> list[VersionInfo]:
    """Every version with its uploader's name and how many revisions were checked against it."""
    counted = session.execute(
        select(IdsCheck.ids_version_id, func.count())
        .join(IdsVersion, IdsVersion.id == IdsCheck.ids_version_id)
        .where(IdsVersion.document_id == document_id)
        .group_by(IdsCheck.ids_version_id)
    ).all()
    counts: dict[uuid.UUID, int] = {version_id: int(n) for version_id, n in counted}
    rows = session.execute(
        select(IdsVersion, User.username)
        .outerjoin(User, User.id == IdsVersion.created_by)
        .where(IdsVersion.document_id == document_id)
        .order_by(IdsVersion.number)
    ).all()
    return [VersionInfo(version, author, counts.get(version.id, 0)) for version, author in rows]


def organization_names(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = session.execute(select(Organization.id, Organization.name).where(Organization.id.in_(ids))).all()
    return {organization_id: name for organization_id, name in rows}


def organizations(session: Session, caller: Caller) -> list[Organization]:
    """The organisations an IDS can be assigned to (officials)."""
    caller.require(BimScope.manage_ids)
    return list(session.scalars(select(Organization).order_by(Organization.name)))


@dataclass(frozen=True)
class CheckedRevision:
    check: IdsCheck
    version_number: int
    revision: DatasetRevision
    dataset: Dataset


def checked_revisions(session: Session, caller: Caller, document_id: uuid.UUID) -> list[CheckedRevision]:
    """The revisions checked against any version of the IDS, newest first (design institutes: their own)."""
    get_document(session, caller, document_id)
    query = (
        select(IdsCheck, IdsVersion.number, DatasetRevision, Dataset)
        .join(IdsVersion, IdsVersion.id == IdsCheck.ids_version_id)
        .join(DatasetRevision, DatasetRevision.id == IdsCheck.revision_id)
        .join(Dataset, Dataset.id == IdsCheck.dataset_id)
        .where(IdsVersion.document_id == document_id)
        .order_by(IdsCheck.created_at.desc())
        .limit(MAX_CHECKS_LISTED)
    )
    if not caller.reads_everything():
        query = query.where(Dataset.organization_id == caller.organization_id)
    return [CheckedRevision(c, n, r, d) for c, n, r, d in session.execute(query).all()]


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
