"""Job kinds, registered by their domains. A kind has a handler (receives a :class:`JobRun`, returns
a JSON-able result), optionally a finaliser (the job ended without its handler finishing it) and the
links to its result (route names, so the jobs API links results without knowing the domains)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cim_platform.core.settings import Settings


@dataclass
class JobRun:
    job_id: UUID
    params: dict[str, Any]
    engine: Engine
    settings: Settings
    report_progress: Callable[[float, str], None]
    """Stores progress (throttled); raises JobAborted when the job was cancelled."""
    should_abort: Callable[[], bool]


@dataclass(frozen=True)
class RouteLink:
    """A link to an API route by its name and path parameters (the API turns it into a URL)."""

    route: str
    params: dict[str, str]


Handler = Callable[[JobRun], dict[str, Any] | None]
Finalizer = Callable[[Session, dict[str, Any], str], None]
"""Called in the transaction that ends a job *without* its handler finishing it (cancelled while
queued, lost by the queue): gets the job's params and its final state, so domain objects follow."""
Linker = Callable[[dict[str, Any], str], dict[str, RouteLink]]
"""The job's params and state → named links (e.g. ``dataset``, ``revision``, ``tileset``)."""


@dataclass(frozen=True)
class JobKind:
    name: str
    handler: Handler
    on_abandoned: Finalizer | None = None
    links: Linker | None = None


KINDS: dict[str, JobKind] = {}
EXTRA_LINKS: dict[str, list[Linker]] = {}
"""Links other domains add to a kind's results (e.g. heritage: the protection conflicts of a conversion)."""


def job_kind(
    name: str, *, on_abandoned: Finalizer | None = None, links: Linker | None = None
) -> Callable[[Handler], Handler]:
    """Decorator registering a handler as the job kind ``name``."""

    def register(function: Handler) -> Handler:
        KINDS[name] = JobKind(name, function, on_abandoned, links)
        return function

    return register


def finalize_abandoned(session: Session, task: str, params: dict[str, Any], state: str) -> None:
    kind = KINDS.get(task)
    if kind is not None and kind.on_abandoned is not None:
        kind.on_abandoned(session, params, state)


def extend_links(name: str, linker: Linker) -> None:
    """Another domain's links on the results of the job kind ``name`` (the kind's domain need not know it)."""
    if linker not in EXTRA_LINKS.setdefault(name, []):
        EXTRA_LINKS[name].append(linker)


def result_links(task: str, params: dict[str, Any], state: str) -> dict[str, RouteLink]:
    kind = KINDS.get(task)
    links = kind.links(params, state) if kind is not None and kind.links is not None else {}
    for linker in EXTRA_LINKS.get(task, []):
        for name, link in linker(params, state).items():
            links.setdefault(name, link)
    return links


class JobAborted(Exception):
    """The job was cancelled while it ran."""
