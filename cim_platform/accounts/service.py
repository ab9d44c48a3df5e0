"""Organisations, users (passwords hashed with argon2id) and API tokens (stored as SHA-256 hashes, shown
once, revocable). Sign-in sessions are in ``sessions.py``.

Every change is recorded in the audit trail in the same transaction (a password only as "changed"; its
hash never leaves the users table). Changes made by the platform itself or the CLI are the ``system``'s.
"""

from __future__ import annotations

import enum
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from cim_platform.accounts.models import ApiToken, Locale, Organization, OrgKind, User
from cim_platform.accounts.passwords import check_policy, hash_password
from cim_platform.accounts.sessions import revoke_sessions
from cim_platform.core.access import ROLE_SCOPES, Caller, Role
from cim_platform.core.audit import SYSTEM, fields_of, record_change
from cim_platform.core.db.base import utcnow
from cim_platform.core.errors import Conflict, InvalidInput, NotFound
from cim_platform.core.settings import Settings

TOKEN_PREFIX = "cim_"  # noqa: S105 - a public marker, not a secret
LAST_USED_RESOLUTION = timedelta(minutes=5)
DEFAULT_MIN_PASSWORD_LENGTH: int = Settings.model_fields["password_min_length"].default
PASSWORD_CHANGED = "changed"  # noqa: S105 - an audit marker, not a password
"""What the audit trail says of a password: that it changed, never the hash."""
AUDITED_USER_FIELDS = ("username", "display_name", "role", "organization_id", "active", "locale")
AUDITED_TOKEN_FIELDS = ("user_id", "name", "role", "prefix", "expires_at", "revoked_at")
T = TypeVar("T")
E = TypeVar("E", bound=enum.StrEnum)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _parse_enum(enum_type: type[E], value: str, what: str) -> E:
    try:
        return enum_type(value)
    except ValueError:
        raise InvalidInput(
            f"unknown {what} {value!r}; expected one of: {', '.join(e.value for e in enum_type)}",
            params={"value": value},
        ) from None


def create_organization(
    session: Session, name: str, kind: str = OrgKind.other.value, *, caller: Caller = SYSTEM
) -> Organization:
    name = name.strip()
    if not name:
        raise InvalidInput("an organisation needs a name")
    org = _add_unique(
        session,
        Organization(name=name, kind=_parse_enum(OrgKind, kind, "organisation kind").value),
        f"an organisation named {name!r}",
    )
    record_change(
        session,
        caller,
        action="organization.created",
        object_type="organization",
        object_id=str(org.id),
        before=None,
        after=fields_of(org, "name", "kind"),
    )
    return org


def _add_unique(session: Session, row: T, what: str) -> T:
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"{what} exists already") from None
    return row


def _find(session: Session, model: type[T], name_column: InstrumentedAttribute[str], name_or_id: str, what: str) -> T:
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
    min_password_length: int = DEFAULT_MIN_PASSWORD_LENGTH,
    caller: Caller = SYSTEM,
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
        active=True,
    )
    if password is not None:
        _set_password_hash(user, password, min_password_length)
    _add_unique(session, user, f"a user named {username!r}")
    after = fields_of(user, *AUDITED_USER_FIELDS)
    if password is not None:
        after["password"] = PASSWORD_CHANGED
    record_change(
        session, caller, action="user.created", object_type="user", object_id=str(user.id), before=None, after=after
    )
    return user


def _set_password_hash(user: User, password: str, min_length: int) -> None:
    check_policy(password, username=user.username, min_length=min_length)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()


@dataclass(frozen=True)
class UserChanges:
    """A change to a user; None leaves a field as it is."""

    role: str | None = None
    display_name: str | None = None
    disabled: bool | None = None
    password: str | None = None
    locale: str | None = None


def update_user(
    session: Session,
    user: User,
    changes: UserChanges,
    *,
    caller: Caller = SYSTEM,
    min_password_length: int = DEFAULT_MIN_PASSWORD_LENGTH,
    keep_session_key_hash: str | None = None,
) -> None:
    """Apply ``changes`` (audited as one ``user.updated`` row with the changed fields).

    Disabling revokes the user's sessions (tokens are refused while disabled); a new password ends the
    user's sessions except ``keep_session_key_hash`` (the one changing its own password). Refuses to
    leave no active admin."""
    _ensure_an_admin_remains(session, user, role=changes.role, disabled=changes.disabled)
    before = fields_of(user, *AUDITED_USER_FIELDS)
    if changes.password is not None:  # first: a refused password changes nothing else
        _set_password_hash(user, changes.password, min_password_length)
        revoke_sessions(session, user.id, except_key_hash=keep_session_key_hash)
    if changes.role is not None:
        user.role = _parse_enum(Role, changes.role, "role").value
    if changes.display_name is not None:
        user.display_name = changes.display_name.strip() or user.username
    if changes.locale is not None:
        user.locale = _parse_enum(Locale, changes.locale, "locale").value
    if changes.disabled is not None:
        user.active = not changes.disabled
        if changes.disabled:
            revoke_sessions(session, user.id)
    session.flush()
    after = fields_of(user, *AUDITED_USER_FIELDS)
    changed = {name for name in AUDITED_USER_FIELDS if before[name] != after[name]}
    if changes.password is None and not changed:
        return
    old = {name: before[name] for name in sorted(changed)}
    new = {name: after[name] for name in sorted(changed)}
    if changes.password is not None:
        new["password"] = PASSWORD_CHANGED
    record_change(
        session, caller, action="user.updated", object_type="user", object_id=str(user.id), before=old, after=new
    )


def set_password(
    session: Session,
    user: User,
    password: str,
    *,
    min_length: int = DEFAULT_MIN_PASSWORD_LENGTH,
    caller: Caller = SYSTEM,
    keep_session_key_hash: str | None = None,
) -> None:
    """A new password (by an admin, the CLI or the user); the user's other sessions end."""
    update_user(
        session,
        user,
        UserChanges(password=password),
        caller=caller,
        min_password_length=min_length,
        keep_session_key_hash=keep_session_key_hash,
    )


def _ensure_an_admin_remains(session: Session, user: User, *, role: str | None, disabled: bool | None) -> None:
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
    session: Session,
    user: User,
    role: str | None = None,
    name: str = "",
    expires_in_days: int | None = None,
    *,
    caller: Caller = SYSTEM,
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
    record_change(
        session,
        caller,
        action="token.created",
        object_type="api_token",
        object_id=str(token.id),
        before=None,
        after=fields_of(token, *AUDITED_TOKEN_FIELDS),
    )
    return plaintext, token


def revoke_token(session: Session, token_id: uuid.UUID, *, caller: Caller = SYSTEM) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"no token {token_id}")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
        record_change(
            session,
            caller,
            action="token.revoked",
            object_type="api_token",
            object_id=str(token.id),
            before={"revoked_at": None},
            after=fields_of(token, "revoked_at"),
        )
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
