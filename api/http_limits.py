"""Bounded request headers for the bare server: at most ``MAX_HEADER_BYTES`` of request line and
headers and ``MAX_HEADER_COUNT`` header fields per request, else ``431 Request Header Fields Too
Large`` and the connection is closed. Checked as bytes arrive, so a client sending a huge header never
makes the server hold more than one read's worth beyond the limit, and the event loop is never held
by one parse (uvicorn's httptools protocol has no such limit of its own).

Also: an answer's status line and headers go out in the same write as the first part of its body
(one ``writelines``, no copy of the body), as nginx sends them, instead of uvicorn's separate write
of the headers (a small packet and a system call more per answer: a third of the time of a cached
tile content, measured in bench/README.md)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEADER_BYTES = 64 * 1024
MAX_HEADER_COUNT = 100
REFUSAL = json.dumps(
    {
        "error": "headers_too_large",
        "detail": f"the request's headers exceed {MAX_HEADER_BYTES // 1024} KiB or {MAX_HEADER_COUNT} fields; "
        "send shorter headers (tokens belong in one Authorization header)",
    }
).encode()


class _CoalescingTransport:
    """What a request's cycle writes through: the head of the answer is held until the first body
    write (or the end of the answer, or a close), then both go out in one ``writelines``."""

    __slots__ = ("_head", "_started", "_transport")

    def __init__(self, transport: asyncio.Transport) -> None:
        self._transport = transport
        self._head: bytes | None = None
        self._started = False

    def write(self, data: bytes) -> None:
        head = self._head
        if head is not None:
            self._head = None
            self._transport.writelines((head, data) if data else (head,))
        elif not self._started and data.startswith(b"HTTP/1.1 ") and not data.startswith(b"HTTP/1.1 100 "):
            self._started, self._head = True, data  # the status line and headers (not "100 Continue")
        else:
            self._transport.write(data)

    def flush(self) -> None:
        head = self._head
        if head is not None:
            self._head = None
            self._transport.write(head)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:  # is_closing, get_extra_info, … of the real transport
        return getattr(self._transport, name)


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a bound on header size and count."""

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
        before = self.cycle
        super().on_headers_complete()
        cycle = self.cycle
        if cycle is not None and cycle is not before:  # a new request (not an upgrade)
            transport = cycle.transport = _CoalescingTransport(self.transport)  # type: ignore[assignment]
            complete = cycle.on_response

            def on_response() -> None:
                transport.flush()  # an answer without body writes (HEAD)
                complete()

            cycle.on_response = on_response

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
