"""The id of the request being served (set by the API's request-id middleware; None elsewhere).

Audit rows and log lines carry it, so one answer's ``X-Request-ID`` finds everything it caused.
"""

from __future__ import annotations

from contextvars import ContextVar, Token

request_id_var: ContextVar[str | None] = ContextVar("cim_request_id", default=None)


def current_request_id() -> str | None:
    return request_id_var.get()


def set_request_id(value: str | None) -> Token[str | None]:
    return request_id_var.set(value)


def reset_request_id(token: Token[str | None]) -> None:
    request_id_var.reset(token)
