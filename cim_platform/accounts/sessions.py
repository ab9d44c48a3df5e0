"""Sign-in for people: the session signing key, sessions stored server-side, failed sign-ins limited.

The cookie holds ``<key>.<signature>``: a random session key signed (HMAC-SHA256) with the session
secret. The database keeps only the key's SHA-256, so neither a copy of the database nor a forged
cookie signs anyone in; sign-out and disabling a user revoke the row. The CSRF token is derived from
the key (HMAC with another label), so it needs no storage and changes with every session.

Failed sign-ins are rows of ``sign_in_failures``, counted per username and per client address over a
window (settings), so the limit holds across server processes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, func, or_, select, text, update
from sqlalchemy.orm import Session

from cim_platform.accounts.errors import AccountDisabled, InvalidCredentials, TooManyAttempts, WeakSessionSecret
from cim_platform.accounts.models import SignInFailure, User, UserSession
from cim_platform.accounts.passwords import hash_password, needs_rehash, verify_password
from cim_platform.core.access import Caller, Role
from cim_platform.core.db.base import utcnow
from cim_platform.core.errors import SetupError
from cim_platform.core.settings import Settings

logger = logging.getLogger("cim_platform.accounts.sign_in")

COOKIE_NAME = "cim_session"
CSRF_HEADER = "X-CSRF-Token"
SECRET_FILE = "session_secret"  # noqa: S105 - the file name, not a secret
MIN_SECRET_BYTES = 32
LAST_SEEN_RESOLUTION = timedelta(seconds=60)
"""last_seen_at is written at most this often per session (idle expiry is this precise)."""

KNOWN_DEFAULTS = frozenset(
    {
        "changeme",
        "change-me",
        "change_me",
        "changethis",
        "secret",
        "secretkey",
        "secret-key",
        "secret_key",
        "default",
        "password",
        "insecure",
        "development",
        "test",
        "example",
        "cim",
        "session-secret",
        "session_secret",
        "your-secret-key",
        "replace-me",
        "xxx",
    }
)


# --- the signing key ------------------------------------------------------------------------------


def secret_problem(secret: str) -> str | None:
    """Why ``secret`` is unfit as a signing key (a known default, too short, too repetitive), or None."""
    folded = secret.strip().casefold()
    if folded in KNOWN_DEFAULTS or any(folded == word * (len(folded) // len(word)) for word in KNOWN_DEFAULTS):
        return "is a known default value"
    if len(secret.encode()) < MIN_SECRET_BYTES:
        return f"is shorter than {MIN_SECRET_BYTES} bytes"
    if len(set(secret)) < 10:
        return "has fewer than 10 different characters"
    return None


def _generated_secret(path: Path) -> str:
    """The key in ``path``, created (mode 0600) if missing; safe when several processes start at once."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="ascii") as handle:
                handle.write(secrets.token_urlsafe(48) + "\n")
            try:
                os.link(temporary, path)  # atomic: the first process wins, the others read its key
            except FileExistsError:
                pass
        finally:
            temporary.unlink(missing_ok=True)
    return path.read_text(encoding="ascii").strip()


@dataclass(frozen=True)
class SessionKeys:
    """Signs session keys for cookies and derives their CSRF tokens."""

    secret: bytes

    def _mac(self, label: bytes, key: str) -> str:
        digest = hmac.new(self.secret, label + key.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def cookie_value(self, key: str) -> str:
        return f"{key}.{self._mac(b'session:', key)}"

    def key_from_cookie(self, value: str) -> str | None:
        """The session key if the cookie's signature is right, else None."""
        key, dot, signature = value.rpartition(".")
        if not dot or not key or not hmac.compare_digest(signature, self._mac(b"session:", key)):
            return None
        return key

    def csrf_token(self, key: str) -> str:
        return self._mac(b"csrf:", key)

    def csrf_matches(self, key: str, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(presented.encode(), self.csrf_token(key).encode())


def load_session_keys(settings: Settings) -> SessionKeys:
    """The key of CIM_SESSION_SECRET, or of the data folder's generated one; WeakSessionSecret for a
    known default or weak key (the server refuses to start)."""
    if settings.session_secret is not None:
        secret, source = settings.session_secret, "CIM_SESSION_SECRET"
    else:
        path = settings.resolved_data_dir / SECRET_FILE
        try:
            secret, source = _generated_secret(path), str(path)
        except OSError as exc:
            raise SetupError(f"cannot create the session secret {path}: {exc.strerror or exc}") from None
    problem = secret_problem(secret)
    if problem:
        raise WeakSessionSecret(
            f"the session signing key ({source}) {problem}: set CIM_SESSION_SECRET to {MIN_SECRET_BYTES}+ random "
            f"bytes (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`) or unset it to have one "
            "generated into the data folder"
        )
    return SessionKeys(secret.encode())


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


# --- failed sign-ins --------------------------------------------------------------------------------


def _normalised(username: str) -> str:
    return username.strip().casefold()[:100]


def check_attempts_allowed(session: Session, settings: Settings, username: str, address: str) -> None:
    """TooManyAttempts while the username or the address has reached its limit of failures."""
    now = utcnow()
    window = timedelta(seconds=settings.sign_in_window_s)
    checks = (
        ("username", SignInFailure.username == _normalised(username), settings.sign_in_max_failures_per_user),
        ("address", SignInFailure.address == address[:64], settings.sign_in_max_failures_per_address),
    )
    for scope, condition, limit in checks:
        recent = (
            select(SignInFailure.at)
            .where(condition, SignInFailure.at > now - window)
            .order_by(SignInFailure.at.desc())
            .limit(limit)
        )
        times = list(session.scalars(recent))
        if len(times) >= limit:
            retry_after = (min(times) + window - now).total_seconds()
            logger.warning(
                "sign-in refused (too many failures for this %s): username=%r address=%s", scope, username, address
            )
            raise TooManyAttempts(int(retry_after) + 1, scope=scope)


def record_failure(session: Session, settings: Settings, username: str, address: str, what: str) -> None:
    """Count a failure (the caller commits it even though the request fails) and log it."""
    now = utcnow()
    session.add(SignInFailure(at=now, username=_normalised(username), address=address[:64]))
    # old rows are of no use; an index on ``at`` keeps this cheap
    session.execute(delete(SignInFailure).where(SignInFailure.at < now - timedelta(seconds=settings.sign_in_window_s)))
    session.flush()
    logger.warning("%s: username=%r address=%s", what, username, address)


def _lock_username(session: Session, username: str) -> None:
    """Serialise sign-ins of one username across server processes (until the transaction ends), so
    parallel guesses cannot slip past the limit."""
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": "sign-in:" + _normalised(username)})


# --- sessions --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewSession:
    row: UserSession
    cookie_value: str
    csrf_token: str


def sign_in(
    session: Session,
    settings: Settings,
    keys: SessionKeys,
    username: str,
    password: str,
    *,
    address: str,
    user_agent: str = "",
) -> NewSession:
    """A new session for the user, or InvalidCredentials (the same answer and about the same time for
    an unknown user and a wrong password), TooManyAttempts, AccountDisabled.

    A failure is flushed to ``session`` before the error is raised: the caller commits it anyway.
    """
    _lock_username(session, username)
    check_attempts_allowed(session, settings, username, address)
    user = session.scalar(select(User).where(User.username == username.strip()))
    if not verify_password(user.password_hash if user else None, password) or user is None:
        record_failure(session, settings, username, address, "failed sign-in")
        raise InvalidCredentials()
    if not user.active:
        logger.warning("sign-in of a disabled account: username=%r address=%s", username, address)
        raise AccountDisabled()
    assert user.password_hash is not None  # verified above
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    # a success forgets the username's earlier failures (the address keeps its count)
    session.execute(delete(SignInFailure).where(SignInFailure.username == _normalised(username)))
    purge_ended_sessions(session, user.id)
    now = utcnow()
    key = secrets.token_urlsafe(32)
    row = UserSession(
        user_id=user.id,
        key_hash=hash_key(key),
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(seconds=settings.session_max_age_s),
        address=address[:64],
        user_agent=user_agent[:300],
    )
    session.add(row)
    session.flush()
    row.user = user
    logger.info("signed in: username=%r address=%s", user.username, address)
    return NewSession(row=row, cookie_value=keys.cookie_value(key), csrf_token=keys.csrf_token(key))


def live_session(session: Session, settings: Settings, key: str) -> UserSession | None:
    """The session of ``key`` if it is neither revoked nor expired (idle or absolute) and its user is
    active; its last_seen_at is moved forward (at most once a minute)."""
    row = session.scalar(select(UserSession).where(UserSession.key_hash == hash_key(key)))
    now = utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    if row.last_seen_at + timedelta(seconds=settings.session_idle_timeout_s) <= now or not row.user.active:
        return None
    if now - row.last_seen_at > LAST_SEEN_RESOLUTION:
        row.last_seen_at = now
    return row


def session_caller(row: UserSession) -> Caller:
    return Caller(
        user_id=row.user_id,
        username=row.user.username,
        organization_id=row.user.organization_id,
        role=Role(row.user.role),
    )


def idle_expires_at(row: UserSession, settings: Settings) -> datetime:
    return min(row.expires_at, row.last_seen_at + timedelta(seconds=settings.session_idle_timeout_s))


def sign_out(session: Session, key: str) -> bool:
    """Revoke the session of ``key``; True if it was live."""
    result = session.execute(
        update(UserSession)
        .where(UserSession.key_hash == hash_key(key), UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return bool(getattr(result, "rowcount", 0))


def revoke_sessions(session: Session, user_id: uuid.UUID, *, except_key_hash: str | None = None) -> int:
    """Revoke every live session of a user (disabled, password reset), perhaps except the current one."""
    statement = update(UserSession).where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
    if except_key_hash is not None:
        statement = statement.where(UserSession.key_hash != except_key_hash)
    result = session.execute(statement.values(revoked_at=utcnow()))
    return int(getattr(result, "rowcount", 0))


def purge_ended_sessions(session: Session, user_id: uuid.UUID, older_than: timedelta = timedelta(days=30)) -> None:
    """Delete a user's sessions that ended (revoked or expired) more than ``older_than`` ago."""
    cutoff = utcnow() - older_than
    session.execute(
        delete(UserSession).where(
            UserSession.user_id == user_id, or_(UserSession.expires_at < cutoff, UserSession.revoked_at < cutoff)
        )
    )


def count_failures(session: Session, username: str) -> int:
    """Failures in the table for a username (tests and diagnostics)."""
    return int(
        session.scalar(
            select(func.count()).select_from(SignInFailure).where(SignInFailure.username == _normalised(username))
        )
        or 0
    )
