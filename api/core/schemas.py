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
