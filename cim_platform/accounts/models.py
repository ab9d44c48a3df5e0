"""Organisations, users (with passwords), API tokens, sign-in sessions and failed sign-ins."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Identity, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cim_platform.core.access import Role
from cim_platform.core.db.base import Base, CreatedAt, enum_check, new_id


class OrgKind(enum.StrEnum):
    design_institute = "design_institute"
    survey_team = "survey_team"
    city_bureau = "city_bureau"
    other = "other"


class Locale(enum.StrEnum):
    """The languages a person can choose for the portal."""

    zh_CN = "zh-CN"
    en = "en"


class Organization(CreatedAt, Base):
    __tablename__ = "organizations"
    __table_args__ = (CheckConstraint(enum_check("kind", OrgKind), name="kind"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32), default=OrgKind.other.value)

    users: Mapped[list[User]] = relationship(back_populates="organization")


class User(CreatedAt, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(enum_check("role", Role), name="role"),
        CheckConstraint(enum_check("locale", Locale), name="locale"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    organization_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id", ondelete="RESTRICT"), index=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)
    """False: disabled (no sign-in; its sessions and tokens stop working)."""
    password_hash: Mapped[str | None] = mapped_column(String(255))
    """argon2id (``argon2-cffi``); None: the user cannot sign in with a password."""
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    locale: Mapped[str] = mapped_column(String(8), default=Locale.zh_CN.value, server_default=Locale.zh_CN.value)

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


class UserSession(CreatedAt, Base):
    """A signed-in browser: the cookie holds the signed session key, this row its SHA-256."""

    __tablename__ = "user_sessions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    """Absolute expiry (CIM_SESSION_MAX_AGE_S after sign-in); idle expiry follows from last_seen_at."""
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")

    user: Mapped[User] = relationship(lazy="joined")


class SignInFailure(Base):
    """One failed sign-in (or wrong current password), counted per username and per address."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (
        Index("ix_sign_in_failures_username_at", "username", "at"),
        Index("ix_sign_in_failures_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    username: Mapped[str] = mapped_column(String(100))
    """As typed, lower-cased (whether or not such a user exists)."""
    address: Mapped[str] = mapped_column(String(64))
