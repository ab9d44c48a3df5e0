"""Publishing: which revision of a dataset viewers get."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cim_platform.core.access import Caller
from cim_platform.core.audit import SYSTEM, record_change
from cim_platform.core.db.base import utcnow
from cim_platform.core.errors import Conflict
from cim_platform.core.guards import PublishAttempt, publish_refusals
from cim_platform.core.hooks import Published, run_after_publish
from cim_platform.datasets.models import Dataset, DatasetRevision, Publication, RevisionState


def publish(session: Session, dataset: Dataset, revision: DatasetRevision, *, caller: Caller = SYSTEM) -> None:
    """Make ``revision`` the one viewers get; one UPDATE, so they see the old tileset or the new one.

    ``caller`` is who asked (the audit trail's actor); a worker publishing a new conversion is SYSTEM."""
    if revision.state != RevisionState.ready.value:
        raise Conflict(f"revision {revision.number} is {revision.state}; only a ready revision can be published")
    refusals = publish_refusals(session, PublishAttempt(dataset.id, revision.id, caller))
    if refusals:  # another domain's guard objects (cim_platform.core.guards)
        if caller is SYSTEM:
            return  # a new conversion's automatic publication is held back; an owner publishes it later
        raise Conflict("; ".join(refusals))
    newest_ready = session.scalar(
        select(func.max(DatasetRevision.number)).where(
            DatasetRevision.dataset_id == dataset.id, DatasetRevision.state == RevisionState.ready.value
        )
    )
    previous = session.get(DatasetRevision, dataset.published_revision_id) if dataset.published_revision_id else None
    before = {
        "published_revision_id": str(previous.id) if previous else None,
        "published_revision_number": previous.number if previous else None,
        "publication": dataset.publication,
    }
    dataset.publication = Publication.auto if revision.number >= (newest_ready or 0) else Publication.pinned
    dataset.published_revision_id = revision.id
    dataset.footprint = revision.footprint
    dataset.updated_at = revision.published_at = utcnow()
    record_change(
        session,
        caller,
        action="revision.rolled_back" if previous and previous.number > revision.number else "revision.published",
        object_type="dataset",
        object_id=str(dataset.id),
        before=before,
        after={
            "published_revision_id": str(revision.id),
            "published_revision_number": revision.number,
            "publication": dataset.publication,
        },
    )
    run_after_publish(session, Published(dataset.id, revision.id, caller))  # other domains follow (core.hooks)
