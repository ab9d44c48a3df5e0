"""A lean ASGI path for tile contents already in the process cache.

Viewers request thousands of revision-pinned contents per view; when the content, the dataset's
access and the caller's token are all cached, the answer needs no database, no routing and no
dependency resolution, so it is sent from here. Everything else (and every error) falls through to
the FastAPI routes, which give the same answers the slow way.
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

from api.datasets.tile_http import etag_matches, tile_headers
from cim_platform.core.access import ANONYMOUS, Caller
from cim_platform.core.caches import TTLCache
from cim_platform.core.errors import CimError
from cim_platform.datasets.streaming import TileStreamer

UUID = r"[0-9a-fA-F-]{36}"
PINNED = re.compile(rf"^/tiles/({UUID})/r/({UUID})/(.+)$")


class TileFastPath:
    def __init__(self, app: ASGIApp, streamer: TileStreamer, callers: TTLCache[str, Caller]) -> None:
        self.app, self.streamer, self.callers = app, streamer, callers

    def _caller(self, scope: Scope) -> Caller | None:
        token = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, rest = value.decode("latin-1").partition(" ")
                if scheme.lower() != "bearer":
                    return None
                token = rest.strip()
        if token is None and scope.get("query_string"):
            token = (parse_qs(scope["query_string"].decode("latin-1")).get("access_token") or [None])[0]
        return ANONYMOUS if token is None else self.callers.get(token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            return await self.app(scope, receive, send)
        match = PINNED.match(scope["path"])
        caller = self._caller(scope) if match else None
        if match is None or caller is None:
            return await self.app(scope, receive, send)
        try:
            tile = self.streamer.cached(caller, uuid.UUID(match[1]), uuid.UUID(match[2]), match[3])
        except (CimError, ValueError):
            tile = None
        if tile is None or tile.media_type == "application/json":  # JSON: the routes gzip it
            return await self.app(scope, receive, send)
        if_none_match = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"if-none-match"), None)
        not_modified = etag_matches(if_none_match, tile.sha256)
        headers = [(k.lower().encode(), v.encode()) for k, v in tile_headers(tile, immutable=True).items()]
        if not_modified:
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return None
        headers += [(b"content-type", tile.media_type.encode()), (b"content-length", str(len(tile.data)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else tile.data})
        return None
