"""Errors of the accounts domain (all part of the one hierarchy in ``cim_platform.core.errors``).

Each has a code of its own, so a client (the portal) words it in the reader's language by code and
``params``; ``detail`` is the English wording.
"""

from __future__ import annotations

from cim_platform.core.errors import Forbidden, InvalidInput, SetupError, Unauthenticated


class InvalidCredentials(Unauthenticated):
    """Wrong username or wrong password: one answer for both, so usernames cannot be probed."""

    code = "invalid_credentials"

    def __init__(self) -> None:
        super().__init__("wrong username or password")


class NotSignedIn(Unauthenticated):
    code = "not_signed_in"

    def __init__(self) -> None:
        super().__init__("not signed in (no session cookie, or the session ended)")


class TooManyAttempts(Forbidden):
    """Too many failed sign-ins for a username or from an address (the API answers 429 + Retry-After)."""

    code = "too_many_attempts"

    def __init__(self, retry_after_s: int, *, scope: str) -> None:
        self.retry_after_s = max(1, retry_after_s)
        super().__init__(
            f"too many failed sign-ins for this {scope}; try again in {self.retry_after_s} s",
            params={"retry_after": self.retry_after_s, "scope": scope},
        )


class CsrfFailed(Forbidden):
    code = "csrf_failed"

    def __init__(self) -> None:
        super().__init__(
            "a request signed in by the session cookie must carry the header X-CSRF-Token "
            "with the csrf_token of POST/GET /api/v1/session"
        )


class AccountDisabled(Forbidden):
    code = "account_disabled"

    def __init__(self) -> None:
        super().__init__("this account is disabled; ask an administrator")


class PasswordTooWeak(InvalidInput):
    code = "password_too_weak"

    def __init__(self, message: str, *, reason: str, min_length: int, max_length: int) -> None:
        """``reason``: too_short, too_long, is_username or too_simple (in ``params`` for translation)."""
        super().__init__(message, params={"reason": reason, "min_length": min_length, "max_length": max_length})


class CurrentPasswordWrong(Forbidden):
    """A user changing their own password gave a wrong (or no) current password."""

    code = "current_password_wrong"

    def __init__(self) -> None:
        super().__init__("the current password is wrong (a new password needs the current one)")


class WeakSessionSecret(SetupError):
    """The session signing key is a known default or too short: the server refuses to start."""

    code = "weak_session_secret"
