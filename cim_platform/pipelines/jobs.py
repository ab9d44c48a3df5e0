"""The job kind ``pipelines.registry`` and its trigger: when a pipelines revision is published (the after-publish
hook of ``cim_platform.core.hooks``) a job is recorded in the same transaction; a worker reads the original upload
again with the converter's reader and replaces the dataset's registry rows by the published revision's network.

The hook only records the job (a worker's reconciler hands it to the queue after its grace period, so a burst of
publications of one dataset is one refresh); ``queue_refresh`` hands it over at once (the refresh route).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cim_platform.core.db.engine import session_scope
from cim_platform.core.hooks import Published, after_publish
from cim_platform.core.jobs.models import Job, JobState
from cim_platform.core.jobs.registry import JobRun, RouteLink, job_kind
from cim_platform.core.jobs.service import create_job
from cim_platform.datasets.models import Dataset, DatasetKind, DatasetRevision
from cim_platform.datasets.sources import source_path
from cim_platform.pipelines import monitoring, registry
from converters.errors import ConversionError

REGISTRY_TASK = "pipelines.registry"


def record_refresh(session: Session, dataset_id: uuid.UUID, organization_id: uuid.UUID | None = None) -> Job:
    """The dataset's registry job (a waiting one is reused)."""
    waiting = session.scalar(select(Job).where(
        Job.task == REGISTRY_TASK, Job.state == JobState.queued.value,
        Job.params["dataset_id"].astext == str(dataset_id)))
    if waiting is not None:
        return waiting
    return create_job(session, REGISTRY_TASK, {"dataset_id": str(dataset_id)}, organization_id=organization_id)


@after_publish("pipelines")
def registry_after_publish(session: Session, event: Published) -> None:
    dataset = session.get(Dataset, event.dataset_id)
    if dataset is not None and dataset.kind == DatasetKind.pipelines.value:
        record_refresh(session, dataset.id, dataset.organization_id)


def registry_links(params: dict[str, Any], state: str) -> dict[str, RouteLink]:
    return {"segments": RouteLink("list_pipeline_segments", {})}


@job_kind(REGISTRY_TASK, links=registry_links)
def refresh_registry(run: JobRun) -> dict[str, Any]:
    dataset_id = uuid.UUID(run.params["dataset_id"])
    with session_scope(run.engine) as session:
        dataset = session.get(Dataset, dataset_id)
        if dataset is None or dataset.published_revision_id is None:
            if dataset is not None:
                registry.clear(session, dataset_id)
                monitoring.take_snapshot(session, "unpublished")
            return {"segments": 0, "points": 0}
        revision = session.get(DatasetRevision, dataset.published_revision_id)
        assert revision is not None
        run.report_progress(0.1, "reading the survey tables")
        try:
            segments, points = registry.fill(session, dataset, revision,
                                             source_path(run.settings, revision.source_path))
        except ConversionError as error:  # the conversion read it: only a changed reader can refuse it now
            raise ValueError(f"the published revision's tables cannot be read again: {error}") from error
        monitoring.take_snapshot(session, "publish")
        return {"segments": segments, "points": points, "revision_id": str(revision.id)}
