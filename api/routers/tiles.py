"""Tile streaming: what 3D Tiles viewers hit thousands of times per view."""

from __future__ import annotations

import gzip
import hashlib
import json
import uuid

from fastapi import APIRouter, Request, Response

from api.deps import CallerDep, EngineDep, SessionDep
from cim_platform.datasets.city import city_tileset
from cim_platform.datasets.streaming import fetch_tile, published_tileset

router = APIRouter(prefix="/tiles", tags=["tiles"])

IMMUTABLE = "public, max-age=31536000, immutable"
PUBLISHED = "public, max-age=30, must-revalidate"
GZIP_MIN_BYTES = 1024


def _etag_matches(request: Request, etag: str) -> bool:
    header = request.headers.get("if-none-match", "")
    return any(part.strip().removeprefix("W/").strip('"') == etag for part in header.split(",")) or header == "*"


def _client_etag(request: Request) -> str | None:
    header = request.headers.get("if-none-match")
    return header.split(",")[0].strip().removeprefix("W/").strip('"') if header else None


def _answer(request: Request, body: bytes | None, etag: str, media_type: str, cache: str) -> Response:
    headers = {"ETag": f'"{etag}"', "Cache-Control": cache, "Vary": "Accept-Encoding, Authorization"}
    if body is None or _etag_matches(request, etag):
        return Response(status_code=304, headers=headers)
    if (
        media_type == "application/json"
        and len(body) >= GZIP_MIN_BYTES
        and "gzip" in request.headers.get("accept-encoding", "")
    ):
        body = gzip.compress(body, compresslevel=6)
        headers["Content-Encoding"] = "gzip"
    return Response(content=body, media_type=media_type, headers=headers)


def _cache(public: bool, immutable: bool) -> str:
    if not public:
        return "private, max-age=31536000, immutable" if immutable else "private, no-cache"
    return IMMUTABLE if immutable else PUBLISHED


def city(request: Request, caller: CallerDep, session: SessionDep) -> Response:
    body = json.dumps(city_tileset(session, caller), separators=(",", ":")).encode()
    etag = hashlib.sha256(body).hexdigest()
    return _answer(
        request, body, etag, "application/json", PUBLISHED if not caller.authenticated else "private, no-cache"
    )


def dataset_tileset(dataset_id: uuid.UUID, request: Request, caller: CallerDep, engine: EngineDep) -> Response:
    body, etag, public = published_tileset(engine, caller, dataset_id)
    return _answer(request, body, etag, "application/json", _cache(public, immutable=False))


def pinned_file(
    dataset_id: uuid.UUID, revision_id: uuid.UUID, path: str, request: Request, caller: CallerDep, engine: EngineDep
) -> Response:
    tile = fetch_tile(engine, caller, dataset_id, path, revision_id, _client_etag(request))
    return _answer(request, tile.data, tile.sha256, tile.media_type, _cache(tile.public, immutable=True))


def published_file(
    dataset_id: uuid.UUID, path: str, request: Request, caller: CallerDep, engine: EngineDep
) -> Response:
    tile = fetch_tile(engine, caller, dataset_id, path, None, _client_etag(request))
    return _answer(request, tile.data, tile.sha256, tile.media_type, _cache(tile.public, immutable=False))


# GET documented, HEAD answered the same way (without a body)
for _path, _endpoint in (
    ("/city/tileset.json", city),
    ("/{dataset_id}/tileset.json", dataset_tileset),
    ("/{dataset_id}/r/{revision_id}/{path:path}", pinned_file),
    ("/{dataset_id}/{path:path}", published_file),
):
    router.add_api_route(_path, _endpoint, methods=["GET"])
    router.add_api_route(_path, _endpoint, methods=["HEAD"], include_in_schema=False)
