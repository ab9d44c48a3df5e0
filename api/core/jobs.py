"""Background jobs: status and cancellation."""

from __future__ import annotations

import logging
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy import func, select
from starlette.routing import NoMatchFound

from api.core.schemas import JobOut
from api.deps import SessionDep, SettingsDep, requires
from cim_platform.core.access import Caller, Scope
from cim_platform.core.jobs import service
from cim_platform.core.jobs.models import Job, JobState
from cim_platform.core.jobs.registry import result_links

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])
JobReader = Annotated[Caller, Depends(requires(Scope.jobs_read))]


def job_out(job: Job, request: Request) -> JobOut:
    links = {"self": str(request.app.url_path_for("get_job", job_id=str(job.id)))}
    for name, link in result_links(job.task, dict(job.params or {}), job.state).items():
        try:
            links[name] = str(request.app.url_path_for(link.route, **link.params))
        except NoMatchFound:  # a job kind naming a route no registered domain serves: a bug, not the caller's
            logger.error("job kind %s links %r to the unknown route %r", job.task, name, link.route)
    return JobOut(
        id=job.id,
        task=job.task,
        state=job.state,
        progress=job.progress,
        message=job.message,
        error_kind=job.error_kind,
        error=job.error,
        attempts=job.attempts,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        result=job.result,
        links=links,
    )


def _visible_job(session: SessionDep, caller: Caller, job_id: uuid.UUID) -> Job:
    job = service.get_job(session, job_id)
    caller.check_visible(job.organization_id, public=False, what=f"job {job_id}")
    return job


@router.get("", response_model=list[JobOut])
def list_jobs(
    caller: JobReader,
    session: SessionDep,
    request: Request,
    response: Response,
    state: Annotated[JobState | None, Query(description="Only jobs in this state")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[JobOut]:
    """The caller's organisation's jobs, newest first (all jobs for admins and officials); the number of
    matching jobs is in the ``X-Total-Count`` header."""
    query = select(Job)
    if not caller.reads_everything():
        query = query.where(Job.organization_id == caller.organization_id)
    if state is not None:
        query = query.where(Job.state == state)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    response.headers["X-Total-Count"] = str(total)
    page = query.order_by(Job.created_at.desc(), Job.id).limit(limit).offset(offset)
    return [job_out(job, request) for job in session.scalars(page)]


@router.get("/{job_id}", response_model=JobOut, name="get_job")
def get_job(job_id: uuid.UUID, caller: JobReader, session: SessionDep, request: Request) -> JobOut:
    return job_out(_visible_job(session, caller, job_id), request)


@router.delete("/{job_id}", response_model=JobOut)
def cancel_job(
    job_id: uuid.UUID, caller: JobReader, session: SessionDep, settings: SettingsDep, request: Request
) -> JobOut:
    job = _visible_job(session, caller, job_id)
    caller.check_manages(job.organization_id, what="job")
    service.cancel(settings, session, job)
    session.commit()
    return job_out(job, request)
