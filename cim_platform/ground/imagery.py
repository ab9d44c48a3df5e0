"""Orthophoto layers: each visible published imagery dataset's COG (stored in PostGIS like any tile
content, copied once into the on-disk content cache by the tile streamer) cut into web-mercator or
geographic PNG tiles on demand with rio-tiler; rendered tiles are kept in a process cache bounded in
bytes, keyed by the COG's hash (a new revision never meets an old tile)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from shapely import wkb
from sqlalchemy.orm import Session

from cim_platform.core.access import Caller
from cim_platform.core.caches import ByteLRU
from cim_platform.core.errors import InvalidInput, NotFound
from cim_platform.datasets.models import Dataset, DatasetKind
from cim_platform.datasets.service import visible_published
from cim_platform.datasets.streaming import TileStreamer
from converters.imagery import COG_NAME
from converters.imagery.tiles import MAX_ZOOM, TILING_SCHEMES, render_tile

RENDERED_CACHE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class ImageryLayer:
    dataset_id: uuid.UUID
    revision_id: uuid.UUID
    name: str
    bounds: tuple[float, float, float, float]


@dataclass(frozen=True)
class RenderedTile:
    data: bytes | None  # None: outside the orthophoto
    etag: str
    public: bool


def imagery_layers(session: Session, caller: Caller) -> list[ImageryLayer]:
    query = (
        visible_published(caller)
        .where(Dataset.kind == DatasetKind.imagery.value)
        .order_by(Dataset.created_at, Dataset.id)
    )
    layers = []
    for dataset, revision in session.execute(query):
        imagery: dict[str, Any] = (revision.report or {}).get("imagery") or {}
        bounds = imagery.get("bounds_wgs84")
        if not bounds and revision.footprint is not None:
            bounds = list(wkb.loads(bytes(revision.footprint.data)).bounds)
        if bounds:
            west, south, east, north = (float(v) for v in bounds)
            layers.append(ImageryLayer(dataset.id, revision.id, dataset.name, (west, south, east, north)))
    return layers


class ImageryTiles:
    """Rendered imagery tiles, cached; access and the published revision come from the tile streamer."""

    def __init__(self, streamer: TileStreamer) -> None:
        self.streamer = streamer
        self._rendered: ByteLRU[tuple[str, str, int, int, int], RenderedTile] = ByteLRU(
            RENDERED_CACHE_BYTES, lambda tile: len(tile.data or b"") + 200, name="imagery"
        )

    def tile(self, caller: Caller, dataset_id: uuid.UUID, scheme: str, z: int, x: int, y: int) -> RenderedTile:
        """Blocking (database, disk, rendering): run it in a thread."""
        if scheme not in TILING_SCHEMES:
            raise InvalidInput(f"unknown tiling scheme {scheme!r}; expected one of: {', '.join(TILING_SCHEMES)}")
        if not 0 <= z <= MAX_ZOOM or x < 0 or y < 0 or x >= (2 << z) or y >= (1 << z):
            raise NotFound(f"no imagery tile {z}/{x}/{y}")
        try:
            cog = self.streamer.fetch(caller, dataset_id, None, COG_NAME)  # access checked here
        except NotFound:
            raise NotFound(f"no imagery dataset {dataset_id}") from None
        key = (cog.sha256, scheme, z, x, y)
        rendered = self._rendered.get(key)
        if rendered is None:
            path = self.streamer.file(cog)
            data = render_tile(path, scheme, z, x, y)
            rendered = RenderedTile(data, f"{cog.sha256[:24]}-{scheme}-{z}-{x}-{y}", cog.public)
            self._rendered.put(key, rendered)
        return rendered if rendered.public == cog.public else RenderedTile(rendered.data, rendered.etag, cog.public)
