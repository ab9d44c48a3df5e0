"""A lean ASGI path for tile contents already in the process cache.

Viewers request thousands of revision-pinned contents per view; when the content, the dataset's
access and the caller (token or session cookie) are all cached, the answer needs no database, no
routing and no dependency resolution, so it is sent from here: the bytes from memory, or behind nginx
an ``X-Accel-Redirect`` to the content's file in the on-disk cache. On the bare server (which offers
ASGI's zero copy send, :mod:`api.zero_copy`) a 200 answer's body goes with ``sendfile`` from the
content's file in the on-disk cache, filled from memory in a thread on the first answer; a public
content asked with its digest (``?v=``) is also put in the public tree, from which the protocol itself
answers the next plain anonymous reads (:mod:`api.datasets.public_fill`, :mod:`api.public_front`).
Everything else (and every error) falls through to the FastAPI routes, which give the same answers the
slow way.

It is installed twice: outside every other middleware (:func:`install_outermost`), where it also
does their work for its answers (the ``X-Request-ID`` header, the request metrics, CORS's ``Vary:
Origin``) and leaves requests with an ``Origin`` header to the CORS middleware; and inside the CORS
middleware, for those.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from api.core.metrics import LATENCY, REQUESTS
from api.core.request_id import request_id_from
from api.datasets.public_fill import PublicFill
from api.datasets.tile_http import (
    ACCEL_CACHE,
    ACCEL_EXPIRES,
    ACCEL_REQUEST_HEADER,
    PUBLIC_TREE_REQUEST_HEADER,
    accel_expires,
    accel_path,
    etag_matches,
    tile_headers,
    with_cors_vary,
)
from api.deps import CallerCache, cached_session_caller
from api.zero_copy import ZERO_COPY, ZERO_COPY_FOLLOWS, offers_zero_copy
from cim_platform.accounts import sessions
from cim_platform.accounts.service import authenticate
from cim_platform.core.access import ANONYMOUS, Caller
from cim_platform.core.db.engine import session_scope
from cim_platform.core.errors import CimError
from cim_platform.datasets.streaming import TileFile, TileStreamer

UUID = r"[0-9a-fA-F-]{36}"
PINNED = re.compile(rf"^/tiles/({UUID})/r/({UUID})/(.+)$")
_ACCEL = ACCEL_REQUEST_HEADER.encode()
_PUBLIC_TREE = PUBLIC_TREE_REQUEST_HEADER.encode()
_CACHE = ACCEL_CACHE.encode()
_COOKIE_PREFIX = sessions.COOKIE_NAME + "="


@dataclass(frozen=True)
class _Route:
    """What the metrics middleware reads as the answering route (``scope["route"].path``)."""

    path: str


PINNED_ROUTE = _Route("/tiles/{dataset_id}/r/{revision_id}/{path:path}")


@dataclass(frozen=True)
class _Missing:
    """A token or session not in the callers' cache yet."""

    cache_key: str | tuple[str, str]
    token: str | None = None
    session_key: str | None = None


@dataclass(frozen=True)
class _Answer:
    not_modified: tuple[tuple[bytes, bytes], ...]
    ok: tuple[tuple[bytes, bytes], ...]
    accel: tuple[tuple[bytes, bytes], ...]
    file: str
    """The content's file in the on-disk cache."""


class TileFastPath:
    def __init__(
        self, app: ASGIApp, streamer: TileStreamer, callers: CallerCache, fill: PublicFill, outermost: bool = False
    ) -> None:
        self.app, self.streamer, self.callers, self.fill, self.outermost = app, streamer, callers, fill, outermost
        self._answers: dict[tuple[str, bool, str], _Answer] = {}
        self._loading: dict[str | tuple[str, str], asyncio.Future[Caller | None]] = {}
        self._filling: set[str] = set()
        self._expires = (ACCEL_EXPIRES.lower().encode(), accel_expires(streamer.access_ttl_s).encode())

    def _caller(self, scope: Scope, authorization: bytes | None, cookie: bytes | None) -> Caller | _Missing | None:
        """The cached caller, ANONYMOUS, what to load (not cached yet), or None when only the routes can
        tell (a malformed header, no cookie keys loaded yet)."""
        token = None
        if authorization is not None:
            scheme, _, rest = authorization.decode("latin-1").partition(" ")
            if scheme.lower() != "bearer" or not rest.strip():
                return None
            token = rest.strip()
        if token is None and scope.get("query_string"):
            token = (parse_qs(scope["query_string"].decode("latin-1")).get("access_token") or [None])[0]
        if token is not None:
            return self.callers.get(token) or _Missing(token, token=token)
        if cookie is None:
            return ANONYMOUS
        text = cookie.decode("latin-1")
        if _COOKIE_PREFIX not in text:
            return ANONYMOUS
        value = cookie_parser(text).get(sessions.COOKIE_NAME)
        keys: sessions.SessionKeys | None = getattr(getattr(scope.get("app"), "state", None), "session_keys", None)
        if not value or keys is None:
            return None if value else ANONYMOUS
        caller = cached_session_caller(self.callers, keys, value)
        if caller is not None:
            return caller
        key = keys.key_from_cookie(value)
        return ANONYMOUS if key is None else _Missing(("session", sessions.hash_key(key)), session_key=key)

    async def _load(self, missing: _Missing) -> Caller | None:
        """Authenticate once for all concurrent requests with the same token or cookie (no herd of
        database reads when a cached caller expires); None: the routes answer (e.g. 401)."""
        pending = self._loading.get(missing.cache_key)
        if pending is not None:
            return await asyncio.shield(pending)
        pending = asyncio.get_running_loop().create_future()
        self._loading[missing.cache_key] = pending
        caller: Caller | None = None
        try:
            caller = await run_in_threadpool(self._authenticate, missing)
            if caller is not None:
                self.callers.put(missing.cache_key, caller)
        except Exception:  # the routes give the proper answer (503, 401, …)
            caller = None
        finally:
            del self._loading[missing.cache_key]
            pending.set_result(caller)
        return caller

    def _authenticate(self, missing: _Missing) -> Caller | None:
        with session_scope(self.streamer.engine) as session:
            if missing.token is not None:
                return authenticate(session, missing.token)
            assert missing.session_key is not None
            row = sessions.live_session(session, self.streamer.settings, missing.session_key)
            return ANONYMOUS if row is None else sessions.session_caller(row)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            return await self.app(scope, receive, send)
        match = PINNED.match(scope["path"])
        if match is None:
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        authorization = cookie = if_none_match = request_id = None
        accel_mode: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"origin" and self.outermost:
                return await self.app(scope, receive, send)  # CORS: answered inside the CORS middleware
            if name == _PUBLIC_TREE:
                return await self.app(scope, receive, send)  # nginx missed it in the public tree: the route fills it
            if name == b"x-request-id" and request_id is None:
                request_id = value
            elif name == b"authorization":
                authorization = value
            elif name == b"cookie":
                cookie = value if cookie is None else cookie + b"; " + value
            elif name == b"if-none-match":
                if_none_match = value.decode("latin-1")
            elif name == _ACCEL and scope["method"] == "GET":
                accel_mode = value
        found = self._caller(scope, authorization, cookie)
        caller = await self._load(found) if isinstance(found, _Missing) else found
        if caller is None:
            return await self.app(scope, receive, send)
        try:
            tile = self.streamer.cached(caller, uuid.UUID(match[1]), uuid.UUID(match[2]), match[3])
        except (CimError, ValueError):
            tile = None
        if tile is None or tile.media_type == "application/json":  # JSON: the routes gzip it
            return await self.app(scope, receive, send)
        shared = accel_mode == _CACHE and tile.data is not None  # shared_by_nginx: nginx keeps it a few seconds
        accel = bool(accel_mode) and not shared
        if accel and not self.streamer.on_disk(tile):
            return await self.app(scope, receive, send)  # the route fills the on-disk cache first
        if not accel and tile.data is None:
            return await self.app(scope, receive, send)  # too large to hold: the route streams the file
        self.fill.after_read(scope, uuid.UUID(match[1]), tile, accel=accel_mode is not None)
        scope["route"] = PINNED_ROUTE
        answer = self._answers.get((tile.sha256, tile.public, tile.media_type))
        if answer is None:
            answer = self._prepare(tile)
        if if_none_match is not None and etag_matches(if_none_match, tile.sha256):
            headers = [*answer.not_modified, self._expires] if shared else list(answer.not_modified)
            status, body = 304, b""
        elif accel:
            status, headers, body = 200, list(answer.accel), b""
        else:
            assert tile.data is not None
            headers = [*answer.ok, self._expires] if shared else list(answer.ok)
            status, body = 200, b"" if scope["method"] == "HEAD" else tile.data
        if not self.outermost:
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return None
        # outside the other middlewares: their part of the answer too
        text = request_id.decode("latin-1") if request_id is not None else None
        headers.append((b"x-request-id", request_id_from(text).encode()))
        fd = None
        if body and offers_zero_copy(scope):
            fd = self._open(tile, answer.file)
        try:
            if fd is None:
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
            else:
                await send(
                    {"type": "http.response.start", "status": status, "headers": headers, ZERO_COPY_FOLLOWS: True}
                )
                await send({"type": ZERO_COPY, "file": fd, "offset": 0, "count": len(body)})
        finally:
            if fd is not None:
                os.close(fd)
        method = scope["method"]
        REQUESTS.labels(method, PINNED_ROUTE.path, str(status)).inc()
        LATENCY.labels(method, PINNED_ROUTE.path).observe(time.perf_counter() - started)
        return None

    def _open(self, tile: TileFile, path: str) -> int | None:
        """The content's file in the on-disk cache, opened (the caller closes it), or None: not there yet
        (then it is written from memory in a thread, for the next answers) or of another size."""
        assert tile.data is not None
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            self._fill(tile.sha256, tile.data)
            return None
        except (OSError, ValueError):
            return None
        try:
            if os.fstat(fd).st_size == len(tile.data):
                return fd
        except OSError:
            pass
        os.close(fd)
        return None

    def _fill(self, sha256: str, data: bytes) -> None:
        """Write a content held in memory to the on-disk cache, in a thread, once at a time. A file filled
        while its revision is withdrawn stays (another revision may share it; only an authorised request
        is ever sent it, and a withdrawn revision's are refused)."""
        if sha256 in self._filling:
            return
        self._filling.add(sha256)

        def write() -> None:
            self.streamer.disk.ensure(sha256, len(data), lambda: (data,))

        def done(future: asyncio.Future[None]) -> None:
            self._filling.discard(sha256)
            if not future.cancelled():
                future.exception()  # a failed fill (disk full…) only means the bytes go from memory

        asyncio.get_running_loop().run_in_executor(None, write).add_done_callback(done)

    def _prepare(self, tile: TileFile) -> _Answer:
        """The header lists of a content's answers, built once (the middlewares outside add to copies)."""
        fields = tile_headers(tile, immutable=True)
        if self.outermost:  # answered outside the CORS middleware
            with_cors_vary(fields)
        headers = tuple((k.lower().encode(), v.encode()) for k, v in fields.items())
        typed = (*headers, (b"content-type", tile.media_type.encode()))
        accel = accel_path(self.streamer.disk.relative(tile.sha256)).encode()
        length = str(len(tile.data) if tile.data is not None else tile.size).encode()
        answer = _Answer(
            not_modified=headers,
            ok=(*typed, (b"content-length", length)),
            accel=(*typed, (b"x-accel-redirect", accel), (b"content-length", b"0")),
            file=str(self.streamer.disk.path(tile.sha256)),
        )
        if len(self._answers) >= 10_000:
            self._answers.clear()
        self._answers[(tile.sha256, tile.public, tile.media_type)] = answer
        return answer


def install_outermost(app: FastAPI, streamer: TileStreamer, callers: CallerCache, fill: PublicFill) -> None:
    """Put a fast path outside every middleware of ``app`` (call after adding them all)."""
    build = app.build_middleware_stack

    def build_with_fast_path() -> ASGIApp:
        return TileFastPath(build(), streamer, callers, fill, outermost=True)

    app.build_middleware_stack = build_with_fast_path  # type: ignore[method-assign]
