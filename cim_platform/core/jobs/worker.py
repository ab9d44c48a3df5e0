"""``cim worker``: takes jobs from the shared database; run as many as you like on any machines."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import time
from dataclasses import dataclass

import procrastinate
import psycopg

from cim_platform.core.db.engine import get_engine, libpq_url
from cim_platform.core.jobs import runner
from cim_platform.core.jobs.queue import QUEUE, get_app
from cim_platform.core.jobs.reconcile import reconcile
from cim_platform.core.settings import Settings

logger = logging.getLogger(__name__)
DATABASE_RETRY_S = 1.0


async def recover_stalled_jobs(app: procrastinate.App, settings: Settings) -> int:
    """Requeue the jobs of workers whose heartbeat stopped (crashed, killed, machine lost)."""
    stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=settings.stalled_worker_timeout_s)
    count = 0
    for job in stalled:
        try:
            await app.job_manager.retry_job(job)
        except Exception as exc:  # another worker got there first, or the job just ended
            logger.info("job %s of a stalled worker was not requeued here: %s", job.id, _first_line(exc))
            continue
        logger.warning("requeued job %s of a stalled worker", job.id)
        count += 1
    return count


@dataclass
class _Recovery:
    """After this worker could not reach the database, every worker's heartbeat looks stale for a while
    (theirs could not be written either): requeueing then would run live workers' jobs twice. So once
    the database answers again, stalled jobs are left alone for one stalled-worker timeout (and one
    heartbeat), time for every live worker to write its heartbeat again."""

    lost: bool = False
    quiet_until: float = 0.0

    def database_lost(self) -> None:
        self.lost = True

    def database_back(self, settings: Settings) -> None:
        self.lost = False
        self.quiet_until = time.monotonic() + settings.stalled_worker_timeout_s + settings.worker_heartbeat_s

    def may_requeue(self) -> bool:
        return not self.lost and time.monotonic() >= self.quiet_until


async def _recovery_loop(app: procrastinate.App, settings: Settings, recovery: _Recovery) -> None:
    interval = max(1.0, settings.stalled_worker_timeout_s / 3)
    while True:
        try:
            if recovery.lost and await _database_answers(settings):
                recovery.database_back(settings)
            if recovery.may_requeue():
                await recover_stalled_jobs(app, settings)
            await asyncio.to_thread(reconcile, settings, get_engine(settings, start=False))
        except Exception as exc:  # keep the loop alive through transient database errors
            recovery.database_lost()
            logger.warning("stalled-job recovery failed (%s); retrying", _first_line(exc))
        await asyncio.sleep(interval)


def _first_line(exc: BaseException) -> str:
    text = str(exc.__cause__ or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


async def _database_answers(settings: Settings) -> bool:
    try:
        conn = await psycopg.AsyncConnection.connect(libpq_url(settings, start=False), connect_timeout=5)
    except psycopg.Error:
        return False
    await conn.close()
    return True


async def _work_until_stopped(
    app: procrastinate.App, settings: Settings, concurrency: int, recovery: _Recovery
) -> None:
    """One round of work: open the queue, recover, take jobs. Returns (or raises) when the queue's
    connection is lost; a running job is finished first (the worker waits for it)."""
    async with app.open_async():
        recovering = asyncio.create_task(_recovery_loop(app, settings, recovery))
        try:
            await app.run_worker_async(
                queues=[QUEUE],
                name=f"{socket.gethostname()}-{os.getpid()}",
                concurrency=concurrency,
                update_heartbeat_interval=settings.worker_heartbeat_s,
                stalled_worker_timeout=settings.stalled_worker_timeout_s,
                delete_jobs="successful",
                install_signal_handlers=False,
            )
        finally:
            recovering.cancel()


async def _run(settings: Settings, concurrency: int) -> None:
    """Work until SIGTERM/SIGINT. A lost database (restarted, network cut) does not end the worker: it
    waits for the database to answer again and takes jobs again; jobs that were running meanwhile are
    finished, rerun (a stalled worker's jobs are requeued) or ended by the reconciler."""
    app = get_app(settings)
    runner.configure(settings)
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    current: asyncio.Task[None] | None = None
    recovery = _Recovery()

    def stop() -> None:
        logger.info("stopping: finishing the running jobs first")
        stopping.set()
        if current is not None:
            current.cancel()  # procrastinate stops taking jobs and waits for the running ones

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop)
    while not stopping.is_set():
        current = asyncio.create_task(_work_until_stopped(app, settings, concurrency, recovery))
        try:
            await current
        except asyncio.CancelledError:
            if stopping.is_set():
                break
            raise
        except Exception as exc:
            logger.warning("the worker lost the database (%s); it takes jobs again once it answers", _first_line(exc))
            recovery.database_lost()
        else:
            if stopping.is_set():
                break
            logger.warning("the worker stopped taking jobs (its database connection failed); starting again")
            recovery.database_lost()
        while not stopping.is_set():
            try:  # at least one pause, so a round failing at once does not spin
                await asyncio.wait_for(stopping.wait(), timeout=DATABASE_RETRY_S)
            except TimeoutError:
                pass
            if await _database_answers(settings):
                break
        if not stopping.is_set():
            recovery.database_back(settings)  # counted from now: the others' heartbeats resume now too
            logger.info("the database answers again; taking jobs")


def run_worker(settings: Settings, concurrency: int | None = None) -> None:
    if not settings.database_url:  # resolve the private cluster once
        settings.database_url = libpq_url(settings)
    asyncio.run(_run(settings, concurrency or settings.worker_concurrency))
