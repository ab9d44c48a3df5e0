"""Job handlers by name. A handler receives a :class:`JobRun` and returns a JSON-able result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import Engine
from sqlalchemy.orm import Session

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
Finalizer = Callable[[Session, dict[str, Any], str], None]
"""Called in the transaction that ends a job *without* its handler finishing it (cancelled while
queued, lost by the queue): gets the job's params and its final state, so domain objects follow."""

HANDLERS: dict[str, Handler] = {}
FINALIZERS: dict[str, Finalizer] = {}


def job_handler(name: str, on_abandoned: Finalizer | None = None) -> Callable[[Handler], Handler]:
    def register(function: Handler) -> Handler:
        HANDLERS[name] = function
        if on_abandoned is not None:
            FINALIZERS[name] = on_abandoned
        return function

    return register


def finalize_abandoned(session: Session, task: str, params: dict[str, Any], state: str) -> None:
    finalizer = FINALIZERS.get(task)
    if finalizer is not None:
        finalizer(session, params, state)


class JobAborted(Exception):
    """The job was cancelled while it ran."""
