"""The job kind ``coverage.snapshot``, and the triggers that queue it.

On demand (``POST /api/v1/coverage/snapshots``) the job is handed to the queue at once. After a
publication (the after-publish hook of ``cim_platform.core.hooks``) or a built-up-area change the job is
only *recorded*, in the same transaction, unless one is already waiting: a worker's reconciler hands
it to the queue after its grace period (``core.jobs.reconcile.GRACE_S``, 30 s), so a burst of
publications is debounced into one snapshot that sees all of them. Without a level the job takes a
snapshot of every CIM level a target names (and CIM1).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cim_platform.core.db.engine import session_scope
from cim_platform.core.hooks import Published, after_publish
from cim_platform.core.jobs.models import Job, JobState
from cim_platform.core.jobs.registry import JobRun, RouteLink, job_kind
from cim_platform.core.jobs.service import create_job
from cim_platform.coverage.definition import Definition
from cim_platform.coverage.models import Target
from cim_platform.coverage.parts import store_parts
from cim_platform.coverage.snapshots import evaluate

SNAPSHOT_TASK = "coverage.snapshot"


def auto_levels(session: Session) -> list[int]:
    return sorted({1, *session.scalars(select(Target.min_level).distinct())})


def queue_auto_snapshot(session: Session, trigger: str) -> Job | None:
    """Record a debounced snapshot job in the caller's transaction, unless one is waiting already."""
    waiting = session.scalar(
        select(Job).where(
            Job.task == SNAPSHOT_TASK,
            Job.state == JobState.queued.value,
            Job.queue_job_id.is_(None),
            Job.params["auto"].as_boolean(),
        )
    )
    if waiting is not None:
        return None
    return create_job(session, SNAPSHOT_TASK, {"auto": True, "trigger": trigger})


@after_publish("coverage")
def snapshot_after_publish(session: Session, event: Published) -> None:
    """Store the revision's footprint parts (in the publishing transaction) and queue a debounced snapshot."""
    store_parts(session, [event.revision_id])
    queue_auto_snapshot(session, "publish")


def snapshot_links(params: dict[str, Any], state: str) -> dict[str, RouteLink]:
    return {"coverage": RouteLink("get_coverage", {}), "history": RouteLink("coverage_history", {})}


@job_kind(SNAPSHOT_TASK, links=snapshot_links)
def take_snapshots(run: JobRun) -> dict[str, Any]:
    params = run.params
    share = float(params.get("count_share", run.settings.coverage_count_share))
    results = []
    with session_scope(run.engine) as session:
        if params.get("level") is None:
            definitions = [Definition(level=level, count_share=share) for level in auto_levels(session)]
        else:
            definitions = [
                Definition(
                    level=int(params["level"]), kind=params.get("kind"), year=params.get("year"), count_share=share
                )
            ]
    for index, definition in enumerate(definitions):
        run.report_progress(index / len(definitions), f"CIM{definition.level} and above")
        with session_scope(run.engine) as session:
            result = evaluate(session, definition, store=True, trigger=str(params.get("trigger", "demand")))
            assert result.snapshot is not None
            results.append(
                {
                    "snapshot": str(result.snapshot.id),
                    "level": definition.level,
                    "reused": result.reused,
                    "computed_units": result.computed,
                    "city_share": result.figures["city"].share,
                }
            )
    return {"snapshots": results}
