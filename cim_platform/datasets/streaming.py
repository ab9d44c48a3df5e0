"""What tile streaming reads: one query per request, a consistent snapshot of the published revision."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, text

from cim_platform.access import Caller
from cim_platform.errors import NotFound

_PUBLISHED = text(
    """
    SELECT d.organization_id, d.visibility, t.revision_id, t.sha256, t.media_type,
           CASE WHEN t.sha256 = :etag THEN NULL ELSE t.data END AS data
      FROM datasets d JOIN tile_contents t ON t.revision_id = d.published_revision_id
     WHERE d.id = :dataset_id AND t.path = :path
    """
)
_PINNED = text(
    """
    SELECT d.organization_id, d.visibility, t.revision_id, t.sha256, t.media_type,
           CASE WHEN t.sha256 = :etag THEN NULL ELSE t.data END AS data
      FROM tile_contents t JOIN dataset_revisions r ON r.id = t.revision_id JOIN datasets d ON d.id = r.dataset_id
     WHERE d.id = :dataset_id AND r.id = :revision_id AND t.path = :path
    """
)


@dataclass
class TileFile:
    revision_id: uuid.UUID
    sha256: str
    media_type: str
    data: bytes | None  # None when the client's ETag matches
    public: bool


def fetch_tile(
    engine: Engine, caller: Caller, dataset_id: uuid.UUID, path: str, revision_id: uuid.UUID | None, etag: str | None
) -> TileFile:
    query, params = (_PINNED, {"revision_id": revision_id}) if revision_id else (_PUBLISHED, {})
    with engine.connect() as conn:
        row = conn.execute(query, {"dataset_id": dataset_id, "path": path, "etag": etag or "", **params}).first()
    if row is None:
        raise NotFound(f"no {path} in dataset {dataset_id}")
    public = row.visibility == "public"
    caller.check_visible(row.organization_id, public=public, what=f"{path} in dataset {dataset_id}")
    return TileFile(
        row.revision_id, row.sha256, row.media_type, bytes(row.data) if row.data is not None else None, public
    )


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

    pinned = dict(tileset)
    pinned["root"] = visit(tileset["root"])
    return pinned


def published_tileset(engine: Engine, caller: Caller, dataset_id: uuid.UUID) -> tuple[bytes, str, bool]:
    """The published tileset.json with contents pinned to its revision: (bytes, etag, public)."""
    entry = fetch_tile(engine, caller, dataset_id, "tileset.json", None, None)
    assert entry.data is not None
    pinned = pin_uris(json.loads(entry.data), f"r/{entry.revision_id}/")
    body = json.dumps(pinned, separators=(",", ":")).encode()
    return body, hashlib.sha256(body).hexdigest(), entry.public
