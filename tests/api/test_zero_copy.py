"""The bare server's zero copy sends (issue 17, api/zero_copy.py): a real uvicorn server (uvloop, the
project's protocol class) on a loopback socket, answering with ``http.response.zerocopysend``; whole
and partial files, a send buffer far smaller than the file (``sendfile`` sends part, the transport the
rest, under flow control), pipelined and keep-alive requests, HEAD, and a client that goes away
mid-body."""

from __future__ import annotations

import logging
import os
import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from api.http_limits import BoundedHttpToolsProtocol
from api.zero_copy import ZERO_COPY, ZERO_COPY_FOLLOWS, offers_zero_copy
from tests.support.waiting import wait_for

SIZE = 4 * 1024 * 1024 + 17


class FileApp:
    """Answers ``/file`` (the whole file), ``/part`` (1 000 bytes from offset 100) and ``/memory`` (an
    ordinary body) and records what happened."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offered: list[bool] = []
        self.finished: list[str] = []
        self.all_finished = threading.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        self.offered.append(offers_zero_copy(scope))
        if scope["path"] == "/memory":
            body = b"ordinary body"
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"13")]})
            await send({"type": "http.response.body", "body": body})
            return
        offset, count = (100, 1000) if scope["path"] == "/part" else (0, SIZE)
        fd = os.open(self.path, os.O_RDONLY)
        try:
            headers = [(b"content-length", str(count).encode()), (b"content-type", b"application/octet-stream")]
            # the whole file with the headers corked until the body is handed over, the part without
            start = {"type": "http.response.start", "status": 200, "headers": headers}
            await send({**start, ZERO_COPY_FOLLOWS: True} if scope["path"] == "/file" else start)
            await send({"type": ZERO_COPY, "file": fd, "offset": offset, "count": count})
        finally:
            os.close(fd)
            self.finished.append(scope["path"])
            self.all_finished.set()


@pytest.fixture
def data(tmp_path: Path) -> tuple[Path, bytes]:
    content = os.urandom(SIZE)
    path = tmp_path / "content.bin"
    path.write_bytes(content)
    return path, content


def _serve(app: FileApp, send_buffer: int) -> Iterator[int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)  # the accepted sockets inherit it
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app, loop="uvloop", http=BoundedHttpToolsProtocol, lifespan="off", log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, timeout=30, interval=0.05)
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


@pytest.fixture
def app(data: tuple[Path, bytes]) -> FileApp:
    return FileApp(data[0])


@pytest.fixture
def port(app: FileApp) -> Iterator[int]:
    yield from _serve(app, send_buffer=4096)


def _connect(port: int, receive_buffer: int = 4096) -> socket.socket:
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    client.settimeout(30)
    client.connect(("127.0.0.1", port))
    return client


class Reader:
    """Reads HTTP/1.1 answers off one connection, in small pieces (a slow client)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock, self.buffer = sock, b""

    def _more(self) -> None:
        piece = self.sock.recv(1500)
        assert piece, "the server closed the connection"
        self.buffer += piece

    def answer(self, head_request: bool = False) -> tuple[int, dict[str, str], bytes]:
        while b"\r\n\r\n" not in self.buffer:
            self._more()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
        length = 0 if head_request else int(headers["content-length"])
        while len(self.buffer) < length:
            self._more()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return int(status_line.split()[1]), headers, body


def test_whole_file_through_a_small_send_buffer(
    app: FileApp, port: int, data: tuple[Path, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[int] = []
    sendfile = os.sendfile

    def counting(out_fd: int, in_fd: int, offset: int | None, count: int) -> int:
        sent.append(sendfile(out_fd, in_fd, offset, count))
        return sent[-1]

    monkeypatch.setattr(os, "sendfile", counting)
    with _connect(port) as client:
        client.sendall(b"GET /file HTTP/1.1\r\nHost: x\r\n\r\n")
        status, headers, body = Reader(client).answer()
    assert status == 200 and headers["content-length"] == str(SIZE)
    assert body == data[1]  # every byte, in order: what sendfile sent and the transport's remainder
    assert app.offered == [True]
    assert sent and 0 < sum(sent) < SIZE  # sendfile sent a part, the transport the rest


def test_pipelined_and_keep_alive(app: FileApp, port: int, data: tuple[Path, bytes]) -> None:
    content = data[1]
    with _connect(port) as client:
        reader = Reader(client)
        client.sendall(
            b"GET /file HTTP/1.1\r\nHost: x\r\n\r\n"
            b"HEAD /file HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /part HTTP/1.1\r\nHost: x\r\n\r\n"
            b"GET /memory HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        first = reader.answer()
        head = reader.answer(head_request=True)
        part = reader.answer()
        memory = reader.answer()
        # the same connection still serves (keep-alive)
        client.sendall(b"GET /part HTTP/1.1\r\nHost: x\r\n\r\n")
        again = reader.answer()
    assert first[0] == 200 and first[2] == content
    assert head[0] == 200 and head[1]["content-length"] == str(SIZE) and head[2] == b""
    assert part[0] == 200 and part[2] == content[100:1100]
    assert memory[2] == b"ordinary body"
    assert again[2] == content[100:1100]
    assert reader.buffer == b""  # nothing after the answers (a HEAD answer has no body)


def test_connection_close_is_honoured(port: int, data: tuple[Path, bytes]) -> None:
    with _connect(port, receive_buffer=1 << 20) as client:
        client.sendall(b"GET /part HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        received = b""
        while piece := client.recv(65536):
            received += piece
    head, body = received.split(b"\r\n\r\n", 1)
    assert b"connection: close" in head.lower() and body == data[1][100:1100]


def test_a_client_gone_mid_body(
    app: FileApp, port: int, data: tuple[Path, bytes], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    client = _connect(port)
    client.sendall(b"GET /file HTTP/1.1\r\nHost: x\r\n\r\n")
    assert client.recv(1000)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # reset, not a clean close
    client.close()
    assert app.all_finished.wait(30), "the answer never finished"
    assert app.finished == ["/file"]
    # the server is unharmed and logged no error
    with _connect(port, receive_buffer=1 << 20) as other:
        other.sendall(b"GET /part HTTP/1.1\r\nHost: x\r\n\r\n")
        assert Reader(other).answer()[2] == data[1][100:1100]
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []


def test_a_file_shorter_than_announced_closes_the_connection(tmp_path: Path) -> None:
    short = tmp_path / "short.bin"
    short.write_bytes(b"x" * 10)

    class Liar(FileApp):
        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "http":
                return
            fd = os.open(self.path, os.O_RDONLY)
            try:
                await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"50")]})
                await send({"type": ZERO_COPY, "file": fd, "offset": 0, "count": 50})
            finally:
                os.close(fd)

    for port in _serve(Liar(short), send_buffer=1 << 16):
        with _connect(port) as client:
            client.sendall(b"GET /x HTTP/1.1\r\nHost: x\r\n\r\n")
            received = b""
            while piece := client.recv(65536):  # the server closes rather than send a short body and wait
                received += piece
        assert received.startswith(b"HTTP/1.1 200 ") and len(received.split(b"\r\n\r\n", 1)[1]) <= 10
