"""Publishing: which revision of a dataset viewers get."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cim_platform.core.db.base import utcnow
from cim_platform.core.errors import Conflict
from cim_platform.datasets.models import Dataset, DatasetRevision, RevisionState


def publish(session: Session, dataset: Dataset, revision: DatasetRevision) -> None:
    """Make ``revision`` the one viewers get; one UPDATE, so they see the old tileset or the new one."""
    if revision.state != RevisionState.ready.value:
        raise Conflict(f"revision {revision.number} is {revision.state}; only a ready revision can be published")
    newest_ready = session.scalar(
        select(func.max(DatasetRevision.number)).where(
            DatasetRevision.dataset_id == dataset.id, DatasetRevision.state == RevisionState.ready.value
        )
    )
    dataset.publication = "auto" if revision.number >= (newest_ready or 0) else "pinned"
    dataset.published_revision_id = revision.id
    dataset.footprint = revision.footprint
    dataset.updated_at = revision.published_at = utcnow()
