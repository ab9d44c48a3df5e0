"""Job kinds of the BIM review domain: ``bim_review.check_ids`` (an IFC revision against one IDS version)
and ``bim_review.diff_revisions`` (what changed between two IFC revisions)."""

from __future__ import annotations

import uuid
from typing import Any

from cim_platform.bim_review.checks import CHECK_TASK, run_check
from cim_platform.bim_review.diffs import DIFF_TASK, run_diff
from cim_platform.core.db.engine import session_scope
from cim_platform.core.jobs.registry import JobRun, RouteLink, job_kind


def check_links(params: dict[str, Any], state: str) -> dict[str, RouteLink]:
    return {"check": RouteLink("get_ids_check", {"check_id": str(params["check_id"])})}


@job_kind(CHECK_TASK, links=check_links)
def check_ids(run: JobRun) -> dict[str, Any]:
    run.report_progress(0.1, "checking the IFC model against the IDS")
    with session_scope(run.engine) as session:
        check = run_check(session, run.settings, uuid.UUID(run.params["check_id"]))
        return {"state": check.state, "message": check.message}


def diff_links(params: dict[str, Any], state: str) -> dict[str, RouteLink]:
    return {"diff": RouteLink("get_revision_diff", {"diff_id": str(params["diff_id"])})}


@job_kind(DIFF_TASK, links=diff_links)
def diff_revisions(run: JobRun) -> dict[str, Any]:
    run.report_progress(0.1, "comparing the two IFC revisions")
    with session_scope(run.engine) as session:
        diff = run_diff(session, run.settings, uuid.UUID(run.params["diff_id"]))
        return {"state": diff.state, "message": diff.message}
