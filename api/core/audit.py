"""The audit trail, read-only: who changed what, when, from which request (admins and officials)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BeforeValidator

from api.core.schemas import AuditEntryOut, AuditPage
from api.deps import SessionDep, requires
from cim_platform.core.access import Caller, Scope
from cim_platform.core.audit import AuditEntry, AuditFilter, list_entries


def _iso_only(value: object) -> object:
    """The document says date-time: a bare number (which pydantic would read as a Unix time) is refused."""
    if isinstance(value, str) and value.strip().replace(".", "", 1).lstrip("-").isdigit():
        raise ValueError("give an ISO 8601 date-time such as 2026-01-31T00:00:00+08:00")
    return value


IsoDatetime = Annotated[datetime, BeforeValidator(_iso_only)]
router = APIRouter(prefix="/api/v1", tags=["audit"])
AuditReader = Annotated[Caller, Depends(requires(Scope.audit_read))]


def entry_out(entry: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        id=entry.id,
        at=entry.at,
        actor_user_id=entry.actor_user_id,
        actor_username=entry.actor_username,
        actor_token_id=entry.actor_token_id,
        action=entry.action,
        object_type=entry.object_type,
        object_id=entry.object_id,
        before=entry.before,
        after=entry.after,
        request_id=entry.request_id,
    )


@router.get("/audit", response_model=AuditPage, name="list_audit")
def list_audit(
    caller: AuditReader,
    session: SessionDep,
    object_type: Annotated[str | None, Query(max_length=64, description="e.g. dataset, dataset_revision")] = None,
    object_id: Annotated[str | None, Query(max_length=200)] = None,
    actor: Annotated[str | None, Query(max_length=100, description="a username or a user id")] = None,
    since: Annotated[
        IsoDatetime | None, Query(description="ISO 8601 date-time; entries at or after this time")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditPage:
    """Audit entries, newest first. The trail is append-only: no route changes or removes an entry."""
    filters = AuditFilter(object_type=object_type, object_id=object_id, actor=actor, since=since, limit=limit)
    return AuditPage(entries=[entry_out(entry) for entry in list_entries(session, caller, filters)])
