"""Every request gets an id: the client's ``X-Request-ID`` when it is sane, else a new one.

The id is set in :mod:`cim_platform.core.request_context` for the request's duration (audit rows and
log lines carry it) and echoed in the response's ``X-Request-ID`` header.
"""

from __future__ import annotations

import re
import uuid

from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cim_platform.core.request_context import reset_request_id, set_request_id

HEADER = "X-Request-ID"
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/+=-]{0,127}")


def request_id_from(header: str | None) -> str:
    """The client's id if it is short printable ASCII without spaces, else a fresh one."""
    if header is not None and SANE_REQUEST_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware), so the context variable reaches endpoints and thread pools."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(Headers(scope=scope).get(HEADER))
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        token = set_request_id(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            reset_request_id(token)


def install_request_id(app: FastAPI) -> None:
    """Add the middleware; call it after the other middlewares so it wraps them all."""
    app.add_middleware(RequestIdMiddleware)
