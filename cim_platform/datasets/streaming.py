"""What tile streaming reads. Revision-pinned contents are immutable and cached in the process;
access (owner, visibility, published revision) is read from the database, or from a cache a few
seconds old. The published tileset.json is always read fresh, with its contents pinned to its
revision, so a viewer never mixes two revisions.

Memory stays bounded whatever a content's size: contents up to a quarter of the process cache
(``CIM_TILE_CACHE_MB``) are read whole and cached in memory; larger ones are never held whole, they
are copied from PostgreSQL in chunks into the content-addressed on-disk cache
(:mod:`cim_platform.datasets.disk_cache`) and sent from the file. At most
``CIM_TILE_MAX_CONCURRENT_READS`` contents are read from the database at once per process; further
requests wait. Behind nginx (``cim deploy nginx-conf``) every immutable content is put in the on-disk
cache and nginx sends the file.

A withdrawn revision (its owner took it back) answers 410 on every path: its id is part of the
dataset's access, so every server process stops serving it within ``CIM_TILE_ACCESS_TTL_S`` whatever
its caches hold, and the process that withdrew it at once (:meth:`TileStreamer.forget_revision`)."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, text

from cim_platform.core.access import Caller
from cim_platform.core.caches import ByteLRU
from cim_platform.core.errors import NotFound
from cim_platform.core.settings import Settings
from cim_platform.datasets.access_cache import RefreshAheadCache
from cim_platform.datasets.disk_cache import ContentCache
from cim_platform.datasets.errors import RevisionWithdrawn
from cim_platform.datasets.public_tree import FOLDER as PUBLIC_FOLDER
from cim_platform.datasets.public_tree import PublicTree
from cim_platform.datasets.tilestore import media_type

_ACCESS = text(
    """
    SELECT d.organization_id, d.visibility, d.published_revision_id,
           ARRAY(SELECT r.id FROM dataset_revisions r WHERE r.dataset_id = d.id AND r.state = 'withdrawn') AS withdrawn
      FROM datasets d WHERE d.id = :dataset_id
    """
)
_CONTENT = text(
    """
    SELECT t.sha256, t.media_type, t.size, CASE WHEN t.size <= :inline_max THEN t.data END AS data
      FROM tile_contents t JOIN dataset_revisions r ON r.id = t.revision_id
     WHERE r.dataset_id = :dataset_id AND t.revision_id = :revision_id AND t.path = :path
    """
)
_SERVABLE = text(  # revisions anonymous callers may read (see public_tree)
    """
    SELECT r.dataset_id, r.id FROM dataset_revisions r JOIN datasets d ON d.id = r.dataset_id
     WHERE d.id = ANY(:ids) AND d.visibility = 'public' AND r.state <> 'withdrawn'
    """
)
_SHAS = text(
    "SELECT path, sha256 FROM tile_contents WHERE revision_id = :revision_id AND media_type <> 'application/json'"
)
_CHUNK = (  # psycopg placeholders: run on the driver's connection with binary results (no hex copy)
    "SELECT substring(data from %(start)s for %(length)s) FROM tile_contents"
    " WHERE revision_id = %(revision_id)s AND path = %(path)s AND sha256 = %(sha256)s"
)
READ_CHUNK_BYTES = 1024 * 1024
"""Bytes read from PostgreSQL per query when copying a large content into the on-disk cache."""


@dataclass(frozen=True)
class DatasetAccess:
    organization_id: uuid.UUID
    public: bool
    published_revision_id: uuid.UUID | None
    withdrawn: frozenset[uuid.UUID] = frozenset()


@dataclass(frozen=True)
class TileFile:
    revision_id: uuid.UUID
    sha256: str
    media_type: str
    data: bytes | None
    """The bytes, or None for a content too large to hold in memory (send :meth:`TileStreamer.file`)."""
    public: bool
    path: str = ""
    size: int = 0


def pin_uris(tileset: dict[str, Any], prefix: str, sha256s: dict[str, str] | None = None) -> dict[str, Any]:
    """A copy of a tileset whose content URIs point into one revision (``prefix`` + uri). A content
    listed in ``sha256s`` (path → SHA-256) also names its digest (``?v=``): behind nginx such a URL of a
    public dataset is answered from the public tree (:mod:`cim_platform.datasets.public_tree`)."""
    sha256s = sha256s or {}

    def pinned(content: dict[str, Any]) -> dict[str, Any]:
        uri = content["uri"]
        sha256 = sha256s.get(uri.removeprefix("./")) if "?" not in uri and "#" not in uri else None
        return {**content, "uri": prefix + uri + (f"?v={sha256}" if sha256 else "")}

    def visit(tile: dict[str, Any]) -> dict[str, Any]:
        tile = dict(tile)
        if "content" in tile:
            tile["content"] = pinned(tile["content"])
        if "contents" in tile:
            tile["contents"] = [pinned(c) for c in tile["contents"]]
        if "children" in tile:
            tile["children"] = [visit(child) for child in tile["children"]]
        return tile

    return {**tileset, "root": visit(tileset["root"])}


class TileStreamer:
    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine, self.settings = engine, settings
        self.access_ttl_s = settings.tile_access_ttl_s
        cache_bytes = settings.tile_cache_mb * 1024 * 1024
        self.inline_max = cache_bytes // 4  # what ByteLRU keeps; larger contents go through the disk
        # refreshed ahead of expiry by one thread: no herd of requests to the database every TTL
        self._access: RefreshAheadCache[uuid.UUID, DatasetAccess] = RefreshAheadCache(
            settings.tile_access_ttl_s, self._read_access
        )
        self._contents: ByteLRU[tuple[uuid.UUID, uuid.UUID, str], TileFile] = ByteLRU(
            cache_bytes, lambda tile: (len(tile.data) if tile.data is not None else 0) + 200
        )
        self.disk = ContentCache(settings.tile_disk_cache_dir or settings.resolved_data_dir / "tile-cache")
        self._reads = threading.BoundedSemaphore(settings.tile_max_concurrent_reads)
        self._locks: dict[tuple[uuid.UUID, uuid.UUID, str], threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self.public_tree = PublicTree(self.disk.root / PUBLIC_FOLDER, self._servable, settings.tile_access_ttl_s)
        self.public_tree.start_if_present()

    # -- access --------------------------------------------------------------------------
    def _read_access(self, dataset_id: uuid.UUID) -> DatasetAccess | None:
        with self.engine.connect() as conn:
            row = conn.execute(_ACCESS, {"dataset_id": dataset_id}).first()
        if row is None:
            return None
        public = row.visibility == "public"
        return DatasetAccess(row.organization_id, public, row.published_revision_id, frozenset(row.withdrawn))

    def _load_access(self, dataset_id: uuid.UUID) -> DatasetAccess:
        generation = self._access.generation()  # read before a withdrawal, stored after it: not stored
        access = self._read_access(dataset_id)
        if access is None:
            self._access.forget(dataset_id)
            raise NotFound(f"no dataset {dataset_id}")
        self._access.put(dataset_id, access, generation)
        return access

    @staticmethod
    def _check(caller: Caller, access: DatasetAccess, dataset_id: uuid.UUID, revision_id: uuid.UUID | None) -> None:
        # the same words as for a dataset that does not exist: never reveal another organisation's data
        caller.check_visible(access.organization_id, public=access.public, what=f"dataset {dataset_id}")
        if revision_id is not None and revision_id in access.withdrawn:
            raise RevisionWithdrawn(
                f"revision {revision_id} of dataset {dataset_id} was withdrawn by its owner and is no longer "
                f"served; the dataset's current tiles are at /tiles/{dataset_id}/tileset.json"
            )

    def _servable(self, dataset_ids: Iterable[uuid.UUID]) -> set[tuple[uuid.UUID, uuid.UUID]]:
        with self.engine.connect() as conn:
            rows = conn.execute(_SERVABLE, {"ids": list(dataset_ids)}).all()
        return {(row[0], row[1]) for row in rows}

    def share_public(self, dataset_id: uuid.UUID, tile: TileFile) -> bool:
        """Put a public revision-pinned content in the tree nginx sends from (blocking: run it in a
        thread); whether it is there. Only contents whose stored media type is the one their name gives
        (nginx types files by their names), never JSON documents (answered gzipped when asked)."""
        if not tile.public or tile.media_type == "application/json" or tile.media_type != media_type(tile.path):
            return False
        return self.public_tree.share(dataset_id, tile.revision_id, tile.sha256, tile.path, self.file(tile))

    def forget_revision(self, dataset_id: uuid.UUID, revision_id: uuid.UUID, sha256s: list[str]) -> None:
        """After a revision was withdrawn (committed): this process stops serving it at once (the others
        within CIM_TILE_ACCESS_TTL_S), and the on-disk cache drops the files no other revision shares."""
        self._access.forget(dataset_id)
        self.public_tree.forget(dataset_id, revision_id)
        for sha256 in sha256s:
            self.disk.discard(sha256)

    # -- contents ------------------------------------------------------------------------
    def cached(
        self, caller: Caller, dataset_id: uuid.UUID, revision_id: uuid.UUID | None, path: str
    ) -> TileFile | None:
        """The answer without touching the database, if everything needed is cached."""
        access = self._access.get(dataset_id)
        if access is None:
            return None
        self._check(caller, access, dataset_id, revision_id)
        revision_id = revision_id or access.published_revision_id
        if revision_id is None:
            raise NotFound(f"dataset {dataset_id} has no published revision")
        tile = self._contents.get((dataset_id, revision_id, path))
        if tile is not None and tile.public != access.public:
            tile = replace(tile, public=access.public)
        return tile

    def fetch(self, caller: Caller, dataset_id: uuid.UUID, revision_id: uuid.UUID | None, path: str) -> TileFile:
        access = self._load_access(dataset_id)
        self._check(caller, access, dataset_id, revision_id)
        revision_id = revision_id or access.published_revision_id
        if revision_id is None:
            raise NotFound(f"dataset {dataset_id} has no published revision")
        key = (dataset_id, revision_id, path)
        tile = self._contents.get(key)
        if tile is None:
            with self._content_lock(key):  # concurrent first reads of one content: one database read
                tile = self._contents.get(key) or self._read_content(key, dataset_id, revision_id, path, access)
        if tile.public != access.public:
            tile = replace(tile, public=access.public)
        return tile

    def _content_lock(self, key: tuple[uuid.UUID, uuid.UUID, str]) -> threading.Lock:
        with self._locks_guard:
            lock = self._locks.get(key)
            if lock is None:
                if len(self._locks) > 4096:
                    self._locks = {k: v for k, v in self._locks.items() if v.locked()}
                lock = self._locks[key] = threading.Lock()
            return lock

    def _read_content(
        self,
        key: tuple[uuid.UUID, uuid.UUID, str],
        dataset_id: uuid.UUID,
        revision_id: uuid.UUID,
        path: str,
        access: DatasetAccess,
    ) -> TileFile:
        with self._reads, self.engine.connect() as conn:
            row = conn.execute(
                _CONTENT,
                {"dataset_id": dataset_id, "revision_id": revision_id, "path": path, "inline_max": self.inline_max},
            ).first()
        if row is None:
            raise NotFound(f"no {path} in dataset {dataset_id}")
        data = bytes(row.data) if row.data is not None else None
        tile = TileFile(revision_id, row.sha256, row.media_type, data, access.public, path, row.size)
        self._contents.put(key, tile)
        return tile

    def on_disk(self, tile: TileFile) -> bool:
        """Whether the content's file is in the on-disk cache (a stat: cheap enough for the event loop)."""
        return self.disk.has(tile.sha256, tile.size)

    def file(self, tile: TileFile) -> Path:
        """The content's file in the on-disk cache, copied there first if missing (blocking: run it in a
        thread). Large contents are read from PostgreSQL in chunks, at most
        ``CIM_TILE_MAX_CONCURRENT_READS`` at once per process."""
        return self.disk.ensure(tile.sha256, tile.size, lambda: self._chunks(tile))

    def _chunks(self, tile: TileFile) -> Iterator[bytes]:
        if tile.data is not None:
            yield tile.data
            return
        with self._reads, self.engine.connect() as conn:
            driver: psycopg.Connection[Any] = conn.connection.driver_connection  # type: ignore[assignment]
            with driver.cursor(binary=True) as cursor:
                for start in range(0, max(tile.size, 1), READ_CHUNK_BYTES):
                    params = {"start": start + 1, "length": READ_CHUNK_BYTES}  # SQL counts from 1
                    cursor.execute(
                        _CHUNK, {**params, "revision_id": tile.revision_id, "path": tile.path, "sha256": tile.sha256}
                    )
                    row = cursor.fetchone()
                    if row is None:
                        raise NotFound(f"no {tile.path} in revision {tile.revision_id}")
                    yield bytes(row[0])
                    del row

    def read(self, tile: TileFile) -> bytes:
        """The whole content (for JSON documents, which are answered gzipped or rewritten)."""
        return tile.data if tile.data is not None else self.file(tile).read_bytes()

    def published_tileset(self, caller: Caller, dataset_id: uuid.UUID) -> TileFile:
        """The published tileset.json (read fresh) with its contents pinned to its revision."""
        access = self._load_access(dataset_id)
        self._check(caller, access, dataset_id, None)
        if access.published_revision_id is None:
            raise NotFound(f"dataset {dataset_id} has no published revision")
        key = (dataset_id, access.published_revision_id, "tileset.json#pinned")
        tile = self._contents.get(key)
        if tile is None:
            entry = self.fetch(caller, dataset_id, access.published_revision_id, "tileset.json")
            with self.engine.connect() as conn:
                rows = conn.execute(_SHAS, {"revision_id": entry.revision_id}).all()
            sha256s: dict[str, str] = {path: sha256 for path, sha256 in rows}
            pinned = pin_uris(json.loads(self.read(entry)), f"r/{entry.revision_id}/", sha256s)
            body = json.dumps(pinned, separators=(",", ":")).encode()
            tile = TileFile(
                entry.revision_id,
                hashlib.sha256(body).hexdigest(),
                "application/json",
                body,
                access.public,
                "tileset.json",
                len(body),
            )
            self._contents.put(key, tile)
        elif tile.public != access.public:
            tile = replace(tile, public=access.public)
        return tile
