"""The ``convert_revision`` job: convert an uploaded revision and store its tiles in PostGIS."""

from __future__ import annotations

from typing import Any

from cim_platform.jobs.registry import JobRun, job_handler

CONVERT_TASK = "convert_revision"


@job_handler(CONVERT_TASK)
def convert_revision(run: JobRun) -> dict[str, Any]:
    from cim_platform.datasets.conversion import run_conversion

    return run_conversion(run)
