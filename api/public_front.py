"""The bare server's own public tree front: what nginx does in front of the platform, in the protocol.

Behind nginx, a plain anonymous read of a public dataset's revision-pinned content whose URL names the
content's SHA-256 (``?v=<sha256>``, as the served tileset.json writes it) is sent by nginx from the
public tree (:mod:`cim_platform.datasets.public_tree`) without asking the platform. The bare server
(``cim serve`` alone) answers the same reads the same way, in its HTTP protocol class
(:class:`api.http_limits.BoundedHttpToolsProtocol`) as soon as a request's headers are parsed: no ASGI
task, scope, middleware or route, the file sent with ``sendfile``. The answer's headers are the ones
the tile fast path gives (ETag = the SHA-256, the immutable Cache-Control, ``Vary`` with Origin, the
stored media type, ``X-Request-ID``, the server's Date and Server), and each answer is counted in the
request metrics under the pinned-content route.

Who may read what is decided where nginx's layout decides it: a file is in the tree only while its
dataset is public and its revision is served, checked after each fill and swept every
``CIM_TILE_ACCESS_TTL_S`` seconds (the bare server's cached access decisions live as long). The tile
fast path fills the tree (:meth:`~api.datasets.tile_fastpath.TileFastPath`) when it answers such a
read. Anything else goes to the application as before: credentials (a token, the session cookie,
``access_token``), CORS (``Origin``), conditional and range requests, other query strings, encoded
paths, methods other than GET and HEAD, contents above :data:`MAX_BYTES`, and any request arriving
while an earlier one on the connection is still being answered (pipelining keeps its order), while
the connection is closing, or while its send buffer is not empty (flow control stays uvicorn's).

The access log names the peer's address (not one from proxy headers), and ``--limit-concurrency``
does not apply to these answers: both matter only behind a proxy other than nginx's layout, which
never sends these reads on.
"""

from __future__ import annotations

import os
import re
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from api.core.metrics import LATENCY, REQUESTS
from api.core.request_id import request_id_from
from api.datasets.tile_fastpath import PINNED_ROUTE
from api.datasets.tile_http import IMMUTABLE, caching_headers, with_cors_vary
from cim_platform.accounts import sessions
from cim_platform.datasets.tilestore import media_type_of_name

_UUID = rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
# lower-case ids (the tree's folder names), a plain ASCII path (an encoded one goes the long way)
_PATH = rb"[!$&'()*+,\-.0-9;=@A-Z_a-z~/]+"
PINNED_URL = re.compile(rb"/tiles/(" + _UUID + rb")/r/(" + _UUID + rb")/(" + _PATH + rb")\?v=([0-9a-f]{64})")
# what sends a request to the application: what nginx's layout sends to the platform (TREE_BYPASS)
BYPASS = frozenset(
    {
        b"authorization",
        b"origin",
        b"if-none-match",
        b"if-modified-since",
        b"if-match",
        b"if-unmodified-since",
        b"range",
        b"expect",
        b"x-cim-public",
        b"x-cim-accel",
    }
)
MAX_BYTES = 2 * 1024 * 1024
"""Larger contents go to the application, which sends them in chunks as the client reads: what sendfile
cannot send at once is read into memory here (at most this much per slow connection)."""
_SESSION_COOKIE = sessions.COOKIE_NAME.encode() + b"="
_FIELDS = "".join(
    f"{name.lower()}: {value}\r\n" for name, value in with_cors_vary(caching_headers("{}", IMMUTABLE)).items()
)


@dataclass(frozen=True)
class Found:
    """A read the public tree answers: the open file (the caller closes it) and the answer's head."""

    fd: int
    size: int
    head: bytes
    log_path: str


class PublicFront:
    """Finds plain anonymous reads of public pinned contents in the public tree (one per application)."""

    def __init__(self, root: Path) -> None:
        self.root = os.fsencode(root)
        self._ok = REQUESTS.labels("GET", PINNED_ROUTE.path, "200"), REQUESTS.labels("HEAD", PINNED_ROUTE.path, "200")
        self._latency = LATENCY.labels("GET", PINNED_ROUTE.path), LATENCY.labels("HEAD", PINNED_ROUTE.path)

    def find(
        self,
        method: bytes,
        url: bytes,
        headers: list[tuple[bytes, bytes]],
        default_headers: list[tuple[bytes, bytes]],
        keep_alive: bool,
    ) -> Found | None:
        if method != b"GET" and method != b"HEAD":
            return None
        match = PINNED_URL.fullmatch(url)
        if match is None:
            return None
        request_id = None
        for name, value in headers:
            if name in BYPASS or (name == b"cookie" and _SESSION_COOKIE in value):
                return None
            if name == b"x-request-id" and request_id is None:
                request_id = value
        dataset, revision, path, sha256 = match.groups()
        if b"/." in b"/" + path or b"//" in path or path.endswith(b"/"):
            return None  # a segment that is empty, "." or ".." (or a hidden name: never a stored content's)
        try:
            fd = os.open(b"/".join((self.root, dataset, revision, sha256, path)), os.O_RDONLY | os.O_CLOEXEC)
        except OSError:  # not in the tree (yet, or any more)
            return None
        try:
            status = os.fstat(fd)
        except OSError:
            os.close(fd)
            return None
        if not stat.S_ISREG(status.st_mode) or status.st_size > MAX_BYTES:
            os.close(fd)
            return None
        file_name = path.rpartition(b"/")[2].decode("ascii")  # (a normalised path: checked above)
        head = [b"HTTP/1.1 200 OK\r\n"]
        head += [name + b": " + value + b"\r\n" for name, value in default_headers]
        head.append(
            (
                _FIELDS.replace("{}", sha256.decode("ascii"))
                + f"content-type: {media_type_of_name(file_name)}\r\n"
                + f"content-length: {status.st_size}\r\n"
                + f"x-request-id: {request_id_from(request_id.decode('latin-1') if request_id else None)}\r\n"
                + ("" if keep_alive else "connection: close\r\n")
                + "\r\n"
            ).encode("latin-1")
        )
        return Found(fd, status.st_size, b"".join(head), url.decode("ascii"))

    def count(self, method: bytes, started: float) -> None:
        """Count an answer in the request metrics, as the metrics middleware counts the fast path's."""
        index = 0 if method == b"GET" else 1
        self._ok[index].inc()
        self._latency[index].observe(time.perf_counter() - started)
