"""Password hashes (argon2id through ``argon2-cffi``) and the password policy."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from cim_platform.accounts.errors import PasswordTooWeak

MAX_LENGTH = 1024
"""Longer passwords are refused (hashing megabytes on request would be a denial of service)."""

_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
"""argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): about 0.1 s per check on a
busy 2-core server, so many sign-ins at once cannot exhaust memory. Hashes made with other parameters
still verify and are upgraded at the next sign-in."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@cache
def _dummy_hash() -> str:
    return _hasher.hash("not a password: unknown users are checked against this, to take the same time")


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True if ``password`` matches; with no stored hash (unknown user, no password set) a dummy hash
    is checked instead, so the answer takes the same time either way."""
    try:
        return _hasher.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


def warm_up() -> None:
    """Compute the dummy hash ahead of the first sign-in of an unknown user."""
    _dummy_hash()


def check_policy(password: str, *, username: str, min_length: int) -> None:
    """PasswordTooWeak unless the password is long enough, not too long, not the username."""

    def weak(message: str, reason: str) -> PasswordTooWeak:
        return PasswordTooWeak(message, reason=reason, min_length=min_length, max_length=MAX_LENGTH)

    if len(password) < min_length:
        raise weak(f"a password needs at least {min_length} characters", "too_short")
    if len(password) > MAX_LENGTH:
        raise weak(f"a password has at most {MAX_LENGTH} characters", "too_long")
    if password.strip().casefold() == username.strip().casefold():
        raise weak("a password must not be the username", "is_username")
    if len(set(password)) < 3:
        raise weak("a password needs more than two different characters", "too_simple")
