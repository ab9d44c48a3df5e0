"""What tile streaming reads. Revision-pinned contents are immutable and cached in the process;
access (owner, visibility, published revision) is read from the database, or from a cache a few
seconds old. The published tileset.json is always read fresh, with its contents pinned to its
revision, so a viewer never mixes two revisions."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, text

from cim_platform.core.access import Caller
from cim_platform.core.caches import ByteLRU, TTLCache
from cim_platform.core.errors import NotFound
from cim_platform.core.settings import Settings

_ACCESS = text("SELECT organization_id, visibility, published_revision_id FROM datasets WHERE id = :dataset_id")
_CONTENT = text(
    """
    SELECT t.sha256, t.media_type, t.data
      FROM tile_contents t JOIN dataset_revisions r ON r.id = t.revision_id
     WHERE r.dataset_id = :dataset_id AND t.revision_id = :revision_id AND t.path = :path
    """
)


@dataclass(frozen=True)
class DatasetAccess:
    organization_id: uuid.UUID
    public: bool
    published_revision_id: uuid.UUID | None


@dataclass(frozen=True)
class TileFile:
    revision_id: uuid.UUID
    sha256: str
    media_type: str
    data: bytes
    public: bool


def pin_uris(tileset: dict[str, Any], prefix: str) -> dict[str, Any]:
    """A copy of a tileset whose content URIs point into one revision (``prefix`` + uri)."""

    def visit(tile: dict[str, Any]) -> dict[str, Any]:
        tile = dict(tile)
        if "content" in tile:
            tile["content"] = {**tile["content"], "uri": prefix + tile["content"]["uri"]}
        if "contents" in tile:
            tile["contents"] = [{**c, "uri": prefix + c["uri"]} for c in tile["contents"]]
        if "children" in tile:
            tile["children"] = [visit(child) for child in tile["children"]]
        return tile

    return {**tileset, "root": visit(tileset["root"])}


class TileStreamer:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self._access: TTLCache[uuid.UUID, DatasetAccess] = TTLCache(settings.tile_access_ttl_s)
        self._contents: ByteLRU[tuple[uuid.UUID, uuid.UUID, str], TileFile] = ByteLRU(
            settings.tile_cache_mb * 1024 * 1024, lambda tile: len(tile.data) + 200
        )

    # -- access --------------------------------------------------------------------------
    def _load_access(self, dataset_id: uuid.UUID) -> DatasetAccess:
        with self.engine.connect() as conn:
            row = conn.execute(_ACCESS, {"dataset_id": dataset_id}).first()
        if row is None:
            raise NotFound(f"no dataset {dataset_id}")
        access = DatasetAccess(row.organization_id, row.visibility == "public", row.published_revision_id)
        self._access.put(dataset_id, access)
        return access

    @staticmethod
    def _check(caller: Caller, access: DatasetAccess, dataset_id: uuid.UUID, path: str) -> None:
        # the same words as for a dataset that does not exist: never reveal another organisation's data
        caller.check_visible(access.organization_id, public=access.public, what=f"dataset {dataset_id}")

    # -- contents ------------------------------------------------------------------------
    def cached(
        self, caller: Caller, dataset_id: uuid.UUID, revision_id: uuid.UUID | None, path: str
    ) -> TileFile | None:
        """The answer without touching the database, if everything needed is cached."""
        access = self._access.get(dataset_id)
        if access is None:
            return None
        self._check(caller, access, dataset_id, path)
        revision_id = revision_id or access.published_revision_id
        if revision_id is None:
            raise NotFound(f"dataset {dataset_id} has no published revision")
        tile = self._contents.get((dataset_id, revision_id, path))
        if tile is not None and tile.public != access.public:
            tile = TileFile(tile.revision_id, tile.sha256, tile.media_type, tile.data, access.public)
        return tile

    def fetch(self, caller: Caller, dataset_id: uuid.UUID, revision_id: uuid.UUID | None, path: str) -> TileFile:
        access = self._load_access(dataset_id)
        self._check(caller, access, dataset_id, path)
        revision_id = revision_id or access.published_revision_id
        if revision_id is None:
            raise NotFound(f"dataset {dataset_id} has no published revision")
        key = (dataset_id, revision_id, path)
        tile = self._contents.get(key)
        if tile is None:
            with self.engine.connect() as conn:
                row = conn.execute(
                    _CONTENT, {"dataset_id": dataset_id, "revision_id": revision_id, "path": path}
                ).first()
            if row is None:
                raise NotFound(f"no {path} in dataset {dataset_id}")
            tile = TileFile(revision_id, row.sha256, row.media_type, bytes(row.data), access.public)
            self._contents.put(key, tile)
        return tile

    def published_tileset(self, caller: Caller, dataset_id: uuid.UUID) -> TileFile:
        """The published tileset.json (read fresh) with its contents pinned to its revision."""
        access = self._load_access(dataset_id)
        self._check(caller, access, dataset_id, "tileset.json")
        if access.published_revision_id is None:
            raise NotFound(f"dataset {dataset_id} has no published revision")
        key = (dataset_id, access.published_revision_id, "tileset.json#pinned")
        tile = self._contents.get(key)
        if tile is None:
            entry = self.fetch(caller, dataset_id, access.published_revision_id, "tileset.json")
            pinned = pin_uris(json.loads(entry.data), f"r/{entry.revision_id}/")
            body = json.dumps(pinned, separators=(",", ":")).encode()
            tile = TileFile(
                entry.revision_id, hashlib.sha256(body).hexdigest(), "application/json", body, access.public
            )
            self._contents.put(key, tile)
        return tile
