"""Organisations, users and API tokens (stored as SHA-256 hashes, shown once, revocable)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cim_platform.accounts.models import ApiToken, Organization, OrgKind, User
from cim_platform.core.access import Caller, Role
from cim_platform.core.db.base import utcnow
from cim_platform.core.errors import Conflict, InvalidInput, NotFound

TOKEN_PREFIX = "cim_"  # noqa: S105 - a public marker, not a secret
LAST_USED_RESOLUTION = timedelta(minutes=5)
T = TypeVar("T")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _parse_enum(enum_type: type[Role] | type[OrgKind], value: str, what: str):  # type: ignore[no-untyped-def]
    try:
        return enum_type(value)
    except ValueError:
        raise InvalidInput(
            f"unknown {what} {value!r}; expected one of: {', '.join(e.value for e in enum_type)}"
        ) from None


def create_organization(session: Session, name: str, kind: str = OrgKind.other.value) -> Organization:
    name = name.strip()
    if not name:
        raise InvalidInput("an organisation needs a name")
    org = Organization(name=name, kind=_parse_enum(OrgKind, kind, "organisation kind").value)
    return _add_unique(session, org, f"an organisation named {name!r}")


def _add_unique(session: Session, row: T, what: str) -> T:
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"{what} exists already") from None
    return row


def _find(session: Session, model: type[T], name_column: Any, name_or_id: str, what: str) -> T:
    try:
        row = session.get(model, uuid.UUID(name_or_id))
    except ValueError:
        row = session.scalar(select(model).where(name_column == name_or_id))
    if row is None:
        raise NotFound(f"no {what} {name_or_id!r}")
    return row


def find_organization(session: Session, name_or_id: str) -> Organization:
    return _find(session, Organization, Organization.name, name_or_id, "organisation")


def create_user(session: Session, organization: Organization, username: str, role: str, display_name: str = "") -> User:
    username = username.strip()
    if not username:
        raise InvalidInput("a user needs a username")
    user = User(
        organization_id=organization.id,
        username=username,
        role=_parse_enum(Role, role, "role").value,
        display_name=display_name or username,
    )
    return _add_unique(session, user, f"a user named {username!r}")


def find_user(session: Session, name_or_id: str) -> User:
    return _find(session, User, User.username, name_or_id, "user")


def create_token(
    session: Session, user: User, role: str | None = None, name: str = "", expires_in_days: int | None = None
) -> tuple[str, ApiToken]:
    """A new token for ``user``: returns the plaintext (shown once) and the stored row."""
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        role=_parse_enum(Role, role or user.role, "role").value,
        name=name,
        prefix=plaintext[: len(TOKEN_PREFIX) + 6],
        token_hash=hash_token(plaintext),
        expires_at=utcnow() + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    session.add(token)
    session.flush()
    return plaintext, token


def revoke_token(session: Session, token_id: uuid.UUID) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"no token {token_id}")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token


def authenticate(session: Session, plaintext: str) -> Caller | None:
    """The caller behind a token, or None if the token is unknown, revoked, expired or its user inactive."""
    if not plaintext.startswith(TOKEN_PREFIX):
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(plaintext)))
    now = utcnow()
    if token is None or token.revoked_at is not None or (token.expires_at and token.expires_at <= now):
        return None
    if not token.user.active:
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        token.last_used_at = now
    return Caller(
        user_id=token.user_id,
        username=token.user.username,
        organization_id=token.user.organization_id,
        role=Role(token.role),
        token_id=token.id,
    )


def bootstrap_admin(session: Session, organization_name: str) -> str | None:
    """On first start (no users at all): an admin user with a token, whose plaintext is returned once."""
    if session.scalar(select(func.count()).select_from(User)):
        return None
    org = session.scalar(select(Organization).where(Organization.name == organization_name))
    if org is None:
        org = create_organization(session, organization_name, OrgKind.city_bureau.value)
    admin = create_user(session, org, "admin", Role.admin.value, "Platform administrator")
    plaintext, _ = create_token(session, admin, name="bootstrap")
    return plaintext
