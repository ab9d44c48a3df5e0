"""Organisations, users (passwords hashed with argon2id) and API tokens (stored as SHA-256 hashes, shown
once, revocable). Sign-in sessions are in ``sessions.py``."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cim_platform.accounts.models import ApiToken, Locale, Organization, OrgKind, User
from cim_platform.accounts.passwords import check_policy, hash_password
from cim_platform.accounts.sessions import revoke_sessions
from cim_platform.core.access import ROLE_SCOPES, Caller, Role
from cim_platform.core.db.base import utcnow
from cim_platform.core.errors import Conflict, InvalidInput, NotFound
from cim_platform.core.settings import Settings

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


def create_user(
    session: Session,
    organization: Organization,
    username: str,
    role: str,
    display_name: str = "",
    *,
    password: str | None = None,
    min_password_length: int = Settings.model_fields["password_min_length"].default,
) -> User:
    username = username.strip()
    if not username:
        raise InvalidInput("a user needs a username")
    user = User(
        organization_id=organization.id,
        username=username,
        role=_parse_enum(Role, role, "role").value,
        display_name=display_name or username,
        locale=Locale.zh_CN.value,
    )
    if password is not None:
        _set_password_hash(user, password, min_password_length)
    return _add_unique(session, user, f"a user named {username!r}")


def _set_password_hash(user: User, password: str, min_length: int) -> None:
    check_policy(password, username=user.username, min_length=min_length)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()


def set_password(
    session: Session, user: User, password: str, *, min_length: int, keep_session_key_hash: str | None = None
) -> None:
    """A new password (by an admin, the CLI or the user); the user's other sessions end."""
    _set_password_hash(user, password, min_length)
    revoke_sessions(session, user.id, except_key_hash=keep_session_key_hash)
    session.flush()


def set_disabled(session: Session, user: User, disabled: bool) -> None:
    """Disable (sessions revoked, tokens refused while disabled) or enable again."""
    user.active = not disabled
    if disabled:
        revoke_sessions(session, user.id)
    session.flush()


def set_role(session: Session, user: User, role: str) -> None:
    user.role = _parse_enum(Role, role, "role").value
    session.flush()


def set_locale(user: User, locale: str) -> None:
    try:
        user.locale = Locale(locale).value
    except ValueError:
        raise InvalidInput(
            f"unknown locale {locale!r}; expected one of: {', '.join(e.value for e in Locale)}",
            params={"locale": locale},
        ) from None


def ensure_an_admin_remains(session: Session, user: User, *, role: str | None, disabled: bool | None) -> None:
    """Conflict if the change would leave no active admin (nobody could manage accounts any more)."""
    stays_admin = (role is None or role == Role.admin.value) and not disabled
    if user.role != Role.admin.value or not user.active or stays_admin:
        return
    others = session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.admin.value, User.active.is_(True), User.id != user.id)
    )
    if not others:
        raise Conflict(f"{user.username!r} is the last active admin; make another user admin first")


def list_users(session: Session, organization: Organization | None = None) -> list[User]:
    query = select(User).order_by(User.username)
    if organization is not None:
        query = query.where(User.organization_id == organization.id)
    return list(session.scalars(query))


def list_tokens(session: Session, user: User | None = None) -> list[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.created_at.desc())
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return list(session.scalars(query))


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
    role = Role(token.role)
    if not ROLE_SCOPES[role] <= ROLE_SCOPES[Role(token.user.role)]:
        role = Role(token.user.role)  # the user's role was lowered after the token was made: no more than that
    return Caller(
        user_id=token.user_id,
        username=token.user.username,
        organization_id=token.user.organization_id,
        role=role,
        token_id=token.id,
    )


@dataclass(frozen=True)
class BootstrapCredentials:
    """What the first start prints once: the admin's token and password."""

    username: str
    password: str
    token: str


def bootstrap_admin(session: Session, organization_name: str) -> BootstrapCredentials | None:
    """On first start (no users at all): an admin user ``admin`` with a generated password and a token,
    both returned once (only their hashes are stored)."""
    if session.scalar(select(func.count()).select_from(User)):
        return None
    org = session.scalar(select(Organization).where(Organization.name == organization_name))
    if org is None:
        org = create_organization(session, organization_name, OrgKind.city_bureau.value)
    password = secrets.token_urlsafe(15)  # 20 characters
    admin = create_user(session, org, "admin", Role.admin.value, "Platform administrator", password=password)
    plaintext, _ = create_token(session, admin, name="bootstrap")
    return BootstrapCredentials(username=admin.username, password=password, token=plaintext)


def anyone_has_a_password(session: Session) -> bool:
    return session.scalar(select(User.id).where(User.password_hash.is_not(None)).limit(1)) is not None
