"""Job handlers by name. A handler receives a :class:`JobRun` and returns a JSON-able result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import Engine

from cim_platform.settings import Settings


@dataclass
class JobRun:
    job_id: UUID
    params: dict[str, Any]
    engine: Engine
    settings: Settings
    report_progress: Callable[[float, str], None]
    """Stores progress (throttled); raises JobAborted when the job was cancelled."""
    should_abort: Callable[[], bool]


Handler = Callable[[JobRun], dict[str, Any] | None]
HANDLERS: dict[str, Handler] = {}


def job_handler(name: str) -> Callable[[Handler], Handler]:
    def register(function: Handler) -> Handler:
        HANDLERS[name] = function
        return function

    return register


class JobAborted(Exception):
    """The job was cancelled while it ran."""
