"""The facades domain's job kind: ``facades.check_model_colours`` reads an uploaded IFC revision's
exterior colours and areas and checks them by the zone's colour rules; the result is stored per
revision (``GET /api/v1/facades/model-checks?dataset=``)."""

from __future__ import annotations

from typing import Any

from cim_platform.core.jobs.registry import JobRun, RouteLink, job_kind
from cim_platform.facades.model_checks import TASK, run_in_engine


def check_links(params: dict[str, Any], state: str) -> dict[str, RouteLink]:
    return {"model_check": RouteLink("get_model_check", {"revision_id": str(params["revision_id"])})}


@job_kind(TASK, links=check_links)
def check_model_colours(run: JobRun) -> dict[str, Any]:
    run.report_progress(0.1, "reading the IFC model's exterior colours")
    return run_in_engine(run.engine, run.settings, run.params, run.job_id)
