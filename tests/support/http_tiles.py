"""Fetch a tileset and everything it references over HTTP into a folder that mirrors the URL paths,
so the file-based validators can check what a viewer would stream."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse

from fastapi.testclient import TestClient


def content_uris(tile: dict[str, Any]) -> Iterator[str]:
    if "content" in tile:
        yield tile["content"]["uri"]
    for content in tile.get("contents", []):
        yield content["uri"]
    for child in tile.get("children", []):
        yield from content_uris(child)


def _drop_queries(tile: dict[str, Any]) -> None:
    for content in [*([tile["content"]] if "content" in tile else []), *tile.get("contents", [])]:
        content["uri"] = content["uri"].split("?")[0]
    for child in tile.get("children", []):
        _drop_queries(child)


def mirror(client: TestClient, url: str, dest: Path, headers: dict[str, str] | None = None) -> Path:
    """Download ``url`` (a tileset.json) and all it references; the local path of the entry tileset."""
    seen: set[str] = set()
    entry = dest / urlparse(url).path.lstrip("/")

    def fetch(address: str) -> None:
        path = urlparse(address).path
        if path in seen:
            return
        seen.add(path)
        response = client.get(address, headers=headers or {})
        assert response.status_code == 200, (address, response.status_code, response.text[:200])
        local = dest / path.lstrip("/")
        local.parent.mkdir(parents=True, exist_ok=True)
        local.write_bytes(response.content)
        if path.endswith(".json"):
            assert response.headers["content-type"].startswith("application/json")
            document = json.loads(response.content)
            uris = list(content_uris(document["root"]))
            for uri in uris:
                fetch(urljoin(address, uri))
            if any("?" in uri for uri in uris):  # files have no query (?v=<sha256>): the mirror's URIs neither
                _drop_queries(document["root"])
                local.write_text(json.dumps(document))
        elif path.endswith(".glb"):
            assert response.headers["content-type"] == "model/gltf-binary"

    fetch(url)
    return entry
