"""Differences between two IFC revisions of a dataset, as a job (``bim_review.diff_revisions``)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from cim_platform.bim_review.checks import enqueue_after_commit, visible_dataset
from cim_platform.bim_review.errors import RequirementsNotFound
from cim_platform.bim_review.model_diff import diff_files
from cim_platform.bim_review.models import CheckState, RevisionDiff
from cim_platform.bim_review.scopes import BimScope
from cim_platform.core.access import Caller
from cim_platform.core.db.base import utcnow
from cim_platform.core.errors import CimError, InvalidInput
from cim_platform.core.jobs.service import create_job
from cim_platform.core.settings import Settings
from cim_platform.datasets.models import DatasetKind, DatasetRevision
from cim_platform.datasets.sources import source_path

DIFF_TASK = "bim_review.diff_revisions"


def request_diff(
    session: Session, caller: Caller, dataset_id: uuid.UUID, old_revision_id: uuid.UUID, new_revision_id: uuid.UUID
) -> RevisionDiff:
    """The difference between two revisions (an existing one is answered again; committed by the caller)."""
    caller.require(BimScope.write)
    dataset = visible_dataset(session, caller, dataset_id)
    if dataset.kind != DatasetKind.ifc.value:
        raise InvalidInput("differences are computed between IFC revisions only", params={"kind": dataset.kind})
    if old_revision_id == new_revision_id:
        raise InvalidInput("choose two different revisions to compare")
    for revision_id in (old_revision_id, new_revision_id):
        revision = session.get(DatasetRevision, revision_id)
        if revision is None or revision.dataset_id != dataset.id:
            raise RequirementsNotFound(f"no revision {revision_id} in dataset {dataset.id}")
    existing = session.scalar(
        select(RevisionDiff).where(
            RevisionDiff.old_revision_id == old_revision_id, RevisionDiff.new_revision_id == new_revision_id
        )
    )
    if existing is not None and existing.state != CheckState.error.value:
        return existing
    if existing is not None:
        session.delete(existing)
        session.flush()
    diff = RevisionDiff(
        id=uuid.uuid4(),
        dataset_id=dataset.id,
        old_revision_id=old_revision_id,
        new_revision_id=new_revision_id,
        state=CheckState.queued.value,
        message="",
    )
    job = create_job(
        session, DIFF_TASK, {"diff_id": str(diff.id)}, organization_id=dataset.organization_id, user_id=caller.user_id
    )
    diff.job_id = job.id
    session.add(diff)
    session.flush()
    enqueue_after_commit(session, [job.id])
    return diff


def run_diff(session: Session, settings: Settings, diff_id: uuid.UUID) -> RevisionDiff:
    diff = session.get(RevisionDiff, diff_id, with_for_update=True)
    if diff is None:
        raise RequirementsNotFound("the difference no longer exists")
    old = session.get(DatasetRevision, diff.old_revision_id)
    new = session.get(DatasetRevision, diff.new_revision_id)
    if old is None or new is None:
        raise RequirementsNotFound("a revision of the difference no longer exists")
    try:
        result = diff_files(source_path(settings, old.source_path), source_path(settings, new.source_path))
    except CimError as error:
        diff.state, diff.message = CheckState.error.value, error.message
    else:
        diff.summary = result.pop("summary")
        diff.result = result
        diff.state = CheckState.passed.value  # computed
        diff.message = "{added} added, {deleted} deleted, {changed} changed".format(**diff.summary)
    diff.finished_at = utcnow()
    session.flush()
    return diff


def get_diff(session: Session, caller: Caller, diff_id: uuid.UUID) -> RevisionDiff:
    diff = session.get(RevisionDiff, diff_id)
    if diff is None:
        raise RequirementsNotFound(f"no difference {diff_id}")
    visible_dataset(session, caller, diff.dataset_id)
    return diff


def diffs_of(session: Session, caller: Caller, dataset_id: uuid.UUID) -> list[RevisionDiff]:
    visible_dataset(session, caller, dataset_id)
    return list(
        session.scalars(
            select(RevisionDiff).where(RevisionDiff.dataset_id == dataset_id).order_by(RevisionDiff.created_at.desc())
        )
    )
