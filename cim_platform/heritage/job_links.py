"""A finished conversion links to its protection conflicts (the historic buildings whose protection range or
construction-control zone its footprint touches): the job result shows them next to the dataset's own links."""

from __future__ import annotations

from typing import Any

from cim_platform.core.jobs.models import JobState
from cim_platform.core.jobs.registry import RouteLink, extend_links
from cim_platform.datasets.jobs import CONVERT_TASK


def conflict_links(params: dict[str, Any], state: str) -> dict[str, RouteLink]:
    if state != JobState.succeeded or "dataset_id" not in params or "revision_id" not in params:
        return {}
    revision = {"dataset_id": str(params["dataset_id"]), "revision_id": str(params["revision_id"])}
    return {"heritage_conflicts": RouteLink("revision_conflicts", revision)}


extend_links(CONVERT_TASK, conflict_links)
