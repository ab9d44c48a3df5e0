"""Publishing a dataset revision that overlaps a protection range or construction-control zone needs an
approval reference: officials record it here, and the heritage publish guard (registered with
``cim_platform.core.guards`` when the domain loads) holds back publication until it exists."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from cim_platform.core.access import Caller, Role
from cim_platform.core.audit import fields_of, record_change
from cim_platform.core.errors import InvalidInput, NotFound
from cim_platform.core.guards import PublishAttempt, publish_guard
from cim_platform.datasets.models import DatasetRevision
from cim_platform.heritage.conflicts import ConflictFilter, find_conflicts
from cim_platform.heritage.models import PublishApproval
from cim_platform.heritage.scopes import HeritageScope

EVERYTHING = Caller(user_id=None, username="heritage-guard", organization_id=None, role=Role.admin)
"""The guard sees every record and dataset (it reads; it never acts)."""


def approvals_for(session: Session, revision_id: uuid.UUID) -> list[PublishApproval]:
    query = select(PublishApproval).where(PublishApproval.revision_id == revision_id)
    return list(session.scalars(query.order_by(PublishApproval.created_at)))


def approve(session: Session, caller: Caller, revision_id: uuid.UUID, reference: str, comment: str) -> PublishApproval:
    caller.require(HeritageScope.review)
    if session.get(DatasetRevision, revision_id) is None:
        raise NotFound(f"no dataset revision {revision_id}", params={"id": str(revision_id)})
    if not reference.strip():
        raise InvalidInput("the approval document's reference is required")
    approval = PublishApproval(
        id=uuid.uuid4(),
        revision_id=revision_id,
        reference=reference.strip(),
        comment=comment,
        approved_by=caller.user_id,
        approved_by_name=caller.username,
    )
    session.add(approval)
    session.flush()
    record_change(
        session,
        caller,
        action="heritage.publication.approved",
        object_type="dataset_revision",
        object_id=str(revision_id),
        before=None,
        after=fields_of(approval, "id", "reference", "comment"),
    )
    return approval


@publish_guard("heritage")
def protection_guard(session: Session, attempt: PublishAttempt) -> list[str]:
    """Refuses a revision overlapping protection zones until an approval reference is recorded."""
    conflicts = find_conflicts(session, EVERYTHING, ConflictFilter(revision_id=attempt.revision_id))
    if not conflicts or approvals_for(session, attempt.revision_id):
        return []
    named = ", ".join(f"{c.building_code} {c.zone} ({c.area_m2:.0f} m²)" for c in conflicts[:5])
    return [
        f"the revision overlaps historic-building protection zones: {named}; an official records the approval "
        f"reference (POST /api/v1/heritage/approvals) before it can be published"
    ]
