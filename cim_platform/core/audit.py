"""The audit trail: an append-only record of changes, written in the same transaction as the change.

A domain service calls :func:`record_change` next to the change it makes (no commit: the row lives or
dies with the change). Rows are never updated or deleted: no route does it, and a database trigger
(migration 0004) refuses UPDATE, DELETE and TRUNCATE on the table.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, DateTime, Identity, Index, String, Uuid, func, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column

from cim_platform.core.access import Caller, Scope
from cim_platform.core.db.base import Base, utcnow
from cim_platform.core.errors import InvalidInput
from cim_platform.core.request_context import current_request_id

SYSTEM = Caller(user_id=None, username="system", organization_id=None, role=None)
"""The actor of changes the platform makes by itself (e.g. a worker publishing a converted revision)."""


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), default=utcnow, index=True
    )
    actor_user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    actor_username: Mapped[str | None] = mapped_column(String(100), index=True)
    actor_token_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(200))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    request_id: Mapped[str | None] = mapped_column(String(128))


def jsonable(value: Any) -> Any:
    """``value`` with UUIDs, times, enums, decimals, sets and paths turned into JSON values."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(item) for item in value]
    return str(value)


def fields_of(obj: object, *names: str) -> dict[str, Any]:
    """The named attributes of ``obj`` as a JSON-ready dict (for ``before``/``after``)."""
    return {name: jsonable(getattr(obj, name)) for name in names}


def record_change(
    session: Session,
    caller: Caller,
    *,
    action: str,
    object_type: str,
    object_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> AuditEntry:
    """Add an audit row to the caller's transaction (flushed, not committed)."""
    entry = AuditEntry(
        at=utcnow(),
        actor_user_id=caller.user_id,
        actor_username=caller.username,
        actor_token_id=caller.token_id,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=jsonable(before) if before is not None else None,
        after=jsonable(after) if after is not None else None,
        request_id=current_request_id(),
    )
    session.add(entry)
    session.flush()
    return entry


@dataclass
class AuditFilter:
    object_type: str | None = None
    object_id: str | None = None
    actor: str | None = None
    """A username or a user id."""
    since: dt.datetime | None = None
    limit: int = 100


def list_entries(session: Session, caller: Caller, filters: AuditFilter) -> list[AuditEntry]:
    """Audit rows, newest first (admins and officials: the ``audit_read`` scope)."""
    caller.require(Scope.audit_read)
    for name in ("object_type", "object_id", "actor"):
        if "\x00" in (getattr(filters, name) or ""):
            raise InvalidInput(f"{name} contains a NUL character")
    query = select(AuditEntry)
    if filters.object_type:
        query = query.where(AuditEntry.object_type == filters.object_type)
    if filters.object_id:
        query = query.where(AuditEntry.object_id == filters.object_id)
    if filters.actor:
        conditions = [AuditEntry.actor_username == filters.actor]
        try:
            conditions.append(AuditEntry.actor_user_id == uuid.UUID(filters.actor))
        except ValueError:
            pass
        query = query.where(or_(*conditions))
    if filters.since is not None:
        query = query.where(AuditEntry.at >= filters.since)
    query = query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(filters.limit)
    return list(session.scalars(query))
