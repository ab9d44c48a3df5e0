"""``cim worker``: takes jobs from the shared database; run as many as you like on any machines."""

from __future__ import annotations

import asyncio
import logging
import os
import socket

import procrastinate

from cim_platform.core.db.engine import get_engine, libpq_url
from cim_platform.core.jobs import runner
from cim_platform.core.jobs.queue import QUEUE, get_app
from cim_platform.core.jobs.reconcile import reconcile
from cim_platform.core.settings import Settings

logger = logging.getLogger(__name__)


async def recover_stalled_jobs(app: procrastinate.App, settings: Settings) -> int:
    """Requeue the jobs of workers whose heartbeat stopped (crashed, killed, machine lost)."""
    stalled = await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=settings.stalled_worker_timeout_s)
    count = 0
    for job in stalled:
        try:
            await app.job_manager.retry_job(job)
        except Exception:  # another worker got there first, or the job just ended
            logger.info("job %s of a stalled worker was not requeued here", job.id, exc_info=True)
            continue
        logger.warning("requeued job %s of a stalled worker", job.id)
        count += 1
    return count


async def _recovery_loop(app: procrastinate.App, settings: Settings) -> None:
    interval = max(1.0, settings.stalled_worker_timeout_s / 3)
    while True:
        try:
            await recover_stalled_jobs(app, settings)
            await asyncio.to_thread(reconcile, settings, get_engine(settings, start=False))
        except Exception:  # keep the loop alive through transient database errors
            logger.exception("stalled-job recovery failed; retrying")
        await asyncio.sleep(interval)


async def _run(settings: Settings, concurrency: int) -> None:
    app = get_app(settings)
    runner.configure(settings)
    async with app.open_async():
        recovery = asyncio.create_task(_recovery_loop(app, settings))
        try:
            await app.run_worker_async(
                queues=[QUEUE],
                name=f"{socket.gethostname()}-{os.getpid()}",
                concurrency=concurrency,
                update_heartbeat_interval=settings.worker_heartbeat_s,
                stalled_worker_timeout=settings.stalled_worker_timeout_s,
                delete_jobs="successful",
            )
        finally:
            recovery.cancel()


def run_worker(settings: Settings, concurrency: int | None = None) -> None:
    if not settings.database_url:  # resolve the private cluster once
        settings.database_url = libpq_url(settings)
    asyncio.run(_run(settings, concurrency or settings.worker_concurrency))
