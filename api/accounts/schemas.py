"""Accounts: request and response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

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
    password: str | None = Field(default=None, description="Optional; without one the user cannot sign in yet")


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    organization_id: uuid.UUID
    organization_name: str
    username: str
    display_name: str
    role: str
    active: bool
    disabled: bool
    locale: str
    has_password: bool
    password_changed_at: datetime | None
    created_at: datetime


class UserPatch(BaseModel):
    """An admin's change to a user; absent fields stay as they are."""

    model_config = ConfigDict(extra="forbid")
    role: str | None = None
    display_name: str | None = Field(default=None, max_length=200)
    disabled: bool | None = Field(default=None, description="True: sign-in refused, sessions and tokens stop working")
    password: str | None = Field(default=None, description="A new password (the user's sessions end)")


Locale = Literal["zh-CN", "en"]


class MePatch(BaseModel):
    """A user's change to their own account; a new password needs the current one."""

    model_config = ConfigDict(extra="forbid")
    locale: Locale | None = None
    display_name: str | None = Field(default=None, max_length=200)
    current_password: str | None = None
    new_password: str | None = None


class SessionIn(BaseModel):
    username: str = Field(max_length=200)
    password: str = Field(max_length=4096)


class SessionUser(BaseModel):
    id: uuid.UUID
    username: str
    display_name: str
    role: str
    organization_id: uuid.UUID
    organization_name: str
    locale: str
    scopes: list[str] = Field(description="What the user may do (the portal shows only what can work)")


class SessionOut(BaseModel):
    user: SessionUser
    csrf_token: str = Field(description="Send it as the X-CSRF-Token header on POST, PUT, PATCH and DELETE")
    expires_at: datetime = Field(description="When the session ends at the latest (sign-in + CIM_SESSION_MAX_AGE_S)")
    idle_expires_at: datetime = Field(description="When it ends unless used before (CIM_SESSION_IDLE_TIMEOUT_S)")


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
    last_used_at: datetime | None = None


class TokenCreated(TokenOut):
    token: str = Field(description="The secret; shown once, store it now")
