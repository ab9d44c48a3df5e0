"""Keeping the platform's jobs and the queue in agreement (run by every worker, every few seconds).

- A job committed but never handed to the queue (the queue was unreachable, or the API process died
  in between) is handed over.
- A job whose queue entry ended without the platform's runner finishing it (its worker died after
  a cancellation was requested, or the runner itself could not write its end, e.g. the database was
  unreachable longer than the runner retries) is ended here, as cancelled or failed, and its domain
  objects follow (``registry.finalize_abandoned``). A job whose worker died (or lost its database) while
  the queue still says it runs is requeued by the stalled-worker recovery and runs again.
"""

from __future__ import annotations

import logging
import uuid

from sqlalchemy import Engine, text

from cim_platform.core.db.base import utcnow
from cim_platform.core.db.engine import session_scope
from cim_platform.core.jobs.models import ErrorKind, Job, JobState
from cim_platform.core.jobs.queue import defer_run_job
from cim_platform.core.jobs.registry import finalize_abandoned
from cim_platform.core.settings import Settings

logger = logging.getLogger(__name__)
GRACE_S = 30

_NEVER_QUEUED = text(
    """
    SELECT j.id FROM jobs j
     WHERE j.state = 'queued' AND j.queue_job_id IS NULL AND j.created_at < now() - make_interval(secs => :grace)
       AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs p WHERE p.args->>'job_id' = j.id::text)
    """
)
_ORPHANED = text(
    """
    SELECT j.id, p.status, coalesce(p.abort_requested, false) AS abort_requested
      FROM jobs j LEFT JOIN procrastinate_jobs p ON p.id = j.queue_job_id
     WHERE j.state IN ('queued', 'running') AND j.queue_job_id IS NOT NULL
       AND (p.id IS NULL OR p.status IN ('failed', 'cancelled', 'aborted'))
       AND coalesce(j.updated_at, j.created_at) < now() - make_interval(secs => :grace)
    """
)


def reconcile(settings: Settings, engine: Engine, grace_s: float = GRACE_S) -> dict[str, int]:
    with engine.connect() as conn:
        never_queued = [row.id for row in conn.execute(_NEVER_QUEUED, {"grace": grace_s})]
        orphaned = [
            (row.id, row.status in ("cancelled", "aborted") or row.abort_requested)
            for row in conn.execute(_ORPHANED, {"grace": grace_s})
        ]
    for job_id in never_queued:
        queue_job_id = defer_run_job(settings, str(job_id))
        with session_scope(engine) as session:
            job = session.get(Job, job_id, with_for_update=True)
            if job is not None and job.queue_job_id is None:
                job.queue_job_id = queue_job_id
        logger.warning("job %s was never queued; handed to the queue now", job_id)
    for job_id, cancelled in orphaned:
        _end(engine, job_id, cancelled=cancelled)
    return {"queued": len(never_queued), "ended": len(orphaned)}


def _end(engine: Engine, job_id: uuid.UUID, *, cancelled: bool) -> None:
    with session_scope(engine) as session:
        job = session.get(Job, job_id, with_for_update=True)
        if job is None or JobState(job.state).finished:
            return
        job.finished_at = job.updated_at = utcnow()
        if cancelled:
            job.state, job.message = JobState.cancelled.value, "cancelled"
        else:
            job.state, job.error_kind = JobState.failed.value, ErrorKind.internal.value
            job.error = (
                "the job stopped without storing its outcome (its worker or its database connection was lost); "
                "submit it again or ask an administrator"
            )
            job.message = "failed"
        finalize_abandoned(session, job.task, dict(job.params or {}), job.state)
        logger.warning("job %s ended by the reconciler as %s", job_id, job.state)
