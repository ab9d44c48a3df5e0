"""Organisations, users and API tokens."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cim_platform.core.access import Role
from cim_platform.core.db.base import Base, CreatedAt, enum_check, new_id


class OrgKind(enum.StrEnum):
    design_institute = "design_institute"
    survey_team = "survey_team"
    city_bureau = "city_bureau"
    other = "other"


class Organization(CreatedAt, Base):
    __tablename__ = "organizations"
    __table_args__ = (CheckConstraint(enum_check("kind", OrgKind), name="kind"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32), default=OrgKind.other.value)

    users: Mapped[list[User]] = relationship(back_populates="organization")


class User(CreatedAt, Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(enum_check("role", Role), name="role"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="RESTRICT"), index=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)

    organization: Mapped[Organization] = relationship(back_populates="users", lazy="joined")
    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")


class ApiToken(CreatedAt, Base):
    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint(enum_check("role", Role), name="role"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship(back_populates="tokens", lazy="joined")
