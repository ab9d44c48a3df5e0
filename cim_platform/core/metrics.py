"""Metrics read from the database on each scrape: jobs by kind and state, queue depth, job durations.

They come from the ``jobs`` table and procrastinate's queue, so every server process answers the same
whatever worker ran the jobs, and nothing is lost when a worker restarts. Durations are those of
finished jobs (``finished_at - started_at``), as a Prometheus histogram per kind and final state.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from cim_platform.core.jobs.models import JobState

logger = logging.getLogger(__name__)

JOB_DURATION_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 4 * 3600.0)

_JOBS_BY_STATE = text("SELECT task, state, count(*) FROM jobs GROUP BY task, state")
_QUEUE_DEPTH = text("SELECT queue_name, count(*) FROM procrastinate_jobs WHERE status = 'todo' GROUP BY queue_name")
_BUCKET_COLUMNS = ", ".join(f"count(*) FILTER (WHERE seconds <= {bound!r})" for bound in JOB_DURATION_BUCKETS)
_DURATIONS = text(
    f"SELECT task, state, count(*), coalesce(sum(seconds), 0), {_BUCKET_COLUMNS} FROM ("  # the buckets are constants
    "  SELECT task, state, extract(epoch FROM finished_at - started_at)::float8 AS seconds FROM jobs"
    "  WHERE finished_at IS NOT NULL AND started_at IS NOT NULL"
    ") finished GROUP BY task, state"
)


class JobsCollector(Collector):
    """A custom collector: queries run when Prometheus scrapes, bounded by a statement timeout."""

    def __init__(self, engine: Engine, timeout_ms: int = 5000) -> None:
        self.engine, self.timeout_ms = engine, timeout_ms

    def collect(self) -> Iterator[GaugeMetricFamily | HistogramMetricFamily]:
        up = GaugeMetricFamily("cim_metrics_database_up", "1 if the job metrics could be read from the database")
        try:
            with self.engine.connect() as conn:
                conn.execute(text(f"SET LOCAL statement_timeout = {int(self.timeout_ms)}"))
                by_state = conn.execute(_JOBS_BY_STATE).all()
                depth = conn.execute(_QUEUE_DEPTH).all()
                durations = conn.execute(_DURATIONS).all()
        except SQLAlchemyError as exc:
            logger.warning("metrics: cannot read jobs from the database: %s", str(exc).splitlines()[0])
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up

        jobs = GaugeMetricFamily(
            "cim_jobs", "Jobs by kind and state (the platform's jobs table)", labels=["kind", "state"]
        )
        counts = {(str(task), str(state)): int(count) for task, state, count in by_state}
        for kind in sorted({kind for kind, _ in counts}):
            for state in JobState:
                jobs.add_metric([kind, state.value], counts.get((kind, state.value), 0))
        yield jobs

        queue = GaugeMetricFamily(
            "cim_job_queue_depth", "Jobs waiting in the queue for a worker, by queue", labels=["queue"]
        )
        for queue_name, count in depth:
            queue.add_metric([str(queue_name)], int(count))
        yield queue

        histogram = HistogramMetricFamily(
            "cim_job_duration_seconds",
            "Run time of finished jobs (started to finished), by kind and final state",
            labels=["kind", "state"],
        )
        for row in durations:
            task, state, count, total, *cumulative = row
            buckets = [(repr(bound), int(n)) for bound, n in zip(JOB_DURATION_BUCKETS, cumulative, strict=True)]
            buckets.append(("+Inf", int(count)))
            histogram.add_metric([str(task), str(state)], buckets, float(total))
        yield histogram
