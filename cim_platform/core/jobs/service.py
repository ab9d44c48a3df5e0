"""Creating, enqueueing, reading and cancelling jobs (used by the API and the CLI)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cim_platform.core.db.base import utcnow
from cim_platform.core.db.engine import session_scope
from cim_platform.core.errors import Conflict, NotFound
from cim_platform.core.jobs.models import Job, JobState
from cim_platform.core.jobs.queue import defer_run_job, get_producer_app, import_handlers
from cim_platform.core.jobs.registry import KINDS, finalize_abandoned
from cim_platform.core.settings import Settings

logger = logging.getLogger(__name__)


def create_job(
    session: Session,
    task: str,
    params: dict[str, Any],
    *,
    organization_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
) -> Job:
    job = Job(task=task, params=params, organization_id=organization_id, created_by=user_id, state=JobState.queued)
    session.add(job)
    session.flush()
    return job


def enqueue(settings: Settings, engine: Engine, job_id: uuid.UUID) -> None:
    """Hand a committed job to the queue. If the queue cannot be reached the job stays queued and a
    worker's reconciler hands it over later (``jobs.reconcile``): an upload is never lost."""
    try:
        queue_job_id = defer_run_job(settings, str(job_id))
    except Exception:
        logger.exception("could not hand job %s to the queue; a worker will retry", job_id)
        return
    with session_scope(engine) as session:
        job = session.get(Job, job_id)
        if job is not None:
            job.queue_job_id = queue_job_id


def submit(
    settings: Settings,
    engine: Engine,
    task: str,
    params: dict[str, Any],
    *,
    organization_id: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
) -> uuid.UUID:
    import_handlers(settings)
    if task not in KINDS:
        raise NotFound(f"no job handler named {task!r}")
    with session_scope(engine) as session:
        job_id = create_job(session, task, params, organization_id=organization_id, user_id=user_id).id
    enqueue(settings, engine, job_id)
    return job_id


def cancel(settings: Settings, session: Session, job: Job) -> Job:
    """Cancel a queued job at once; ask a running one to stop (it ends as ``cancelled``)."""
    job = session.get(Job, job.id, with_for_update=True, populate_existing=True) or job
    state = JobState(job.state)
    if state.finished:
        raise Conflict(f"job {job.id} has already {state.value}")
    if job.queue_job_id is not None:
        get_producer_app(settings).job_manager.cancel_job_by_id(job.queue_job_id, abort=True)
    if state is JobState.queued:
        job.state, job.finished_at, job.message = JobState.cancelled.value, utcnow(), "cancelled before it started"
        import_handlers(settings)
        finalize_abandoned(session, job.task, dict(job.params or {}), JobState.cancelled.value)
    else:
        job.message = "cancellation requested"
    job.updated_at = utcnow()
    return job


def get_job(session: Session, job_id: uuid.UUID) -> Job:
    job = session.scalar(select(Job).where(Job.id == job_id))
    if job is None:
        raise NotFound(f"no job {job_id}")
    return job
