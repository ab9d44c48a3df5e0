"""Accounts: request and response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class Me(BaseModel):
    authenticated: bool
    username: str | None
    organization_id: uuid.UUID | None
    role: str | None
    scopes: list[str]


class OrganizationIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    kind: str = "other"


class OrganizationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    kind: str
    created_at: datetime


class UserIn(BaseModel):
    organization: str = Field(description="Organisation name or id")
    username: str = Field(min_length=1, max_length=100)
    role: str
    display_name: str = Field(default="", max_length=200)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    organization_id: uuid.UUID
    username: str
    display_name: str
    role: str
    active: bool


class TokenIn(BaseModel):
    user: str = Field(description="Username or id")
    role: str | None = None
    name: str = Field(default="", max_length=200)
    expires_in_days: int | None = Field(default=None, gt=0, le=36_500)


class TokenOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    user_id: uuid.UUID
    name: str
    role: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="The secret; shown once, store it now")
