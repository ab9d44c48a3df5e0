"""The ASGI "zero copy send" extension for the bare server (uvicorn's httptools protocol on uvloop).

A 530 kB tile content written with ``transport.write`` is copied from user space into the socket,
which took more than half of a bare worker's CPU; nginx sends such files with ``sendfile``. A request
whose scope lists ``http.response.zerocopysend`` in its extensions may send its body as
``{"type": "http.response.zerocopysend", "file": fd, "offset": 0, "count": n}`` (ASGI's extension; the
file is an OS file descriptor or an object with ``fileno()``; the sender keeps it open until ``send``
returns). The bytes go with ``os.sendfile`` straight from the page cache to the socket, but only
while the transport's write buffer is empty (the headers already went out, nothing queued ahead of
them); whatever the socket does not take at once (a slow client, a full send buffer) is read from the
file and handed to ``transport.write``, so uvloop's buffering and uvicorn's flow control (high-water
mark, pause/resume writing) work exactly as for an ordinary body. A connection that fails during
``sendfile`` is closed and counts as a client disconnect.

A ``http.response.start`` message with ``ZERO_COPY_FOLLOWS: True`` (an extra key other servers
ignore) says the body comes by zero copy: the socket is corked (``TCP_CORK``) from the headers until
the body is handed over, so headers and body leave in full segments and the peer is woken once, not
once for a small header packet and again for the body (on loopback each send runs the receiver's
TCP path in the sender's time).
"""

from __future__ import annotations

import logging
import os
import socket as sockets
from typing import Any

from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

ZERO_COPY = "http.response.zerocopysend"
ZERO_COPY_FOLLOWS = "cim.zero_copy_follows"


def offers_zero_copy(scope: Any) -> bool:
    """Whether the server answering ``scope`` accepts ``http.response.zerocopysend`` messages."""
    extensions = scope.get("extensions")
    return bool(extensions) and ZERO_COPY in extensions


class ZeroCopyCycle(RequestResponseCycle):
    """uvicorn's request/response cycle that also accepts ``http.response.zerocopysend`` (no
    ``__init__`` of its own, its one flag has a class default: the protocol turns uvicorn's cycles into
    this class right after creating them)."""

    _corked = False

    async def send(self, message: Any) -> None:
        if message["type"] != ZERO_COPY or not self.response_started or self.response_complete:
            if message["type"] == "http.response.start" and message.get(ZERO_COPY_FOLLOWS):
                self._cork(True)
            try:
                return await super().send(message)
            finally:
                if self._corked and message["type"] != "http.response.start":
                    self._cork(False)
        try:
            return await self._send_zero_copy(message)
        finally:
            if self._corked:
                self._cork(False)

    def _cork(self, on: bool) -> None:
        self._corked = on
        socket = self.transport.get_extra_info("socket")
        if socket is None or self.transport.is_closing():
            return
        try:
            socket.setsockopt(sockets.IPPROTO_TCP, sockets.TCP_CORK, 1 if on else 0)
        except OSError:
            pass  # not TCP (or gone): nothing to cork

    async def _send_zero_copy(self, message: Any) -> None:
        if self.flow.write_paused and not self.disconnected:
            await self.flow.drain()
        if self.disconnected:
            return None
        more_body = bool(message.get("more_body", False))
        if self.scope["method"] == "HEAD":
            self.expected_content_length = 0
        else:
            if self.chunked_encoding:
                raise RuntimeError("zero copy send needs a Content-Length")
            file = message["file"]
            fd = file if isinstance(file, int) else file.fileno()
            offset = int(message.get("offset") or 0)
            count = message.get("count")
            count = os.fstat(fd).st_size - offset if count is None else int(count)
            if count > self.expected_content_length:
                raise RuntimeError("Response content longer than Content-Length")
            if not self._send_file(fd, offset, count):
                return None
            self.expected_content_length -= count
        if not more_body:
            if self.expected_content_length != 0:
                raise RuntimeError("Response content shorter than Content-Length")
            self.response_complete = True
            self.message_event.set()
            if not self.keep_alive:
                self.transport.close()
            self.on_response()
        return None

    def _send_file(self, fd: int, offset: int, count: int) -> bool:
        if send_file(self.transport, self.transport.get_extra_info("socket"), fd, offset, count, self.logger):
            return True
        self.disconnected = True
        return False


def send_file(transport: Any, socket: Any, fd: int, offset: int, count: int, logger: logging.Logger) -> bool:
    """Send ``count`` bytes of ``fd`` from ``offset`` on ``transport`` (plain TCP, never TLS; ``socket`` is
    its ``get_extra_info("socket")``): with ``sendfile`` while the transport's buffer is empty, the rest
    through ``transport.write``. False if the connection failed or the file was shorter than ``count``
    (the transport is closed then)."""
    end = offset + count
    if socket is not None and not transport.is_closing() and transport.get_write_buffer_size() == 0:
        out = socket.fileno()
        try:
            while offset < end:
                sent = os.sendfile(out, fd, offset, end - offset)
                if sent == 0:  # the file is shorter than announced
                    break
                offset += sent
        except (BlockingIOError, InterruptedError):
            pass  # the socket's buffer is full: the rest goes through the transport
        except OSError:  # reset, broken pipe: the client is gone
            transport.close()
            return False
    if offset < end:
        rest = os.pread(fd, end - offset, offset)
        if len(rest) != end - offset:
            logger.error("a file sent with zero copy is shorter than its Content-Length")
            transport.close()
            return False
        transport.write(rest)
    return True
