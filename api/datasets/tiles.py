"""Tile streaming: what 3D Tiles viewers hit thousands of times per view.

Cached answers are served on the event loop; anything that needs the database (or the disk) runs in
the thread pool. Contents too large for the process cache are sent from the on-disk cache in chunks;
behind nginx (which sends ``X-Cim-Accel``) a content's answer carries its headers and
``X-Accel-Redirect`` to its file, and nginx sends the bytes.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse

from api.datasets.public_fill import PublicFill
from api.datasets.tile_http import (
    ACCEL_EXPIRES,
    ACCEL_REQUEST_HEADER,
    PUBLIC_TREE_REQUEST_HEADER,
    PUBLISHED,
    accel_expires,
    accel_path,
    cache_control,
    caching_headers,
    etag_matches,
    shared_by_nginx,
    tile_headers,
)
from api.deps import CallerDep, SessionDep
from cim_platform.datasets.city import city_tileset
from cim_platform.datasets.streaming import TileFile, TileStreamer

router = APIRouter(prefix="/tiles", tags=["tiles"])
log = logging.getLogger(__name__)

GZIP_MIN_BYTES = 1024
TILE_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A tileset JSON (3D Tiles 1.1) or a tile content (glb, subtree, …)",
        "content": {"application/json": {}, "model/gltf-binary": {}, "application/octet-stream": {}},
    },
    304: {"description": "Not modified (If-None-Match matched the ETag)"},
    404: {"description": "No such dataset, revision or file (or not visible to the caller)"},
    410: {
        "description": "The revision was withdrawn by its owner and is no longer served",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    },
}


def _answer(request: Request, body: bytes, etag: str, media_type: str, cache: str) -> Response:
    headers = caching_headers(etag, cache)
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    if (
        media_type == "application/json"
        and len(body) >= GZIP_MIN_BYTES
        and "gzip" in request.headers.get("accept-encoding", "")
    ):
        body = gzip.compress(body, compresslevel=6)
        headers["Content-Encoding"] = "gzip"
    return Response(content=body, media_type=media_type, headers=headers)


def _streamer(request: Request) -> TileStreamer:
    streamer: TileStreamer = request.app.state.tiles
    return streamer


async def _file(
    request: Request, caller: CallerDep, dataset_id: uuid.UUID, revision_id: uuid.UUID | None, path: str
) -> TileFile:
    streamer = _streamer(request)
    tile = streamer.cached(caller, dataset_id, revision_id, path)
    if tile is None:
        tile = await run_in_threadpool(streamer.fetch, caller, dataset_id, revision_id, path)
    return tile


def city(request: Request, caller: CallerDep, session: SessionDep) -> Response:
    body = json.dumps(city_tileset(session, caller), separators=(",", ":")).encode()
    etag = hashlib.sha256(body).hexdigest()
    return _answer(
        request, body, etag, "application/json", PUBLISHED if not caller.authenticated else "private, no-cache"
    )


async def dataset_tileset(dataset_id: uuid.UUID, request: Request, caller: CallerDep) -> Response:
    tile = await run_in_threadpool(_streamer(request).published_tileset, caller, dataset_id)
    return await _content(request, tile, immutable=False)


async def _content(request: Request, tile: TileFile, immutable: bool) -> Response:
    streamer = _streamer(request)
    if tile.media_type == "application/json":  # small documents, gzipped when asked
        body = tile.data if tile.data is not None else await run_in_threadpool(streamer.read, tile)
        return _answer(request, body, tile.sha256, tile.media_type, cache_control(tile.public, immutable))
    headers = tile_headers(tile, immutable)
    accel_mode = request.headers.get(ACCEL_REQUEST_HEADER) if request.method == "GET" else None
    accel = bool(accel_mode)
    if immutable and shared_by_nginx(accel_mode, tile):
        headers[ACCEL_EXPIRES] = accel_expires(streamer.access_ttl_s)  # nginx keeps it a few seconds
        accel = False
    if etag_matches(request.headers.get("if-none-match"), tile.sha256):
        return Response(status_code=304, headers=headers)
    if accel:  # nginx sends the file
        if not streamer.on_disk(tile):
            await run_in_threadpool(streamer.file, tile)
        headers["X-Accel-Redirect"] = accel_path(streamer.disk.relative(tile.sha256))
        return Response(status_code=200, headers=headers, media_type=tile.media_type)
    if tile.data is None:  # too large to hold: sent from the on-disk cache in chunks
        path = await run_in_threadpool(streamer.file, tile)
        return FileResponse(path, headers=headers, media_type=tile.media_type)
    return Response(content=tile.data, media_type=tile.media_type, headers=headers)


async def pinned_file(
    dataset_id: uuid.UUID, revision_id: uuid.UUID, path: str, request: Request, caller: CallerDep
) -> Response:
    tile = await _file(request, caller, dataset_id, revision_id, path)
    fill: PublicFill = request.app.state.public_fill  # the bare server's own
    fill.after_read(request.scope, dataset_id, tile, accel=ACCEL_REQUEST_HEADER in request.headers)
    if request.headers.get(PUBLIC_TREE_REQUEST_HEADER) and request.query_params.get("v") == tile.sha256:
        try:  # nginx sends it itself from now on
            await run_in_threadpool(_streamer(request).share_public, dataset_id, tile)
        except Exception:  # the answer does not depend on it: nginx asks again next time
            log.warning("could not put %s of dataset %s in the public tree", path, dataset_id, exc_info=True)
    return await _content(request, tile, immutable=True)


async def published_file(dataset_id: uuid.UUID, path: str, request: Request, caller: CallerDep) -> Response:
    return await _content(request, await _file(request, caller, dataset_id, None, path), immutable=False)


# GET documented, HEAD answered the same way (without a body)
for _path, _endpoint, _name in (
    ("/city/tileset.json", city, "city_tileset"),
    ("/{dataset_id}/tileset.json", dataset_tileset, "dataset_tileset"),
    ("/{dataset_id}/r/{revision_id}/{path:path}", pinned_file, "revision_file"),
    ("/{dataset_id}/{path:path}", published_file, "published_file"),
):
    router.add_api_route(_path, _endpoint, methods=["GET"], name=_name, response_class=Response, responses=TILE_ANSWERS)
    router.add_api_route(_path, _endpoint, methods=["HEAD"], include_in_schema=False, name=f"{_name}_head")
