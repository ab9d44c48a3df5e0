"""The job queue end to end with real `cim worker` processes on the test database."""

from __future__ import annotations

import signal
import uuid

from sqlalchemy import select

from cim_platform.core.db.engine import session_scope
from cim_platform.core.jobs import service
from cim_platform.core.jobs.models import Job
from tests.support.waiting import wait_for


def _job(engine, job_id: uuid.UUID) -> Job:
    with session_scope(engine) as session:
        job = session.scalar(select(Job).where(Job.id == job_id))
        session.expunge(job)
        return job


def test_job_runs_and_its_state_is_stored(client, settings, start_worker) -> None:
    engine = client.app.state.engine
    job_id = service.submit(settings, engine, "test.sleep", {"seconds": 0.5})
    assert _job(engine, job_id).state == "queued"
    start_worker()
    job = wait_for(lambda: (j := _job(engine, job_id)).state == "succeeded" and j, timeout=60)
    assert job.progress == 1.0
    assert job.result == {"slept": 0.5}
    assert job.attempts == 1
    assert job.started_at is not None and job.finished_at >= job.started_at


def test_bad_input_is_a_data_error_and_bugs_are_internal(client, settings, start_worker) -> None:
    engine = client.app.state.engine
    bad = service.submit(settings, engine, "test.bad_input", {})
    crash = service.submit(settings, engine, "test.crash", {})
    start_worker()
    bad_job = wait_for(lambda: (j := _job(engine, bad)).state == "failed" and j)
    crash_job = wait_for(lambda: (j := _job(engine, crash)).state == "failed" and j)
    assert (bad_job.error_kind, bad_job.error) == ("data", "the test input is wrong on purpose")
    assert crash_job.error_kind == "internal"
    assert "a bug" not in crash_job.error  # internals stay in the worker log


def test_killed_worker_job_is_recovered_by_another(client, settings, start_worker) -> None:
    engine = client.app.state.engine
    job_id = service.submit(settings, engine, "test.sleep", {"seconds": 4})
    first = start_worker()
    wait_for(lambda: _job(engine, job_id).state == "running", timeout=60)
    first.send_signal(signal.SIGKILL)  # a crash: no graceful shutdown, no heartbeat any more
    first.wait(timeout=10)
    assert _job(engine, job_id).state == "running"
    start_worker()
    job = wait_for(lambda: (j := _job(engine, job_id)).state == "succeeded" and j, timeout=90)
    assert job.attempts == 2
    assert job.result == {"slept": 4.0}


def test_cancel_queued_and_running_jobs(client, settings, start_worker, cast) -> None:
    engine = client.app.state.engine
    admin = cast.headers("admin")
    queued = service.submit(settings, engine, "test.sleep", {"seconds": 1})
    response = client.delete(f"/api/v1/jobs/{queued}", headers=admin)
    assert response.status_code == 200 and response.json()["state"] == "cancelled"
    running = service.submit(settings, engine, "test.sleep", {"seconds": 30})
    start_worker()
    wait_for(lambda: _job(engine, running).state == "running", timeout=60)
    assert client.delete(f"/api/v1/jobs/{running}", headers=admin).status_code == 200
    job = wait_for(lambda: (j := _job(engine, running)).state == "cancelled" and j, timeout=30)
    assert job.progress < 1.0
    assert _job(engine, queued).state == "cancelled" and _job(engine, queued).attempts == 0
    again = client.delete(f"/api/v1/jobs/{running}", headers=admin)
    assert again.status_code == 409 and "already cancelled" in again.json()["detail"]


def test_reconciler_ends_jobs_the_queue_lost_and_queues_jobs_it_never_got(client, settings) -> None:
    from sqlalchemy import text

    from cim_platform.core.jobs.reconcile import reconcile

    engine = client.app.state.engine
    never_queued = service.submit(settings, engine, "test.sleep", {"seconds": 0.1})
    lost = service.submit(settings, engine, "test.sleep", {"seconds": 0.1})
    cancelled = service.submit(settings, engine, "test.sleep", {"seconds": 0.1})
    with engine.begin() as conn:
        conn.execute(text("UPDATE jobs SET queue_job_id = NULL WHERE id = :id"), {"id": never_queued})
        conn.execute(text("DELETE FROM procrastinate_jobs WHERE args->>'job_id' = :id"), {"id": str(never_queued)})
        # a worker took these, then died: one after a cancellation was requested, one lost its queue entry
        conn.execute(text("UPDATE jobs SET state = 'running' WHERE id IN (:a, :b)"), {"a": lost, "b": cancelled})
        conn.execute(text("DELETE FROM procrastinate_jobs WHERE args->>'job_id' = :id"), {"id": str(lost)})
        conn.execute(
            text("UPDATE procrastinate_jobs SET status = 'failed', abort_requested = true WHERE args->>'job_id' = :id"),
            {"id": str(cancelled)},
        )
    assert reconcile(settings, engine, grace_s=0) == {"queued": 1, "ended": 2}
    assert _job(engine, lost).state == "failed" and _job(engine, lost).error_kind == "internal"
    assert _job(engine, cancelled).state == "cancelled"
    requeued = _job(engine, never_queued)
    assert requeued.state == "queued" and requeued.queue_job_id is not None
    assert reconcile(settings, engine, grace_s=0) == {"queued": 0, "ended": 0}  # nothing left to do
