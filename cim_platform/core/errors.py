"""The platform's one error hierarchy. The API maps it to HTTP status codes in ``api/errors.py``;
the CLI maps it to exit code 2 and one line. Messages are written for the person who caused them."""

from __future__ import annotations

from collections.abc import Mapping

ErrorParams = dict[str, str | int | float]
"""Values a client needs to word the error itself (translated by ``code``), e.g. ``{"min_length": 10}``."""


class CimError(Exception):
    """Base of every expected platform error."""

    code: str = "error"
    blames_input: bool = True
    """True when the caller's request or file caused it (a job ends as a ``data`` error)."""

    def __init__(self, message: str, *, params: Mapping[str, str | int | float] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.params: ErrorParams = dict(params or {})


class InvalidInput(CimError):
    """The request or file is malformed or refers to something impossible."""

    code = "invalid_input"


class NotFound(CimError):
    """No such object, or not visible to the caller (never reveal another organisation's data)."""

    code = "not_found"


class Unauthenticated(CimError):
    """No valid token."""

    code = "unauthenticated"


class Forbidden(CimError):
    """Token valid, role lacks the scope."""

    code = "forbidden"


class Conflict(CimError):
    """The object's state does not allow the operation (e.g. publishing a failed revision)."""

    code = "conflict"


class Gone(CimError):
    """The object existed but was taken back on purpose (e.g. a withdrawn revision); it will not return."""

    code = "gone"


class PayloadTooLarge(CimError):
    code = "payload_too_large"


class SetupError(CimError):
    """The machine lacks something the platform needs (binaries, permissions, a free port)."""

    code = "setup"
    blames_input = False


class DatabaseUnavailable(CimError):
    code = "database_unavailable"
    blames_input = False


class InsufficientStorage(CimError):
    """The server's disk is full: nothing of the request was kept; try again later."""

    code = "insufficient_storage"
    blames_input = False
