"""The procrastinate app: one generic task runs any platform job by its id."""

from __future__ import annotations

import importlib
import logging
from functools import lru_cache

import procrastinate

from cim_platform.core.db.engine import libpq_url
from cim_platform.core.settings import Settings

logger = logging.getLogger(__name__)

QUEUE = "cim"
RUN_JOB_TASK = "cim.run_job"


@lru_cache(maxsize=4)
def _app_for(conninfo: str, import_paths: tuple[str, ...]) -> procrastinate.App:
    connector = procrastinate.PsycopgConnector(conninfo=conninfo, min_size=1, max_size=4)
    app = procrastinate.App(connector=connector)

    @app.task(name=RUN_JOB_TASK, queue=QUEUE, pass_context=True)
    def run_job(context: procrastinate.JobContext, job_id: str) -> None:
        from cim_platform.core.jobs.runner import run_platform_job

        run_platform_job(job_id, context)

    for path in import_paths:
        importlib.import_module(path)
    return app


def get_app(settings: Settings) -> procrastinate.App:
    """The app as a worker uses it (opened asynchronously by the worker)."""
    return _app_for(libpq_url(settings), tuple(settings.job_import_paths))


def import_handlers(settings: Settings) -> None:
    """Job kinds of plug-in modules named in settings (the domains' own are loaded by the registry)."""
    for path in settings.job_import_paths:
        importlib.import_module(path)


@lru_cache(maxsize=4)
def _opened_producer(conninfo: str) -> procrastinate.App:
    app = procrastinate.App(connector=procrastinate.SyncPsycopgConnector(conninfo=conninfo, min_size=1, max_size=4))
    app.open()
    return app


def get_producer_app(settings: Settings) -> procrastinate.App:
    """An app opened for synchronous use (deferring and cancelling from the API and the CLI)."""
    return _opened_producer(libpq_url(settings))


def defer_run_job(settings: Settings, job_id: str) -> int:
    """Queue the generic task for one platform job; the queue's own job id."""
    task = get_producer_app(settings).configure_task(RUN_JOB_TASK, queue=QUEUE, allow_unknown=True)
    return int(task.defer(job_id=job_id))
