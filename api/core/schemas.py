"""Core routes (health, jobs): response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel


class Health(BaseModel):
    status: str
    database: str
    postgis: str | None = None
    detail: str | None = None


class JobOut(BaseModel):
    id: uuid.UUID
    task: str
    state: str
    progress: float
    message: str
    error_kind: str | None
    error: str | None
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    result: dict[str, Any] | None
    links: dict[str, str]


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor_user_id: uuid.UUID | None
    actor_username: str | None
    actor_token_id: uuid.UUID | None
    action: str
    object_type: str
    object_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None


class AuditPage(BaseModel):
    entries: list[AuditEntryOut]
