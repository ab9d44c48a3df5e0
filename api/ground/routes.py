"""The ground over HTTP: the city's combined quantized-mesh terrain, orthophoto tiles (web mercator
and geographic) and the list of both. Access as for datasets' tiles: public datasets for everyone,
internal ones for their organisation."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from api.datasets.tile_http import PUBLISHED, cache_control, caching_headers, etag_matches
from api.deps import CallerDep, SessionDep
from api.ground.schemas import GroundLayersPublic, ImageryLayerPublic, TerrainDatasetRef, TerrainPublic
from cim_platform.core.access import Caller
from cim_platform.core.errors import NotFound
from cim_platform.datasets.streaming import TileStreamer
from cim_platform.ground.imagery import ImageryTiles, imagery_layers
from cim_platform.ground.terrain import ChoiceCache, combined_layer, terrain_sources
from converters.terrain.tiling import MAX_LEVEL, TileKey

router = APIRouter(tags=["ground"])
TERRAIN_LAYER = "/ground/terrain/layer.json"
IMAGERY_TILE = "/ground/imagery/{dataset_id}/{scheme}/{z}/{x}/{y}.png"
TERRAIN_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"description": "A quantized-mesh 1.0 tile", "content": {"application/vnd.quantized-mesh": {}}},
    304: {"description": "Not modified (If-None-Match matched the ETag)"},
    404: {"description": "No published terrain visible to the caller has this tile"},
}
IMAGERY_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"description": "A 256 × 256 PNG tile (transparent outside the orthophoto)", "content": {"image/png": {}}},
    204: {"description": "The tile lies outside the orthophoto"},
    304: {"description": "Not modified (If-None-Match matched the ETag)"},
    404: {"description": "No such imagery dataset (or not visible to the caller)"},
}


def _streamer(request: Request) -> TileStreamer:
    streamer: TileStreamer = request.app.state.tiles
    return streamer


def _imagery(request: Request) -> ImageryTiles:
    tiles: ImageryTiles | None = getattr(request.app.state, "imagery_tiles", None)
    if tiles is None:
        tiles = request.app.state.imagery_tiles = ImageryTiles(_streamer(request))
    return tiles


def _choices(request: Request) -> ChoiceCache:
    choices: ChoiceCache | None = getattr(request.app.state, "terrain_choices", None)
    if choices is None:
        choices = request.app.state.terrain_choices = ChoiceCache(_streamer(request).access_ttl_s)
    return choices


def _shared_cache(caller: Caller) -> str:
    return PUBLISHED if not caller.authenticated else "private, no-cache"


@router.get("/api/v1/ground/layers", response_model=GroundLayersPublic)
def ground_layers(request: Request, caller: CallerDep, session: SessionDep) -> GroundLayersPublic:
    """The terrain and orthophoto layers the caller can see, with the URLs a viewer loads."""
    sources = terrain_sources(session, caller)
    layers = imagery_layers(session, caller)
    base = str(request.base_url).rstrip("/")
    return GroundLayersPublic(
        terrain=TerrainPublic(
            layer_url=base + TERRAIN_LAYER,
            max_level=max((s.max_level for s in sources), default=0),
            datasets=[
                TerrainDatasetRef(
                    id=s.dataset_id,
                    revision_id=s.revision_id,
                    name=s.name,
                    max_level=s.max_level,
                    bounds=list(s.bounds),
                )
                for s in sources
            ],
        ),
        imagery=[
            ImageryLayerPublic(
                id=layer.dataset_id,
                revision_id=layer.revision_id,
                name=layer.name,
                bounds=list(layer.bounds),
                webmercator_url=f"{base}/ground/imagery/{layer.dataset_id}/webmercator/{{z}}/{{x}}/{{y}}.png",
                geographic_url=f"{base}/ground/imagery/{layer.dataset_id}/geographic/{{z}}/{{x}}/{{y}}.png",
            )
            for layer in layers
        ],
    )


@router.get(TERRAIN_LAYER, response_class=Response, responses={200: {"content": {"application/json": {}}}})
def terrain_layer(request: Request, caller: CallerDep, session: SessionDep) -> Response:
    """The city's combined terrain (quantized-mesh ``layer.json`` for CesiumTerrainProvider)."""
    body = json.dumps(combined_layer(terrain_sources(session, caller)), separators=(",", ":")).encode()
    etag = hashlib.sha256(body).hexdigest()
    headers = caching_headers(etag, _shared_cache(caller))
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


@router.get("/ground/terrain/{z}/{x}/{y}.terrain", response_class=Response, responses=TERRAIN_ANSWERS)
async def terrain_tile(z: int, x: int, y: int, request: Request, caller: CallerDep, session: SessionDep) -> Response:
    """One tile of the combined terrain: the finest published terrain covering it (TMS rows from the south)."""
    if not 0 <= z <= MAX_LEVEL or not 0 <= x < (2 << z) or not 0 <= y < (1 << z):
        raise NotFound(f"no terrain tile {z}/{x}/{y}")
    choice = await run_in_threadpool(_choices(request).choose, session, caller, TileKey(z, x, y))
    if choice is None:
        raise NotFound(f"no published terrain has the tile {z}/{x}/{y}")
    streamer = _streamer(request)
    tile = streamer.cached(caller, choice.dataset_id, choice.revision_id, choice.path)
    if tile is None:
        tile = await run_in_threadpool(streamer.fetch, caller, choice.dataset_id, choice.revision_id, choice.path)
    headers = caching_headers(tile.sha256, cache_control(tile.public, immutable=False))
    if etag_matches(request.headers.get("if-none-match"), tile.sha256):
        return Response(status_code=304, headers=headers)
    body = tile.data if tile.data is not None else await run_in_threadpool(streamer.read, tile)
    return Response(body, media_type=tile.media_type, headers=headers)


@router.get(IMAGERY_TILE, response_class=Response, responses=IMAGERY_ANSWERS)
async def imagery_tile(
    dataset_id: uuid.UUID, scheme: str, z: int, x: int, y: int, request: Request, caller: CallerDep
) -> Response:
    """An orthophoto tile: ``scheme`` is ``webmercator`` (EPSG:3857) or ``geographic`` (EPSG:4326); rows
    from the north."""
    rendered = await run_in_threadpool(_imagery(request).tile, caller, dataset_id, scheme, z, x, y)
    headers = caching_headers(rendered.etag, cache_control(rendered.public, immutable=False))
    if rendered.data is None:
        return Response(status_code=204, headers=headers)
    if etag_matches(request.headers.get("if-none-match"), rendered.etag):
        return Response(status_code=304, headers=headers)
    return Response(rendered.data, media_type="image/png", headers=headers)
