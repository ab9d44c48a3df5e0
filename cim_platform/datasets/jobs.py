"""The datasets domain's job kind: ``convert_revision`` converts an uploaded revision and stores its
tiles in PostGIS."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from cim_platform.core.jobs.models import JobState
from cim_platform.core.jobs.registry import JobRun, RouteLink, job_kind
from cim_platform.datasets.conversion import mark_revision, run_conversion
from cim_platform.datasets.models import has_tileset

CONVERT_TASK = "convert_revision"


def revision_abandoned(session: Session, params: dict[str, Any], state: str) -> None:
    """A conversion that ended without running to its end: its revision follows (cancelled or failed)."""
    mark_revision(session, uuid.UUID(params["revision_id"]), state)


def conversion_links(params: dict[str, Any], state: str) -> dict[str, RouteLink]:
    revision = {"dataset_id": str(params["dataset_id"]), "revision_id": str(params["revision_id"])}
    links = {
        "dataset": RouteLink("get_dataset", {"dataset_id": revision["dataset_id"]}),
        "revision": RouteLink("get_revision", revision),
    }
    if state == JobState.succeeded and has_tileset(str(params.get("kind", ""))):
        links["tileset"] = RouteLink("revision_file", {**revision, "path": "tileset.json"})
    return links


@job_kind(CONVERT_TASK, on_abandoned=revision_abandoned, links=conversion_links)
def convert_revision(run: JobRun) -> dict[str, Any]:
    return run_conversion(run)
