"""The portal is served at / with its client routes, without hiding the API, the viewer or the docs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cim_platform.core.settings import Settings
from tests.support.browser import with_portal

BUILT = Path(__file__).resolve().parents[2] / "api" / "static" / "portal"


@pytest.fixture
def portal_client(settings: Settings) -> Iterator[TestClient]:
    from api.app import create_app

    if not (BUILT / "index.html").is_file():
        pytest.fail("the portal is not built: run scripts/bootstrap.sh (npm ci && npm run build)")
    with TestClient(with_portal(create_app(settings))) as client:
        yield client


def test_portal_at_root_and_client_routes(portal_client: TestClient) -> None:
    root = portal_client.get("/")
    assert root.status_code == 200 and root.headers["content-type"].startswith("text/html")
    assert '<div id="app">' in root.text and "/portal/assets/" in root.text
    core_pages = ("/signin", "/datasets", "/datasets/0b7c…", "/upload", "/jobs", "/jobs/abc", "/admin", "/city")
    domain_pages = ("/heritage", "/heritage/0b7c/edit", "/facades/streets/1", "/coverage", "/bim/ids")  # reloads
    for path in (*core_pages, *domain_pages):
        answer = portal_client.get(path)
        assert answer.status_code == 200 and answer.text == root.text, path
    assert portal_client.head("/").status_code == 200


def test_assets_are_local_and_immutable(portal_client: TestClient) -> None:
    root = portal_client.get("/").text
    assets = [part.split('"')[0] for part in root.split('src="')[1:] + root.split('href="')[1:]]
    assets = [a for a in assets if a.startswith("/portal/assets/")]
    assert assets, root
    for asset in assets:
        answer = portal_client.get(asset)
        assert answer.status_code == 200, asset
        assert "immutable" in answer.headers["cache-control"]
    # nothing in the built files points to another host (no CDN, no Cesium ion)
    for path in BUILT.rglob("*"):
        if path.suffix in (".js", ".css", ".html"):
            text = path.read_text(encoding="utf-8", errors="replace")
            for marker in ("cdn.jsdelivr", "unpkg.com", "fonts.googleapis", "fonts.gstatic", "api.cesium.com"):
                assert marker not in text, (path.name, marker)


def test_api_and_other_pages_not_hidden(portal_client: TestClient) -> None:
    missing = portal_client.get("/api/v1/no-such-route")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/json")
    assert portal_client.get("/api/v1/districts").json()["districts"]
    assert portal_client.get("/health").status_code in (200, 503)
    assert portal_client.get("/openapi.json").json()["info"]["title"]
    assert portal_client.get("/docs").status_code == 200
    assert "Cesium.js" in portal_client.get("/viewer").text
    assert portal_client.get("/viewer/cesium/Cesium.js").status_code == 200
    assert portal_client.get("/ogc").status_code == 200
    assert portal_client.get("/tiles/city/tileset.json").status_code == 200
    assert portal_client.get("/no-such-page").status_code == 404
