"""Job handlers used only by the job-queue tests (loaded through CIM_JOB_IMPORT_PATHS)."""

from __future__ import annotations

import time
from typing import Any

from cim_platform.core.errors import InvalidInput
from cim_platform.core.jobs.registry import JobRun, job_kind


@job_kind("test.sleep")
def sleep(run: JobRun) -> dict[str, Any]:
    seconds = float(run.params.get("seconds", 1))
    steps = max(1, int(seconds / 0.1))
    for step in range(steps):
        time.sleep(seconds / steps)
        run.report_progress((step + 1) / steps, f"slept {step + 1}/{steps}")
    return {"slept": seconds}


@job_kind("test.bad_input")
def bad_input(run: JobRun) -> None:
    raise InvalidInput("the test input is wrong on purpose")


@job_kind("test.crash")
def crash(run: JobRun) -> None:
    raise RuntimeError("a bug")
