"""Bounded request headers for the bare server: at most ``MAX_HEADER_BYTES`` of request line and
headers and ``MAX_HEADER_COUNT`` header fields per request, else ``431 Request Header Fields Too
Large`` and the connection is closed. Checked as bytes arrive, so a client sending a huge header never
makes the server hold more than one read's worth beyond the limit, and the event loop is never held
by one parse (uvicorn's httptools protocol has no such limit of its own).

The same protocol offers the ASGI ``http.response.zerocopysend`` extension (:mod:`api.zero_copy`): the
tile fast path sends cached contents with ``sendfile`` from the on-disk cache. And it answers plain
anonymous reads of public pinned contents from the public tree itself, before any ASGI work
(:mod:`api.public_front`), as nginx does in front of the platform."""

from __future__ import annotations

import json
import os
import socket as sockets
import time
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol, RequestResponseCycle

from api.public_front import PublicFront
from api.zero_copy import ZERO_COPY, ZeroCopyCycle, send_file

TCP = (sockets.AF_INET, sockets.AF_INET6)

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
    _front: PublicFront | None = None
    _socket: sockets.socket | None = None
    """The connection's socket (a duplicate descriptor) when the public tree front answers on it."""
    _answered_here = False
    """The current request was answered from the public tree (no ASGI cycle of its own)."""
    _answered_in_feed = False

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)
        raw = transport.get_extra_info("socket")
        # plain TCP only: sendfile would bypass TLS, and the head is sent with MSG_MORE
        if transport.get_extra_info("sslcontext") is None and raw is not None and raw.family in TCP:
            self._front = public_front_of(self.app)

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self._close_socket()

    def handle_websocket_upgrade(self) -> None:
        self._close_socket()  # the WebSocket protocol takes the connection over (no connection_lost here)
        super().handle_websocket_upgrade()

    def _close_socket(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def _connection_socket(self) -> sockets.socket:
        """The connection's socket, duplicated on the first answer from the tree and kept (uvloop's own
        ``get_extra_info("socket")`` builds a new object on each call, and its ``setsockopt`` another)."""
        if self._socket is None:
            raw = self.transport.get_extra_info("socket")
            self._socket = sockets.socket(raw.family, raw.type, raw.proto, fileno=os.dup(raw.fileno()))
        return self._socket

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_bytes, self._headers_pending, self._too_many_fields = 0, True, False
        self._answered_here = False

    def on_header(self, name: bytes, value: bytes) -> None:
        if len(self.headers) >= MAX_HEADER_COUNT:
            self._too_many_fields = True
            return
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._headers_pending = False
        if self._too_many_fields:
            return  # answered by data_received once the parser returns
        if self._front is not None and self._answer_from_public_tree(self._front):
            return
        super().on_headers_complete()
        # uvicorn builds its own cycle class here; the subclass only adds a method, and the cycle's task
        # looks its ``send`` up when it starts (after this returns). Offered only when that worked (another
        # uvicorn may build another class) and never over TLS (sendfile would bypass the encryption)
        if type(self.cycle) is RequestResponseCycle and self.transport.get_extra_info("sslcontext") is None:
            self.cycle.__class__ = ZeroCopyCycle
            scope = self.cycle.scope
            scope["extensions"] = {**(scope.get("extensions") or {}), ZERO_COPY: {}}

    def _answer_from_public_tree(self, front: PublicFront) -> bool:
        """Answer the request whose headers were just parsed from the public tree, if it is a plain
        anonymous read of a content there and nothing is ahead of it on this connection."""
        if (self.cycle is not None and not self.cycle.response_complete) or self.pipeline:
            return False  # pipelined behind a request still being answered: the answers keep their order
        if self.transport.is_closing() or self.flow.write_paused or self.transport.get_write_buffer_size():
            return False  # closing (an earlier answer said so), or bytes still queued: the application's flow
        if self.parser.should_upgrade():
            return False
        started = time.perf_counter()
        method = self.parser.get_method()
        http_version = self.parser.get_http_version()
        keep_alive = http_version != "1.0" and self.parser.should_keep_alive()
        found = front.find(method, self.url, self.headers, self.server_state.default_headers, keep_alive)
        if found is None:
            return False
        self._answered_here = self._answered_in_feed = True
        try:
            socket = self._connection_socket()
            body = method == b"GET" and found.size > 0
            sent = self._send_head(socket, found.head, more=body)
            if sent and body:
                sent = send_file(self.transport, socket, found.fd, 0, found.size, self.logger)
        finally:
            os.close(found.fd)
        if self.access_log:
            client = f"{self.client[0]}:{self.client[1]}" if self.client else ""
            self.access_logger.info(
                '%s - "%s %s HTTP/%s" %d', client, method.decode("ascii"), found.log_path, http_version, 200
            )
        front.count(method, started)
        self.server_state.total_requests += 1
        if sent and not keep_alive:
            self.transport.close()
        return True

    def _send_head(self, socket: sockets.socket, head: bytes, more: bool) -> bool:
        """Send an answer's head straight to the socket (nothing is queued ahead of it), with MSG_MORE when
        the body follows: headers and body leave together, the peer is woken once. False if the
        connection failed (then closed)."""
        try:
            sent = socket.send(head, sockets.MSG_MORE if more else 0)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:  # reset, broken pipe: the client is gone
            self.transport.close()
            return False
        if sent < len(head):
            self.transport.write(head[sent:])  # the body follows through the transport too (send_file)
        return True

    def on_body(self, body: bytes) -> None:
        if not self._too_many_fields and not self._answered_here:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self._too_many_fields and not self._answered_here:
            super().on_message_complete()

    def data_received(self, data: bytes) -> None:
        if self.transport.is_closing():
            return
        self._answered_in_feed = False
        super().data_received(data)
        if self._answered_in_feed and self.timeout_keep_alive_task is None and not self.transport.is_closing():
            # answered here, so no cycle armed the keep-alive timeout: arm it if nothing else is running
            if (self.cycle is None or self.cycle.response_complete) and not self.pipeline:
                self.timeout_keep_alive_task = self.loop.call_later(
                    self.timeout_keep_alive, self.timeout_keep_alive_handler
                )
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


def public_front_of(app: Any) -> PublicFront | None:
    """The public tree front of the platform application inside uvicorn's wrappers, if it has one."""
    for _ in range(8):
        front = getattr(getattr(app, "state", None), "public_front", None)
        if isinstance(front, PublicFront):
            return front
        app = getattr(app, "app", None)
        if app is None:
            return None
    return None
