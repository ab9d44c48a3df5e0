"""Runs one platform job inside a worker and keeps its user-facing state up to date."""

from __future__ import annotations

import logging
import os
import time
import uuid
from typing import Any

import procrastinate
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from cim_platform.core.db.base import utcnow
from cim_platform.core.db.engine import get_engine, session_scope
from cim_platform.core.errors import CimError
from cim_platform.core.jobs.models import ErrorKind, Job, JobState
from cim_platform.core.jobs.registry import KINDS, JobAborted, JobRun, finalize_abandoned
from cim_platform.core.settings import Settings

logger = logging.getLogger(__name__)

PROGRESS_WRITE_INTERVAL_S = 0.5
FINAL_WRITE_RETRY_S = 600.0
"""How long the runner keeps trying to store a job's end while the database cannot be reached. After
that the job is left to the queue: its worker's heartbeat or the reconciler end or rerun it."""
_settings: Settings | None = None


def configure(settings: Settings) -> None:
    """Called once by the worker process before it takes jobs."""
    global _settings
    _settings = settings


def _current_settings() -> Settings:
    return _settings or Settings()


def connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` means the database could not be reached (rather than a bug or bad data)."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def without_server_paths(message: str, settings: Settings) -> str:
    """A job's error as its submitter may read it: paths under the data folder relative to it, so the
    server's layout is not shown (``work/<revision>/model.ifc``, not ``/srv/cim/var/work/…``)."""
    root = str(settings.resolved_data_dir)
    return message.replace(root + os.sep, "").replace(root, ".")


def _update(engine: Engine, job_id: uuid.UUID, **values: Any) -> None:
    with session_scope(engine) as session:
        job = session.get(Job, job_id, with_for_update=True)
        if job is None:
            return
        for key, value in values.items():
            setattr(job, key, value)
        job.updated_at = utcnow()
        if JobState(job.state).finished and job.state != JobState.succeeded.value:
            finalize_abandoned(session, job.task, dict(job.params or {}), job.state)  # its domain objects follow


def _finish(engine: Engine, job_id: uuid.UUID, **values: Any) -> None:
    """Store the end of a job, retrying while the database cannot be reached (it may be restarting)."""
    deadline = time.monotonic() + FINAL_WRITE_RETRY_S
    delay = 0.5
    while True:
        try:
            _update(engine, job_id, **values)
            return
        except Exception as exc:
            if not connection_lost(exc) or time.monotonic() + delay > deadline:
                raise
            logger.warning("job %s: cannot store its end (%s); retrying in %.1f s", job_id, _first_line(exc), delay)
        time.sleep(delay)
        delay = min(delay * 2, 5.0)


def _start(engine: Engine, job_id: uuid.UUID) -> Job | None:
    with session_scope(engine) as session:
        job = session.get(Job, job_id, with_for_update=True)
        if job is None or JobState(job.state).finished:
            return None
        restarted = job.state == JobState.running.value
        job.state, job.attempts = JobState.running.value, job.attempts + 1
        job.started_at = job.updated_at = utcnow()
        job.progress, job.error, job.error_kind = 0.0, None, None
        job.message = "restarted after its worker stopped" if restarted else "started"
        session.flush()
        session.expunge(job)
        return job


def run_platform_job(job_id_text: str, context: procrastinate.JobContext | None) -> None:
    settings = _current_settings()
    engine = get_engine(settings, start=False)
    job_id = uuid.UUID(job_id_text)
    job = _start(engine, job_id)
    if job is None:
        logger.info("job %s is gone or finished; nothing to do", job_id)
        return
    kind = KINDS.get(job.task)
    if kind is None:
        _finish(
            engine,
            job_id,
            state="failed",
            error_kind="internal",
            error=f"no handler for task {job.task!r}",
            finished_at=utcnow(),
        )
        return

    def should_abort() -> bool:
        return bool(context is not None and context.should_abort())

    last_write = 0.0

    def report_progress(fraction: float, message: str) -> None:
        nonlocal last_write
        if should_abort():
            raise JobAborted("cancelled")
        now = time.monotonic()
        if now - last_write >= PROGRESS_WRITE_INTERVAL_S:
            last_write = now
            try:
                _update(engine, job_id, progress=max(0.0, min(1.0, fraction)), message=message[:500])
            except Exception as exc:
                if not connection_lost(exc):
                    raise
                # progress is informative only: the job goes on while the database restarts
                logger.warning("job %s: progress not stored, the database is unreachable: %s", job_id, _first_line(exc))

    run = JobRun(job_id, dict(job.params or {}), engine, settings, report_progress, should_abort)
    try:
        result = kind.handler(run)
    except JobAborted:
        _finish(engine, job_id, state=JobState.cancelled.value, message="cancelled", finished_at=utcnow())
    except CimError as exc:
        if not exc.blames_input:
            logger.warning("job %s (%s) failed: %s", job_id, job.task, exc.message)
        _finish(
            engine,
            job_id,
            state=JobState.failed.value,
            error_kind=(ErrorKind.data if exc.blames_input else ErrorKind.internal).value,
            error=without_server_paths(exc.message, settings),
            message="failed: the input could not be used" if exc.blames_input else "failed",
            finished_at=utcnow(),
        )
    except Exception as exc:
        if connection_lost(exc) or any(connection_lost(e) for e in _causes(exc)):
            logger.warning("job %s (%s) lost the database: %s", job_id, job.task, _first_line(exc))
            error = (
                f"the database connection was lost while the job ran ({_first_line(exc)}); "
                "nothing of its result was kept: submit it again"
            )
        else:
            logger.exception("job %s (%s) failed", job_id, job.task)
            error = f"internal error ({type(exc).__name__}); see the worker log"
        _finish(
            engine,
            job_id,
            state=JobState.failed.value,
            error_kind=ErrorKind.internal.value,
            error=error,
            message="failed",
            finished_at=utcnow(),
        )
    else:
        _finish(
            engine,
            job_id,
            state=JobState.succeeded.value,
            progress=1.0,
            message="done",
            result=result or {},
            finished_at=utcnow(),
        )


def _causes(exc: BaseException) -> list[BaseException]:
    """The errors ``exc`` was raised from or while handling (a cleanup failing on a lost connection)."""
    chain: list[BaseException] = []
    current = exc.__cause__ or exc.__context__
    while current is not None and len(chain) < 8:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain
