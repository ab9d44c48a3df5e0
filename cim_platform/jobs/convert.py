"""The ``convert_revision`` job: convert an uploaded revision and store its tiles in PostGIS."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from cim_platform.jobs.registry import JobRun, job_handler

CONVERT_TASK = "convert_revision"


def revision_abandoned(session: Session, params: dict[str, Any], state: str) -> None:
    """A conversion that ended without running to its end: its revision follows (cancelled or failed)."""
    from cim_platform.datasets.conversion import mark_revision

    mark_revision(session, uuid.UUID(params["revision_id"]), state)


@job_handler(CONVERT_TASK, on_abandoned=revision_abandoned)
def convert_revision(run: JobRun) -> dict[str, Any]:
    from cim_platform.datasets.conversion import run_conversion

    return run_conversion(run)
