"""Bounded request headers for the bare server: at most ``MAX_HEADER_BYTES`` of request line and
headers and ``MAX_HEADER_COUNT`` header fields per request, else ``431 Request Header Fields Too
Large`` and the connection is closed. Checked as bytes arrive, so a client sending a huge header never
makes the server hold more than one read's worth beyond the limit, and the event loop is never held
by one parse (uvicorn's httptools protocol has no such limit of its own).

The same protocol offers the ASGI ``http.response.zerocopysend`` extension (:mod:`api.zero_copy`): the
tile fast path sends cached contents with ``sendfile`` from the on-disk cache."""

from __future__ import annotations

import json

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from api.zero_copy import ZERO_COPY, ZeroCopyCycle

MAX_HEADER_BYTES = 64 * 1024
MAX_HEADER_COUNT = 100
REFUSAL = json.dumps(
    {
        "error": "headers_too_large",
        "detail": f"the request's headers exceed {MAX_HEADER_BYTES // 1024} KiB or {MAX_HEADER_COUNT} fields; "
        "send shorter headers (tokens belong in one Authorization header)",
    }
).encode()


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a bound on header size and count, offering zero copy sends."""

    _header_bytes = 0
    _headers_pending = True
    _too_many_fields = False

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_bytes, self._headers_pending, self._too_many_fields = 0, True, False

    def on_header(self, name: bytes, value: bytes) -> None:
        if len(self.headers) >= MAX_HEADER_COUNT:
            self._too_many_fields = True
            return
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._headers_pending = False
        if self._too_many_fields:
            return  # answered by data_received once the parser returns
        super().on_headers_complete()
        # uvicorn builds its own cycle class here; the subclass only adds a method, and the cycle's task
        # looks its ``send`` up when it starts (after this returns). Offered only when that worked (another
        # uvicorn may build another class) and never over TLS (sendfile would bypass the encryption)
        if type(self.cycle) is RequestResponseCycle and self.transport.get_extra_info("sslcontext") is None:
            self.cycle.__class__ = ZeroCopyCycle
            scope = self.cycle.scope
            scope["extensions"] = {**(scope.get("extensions") or {}), ZERO_COPY: {}}

    def on_body(self, body: bytes) -> None:
        if not self._too_many_fields:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self._too_many_fields:
            super().on_message_complete()

    def data_received(self, data: bytes) -> None:
        if self.transport.is_closing():
            return
        super().data_received(data)
        if self._too_many_fields:
            self._refuse()
        elif self._headers_pending:
            self._header_bytes += len(data)
            if self._header_bytes > MAX_HEADER_BYTES:
                self._refuse()

    def _refuse(self) -> None:
        self.logger.warning("refused a request whose headers exceed the limits (431)")
        head = (
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
            b"content-type: application/json\r\n"
            b"content-length: " + str(len(REFUSAL)).encode() + b"\r\nconnection: close\r\n\r\n"
        )
        self.transport.write(head + REFUSAL)
        self.transport.close()
