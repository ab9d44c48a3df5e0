"""The CesiumJS viewer in headless Chromium: tiles requested and drawn, a click shows the element's metadata."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
from PIL import Image

from cim_platform.core.db.engine import session_scope
from cim_platform.datasets.models import Dataset
from tests.support.http_api import upload, wait_job

SAMPLE = Path(__file__).resolve().parents[2] / "sample_models" / "ifc" / "ordos_kangbashi_hall_4546.ifc"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu-sandbox",
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--ignore-gpu-blocklist",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture
def published_model(client, cast, start_worker) -> str:
    start_worker()
    headers = cast.headers("uploader_a")
    response = upload(client, headers, SAMPLE, name="Kangbashi hall", district="kangbashi", visibility="public")
    assert response.status_code == 202, response.text
    assert wait_job(client, headers, response.json()["job"]["href"])["state"] == "succeeded"
    return response.json()["dataset"]["id"]


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is installed by scripts/bootstrap.sh")
def test_viewer_streams_draws_and_picks(published_model: str, live_server: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    requested: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1000, "height": 700})
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("request", lambda request: requested.append(request.url))
        external = [url for url in requested if not url.startswith(live_server)]
        page.goto(f"{live_server}/viewer?dataset={published_model}")
        page.wait_for_function("window.cimViewerState && window.cimViewerState.tilesLoaded > 0", timeout=90_000)
        page.wait_for_function("window.cimViewer.scene.primitives.get(0).tilesLoaded", timeout=90_000)
        page.wait_for_timeout(1500)
        shot = np.asarray(Image.open(io.BytesIO(page.screenshot())).convert("RGB"), dtype=np.int16)
        (tmp_path / "viewer.png").write_bytes(page.screenshot())
        # click the model at the centre of the view (the camera looks at its origin)
        centre = page.evaluate(
            """() => { const v = window.cimViewer, c = v.scene.canvas;
                for (let dy = 0; dy < 200; dy += 8) for (let dx = -200; dx <= 200; dx += 8) {
                  const p = new Cesium.Cartesian2(c.clientWidth / 2 + dx, c.clientHeight / 2 + dy);
                  if (v.scene.pick(p) instanceof Cesium.Cesium3DTileFeature) return [p.x, p.y];
                } return null; }"""
        )
        assert centre is not None, "no element of the model under the camera"
        page.mouse.click(centre[0], centre[1])
        page.wait_for_selector("#properties:not([hidden]) table", timeout=10_000)
        panel = page.inner_text("#properties")
        picked = page.evaluate("window.cimViewerState.picked")
        browser.close()
    glbs = [url for url in requested if urlsplit(url).path.endswith(".glb")]
    assert glbs and all(f"/tiles/{published_model}/r/" in url for url in glbs)
    assert all("?v=" in url for url in glbs)  # named by their SHA-256: nginx can send them from the public tree
    assert any(url.endswith("/tiles/city/tileset.json") for url in requested)
    assert not external, external  # offline: nothing but the platform itself
    assert not errors, errors
    # the canvas is not blank: the screenshot has many distinct colours and real contrast
    assert shot.std() > 10 and len(np.unique(shot.reshape(-1, 3), axis=0)) > 200
    assert picked and any(key.lower().endswith("globalid") or "GlobalId" in key for key in picked), picked
    assert any(str(value) in panel for value in picked.values())


def test_viewer_page_and_cesium_are_served(client) -> None:
    page = client.get("/viewer")
    assert page.status_code == 200 and "Cesium.js" in page.text
    assert client.get("/viewer/cesium/Cesium.js").status_code == 200
    assert client.get("/viewer/cesium/Assets/Textures/NaturalEarthII/tilemapresource.xml").status_code == 200


def test_landing_is_the_portal(client) -> None:
    """/ is the web portal (tests/api/test_portal_serving.py); its footer links the viewer, the docs and the API."""
    from tests.support.browser import with_portal

    with_portal(client.app)
    page = client.get("/").text
    assert '<div id="app">' in page and "/portal/assets/" in page
    bundle = "".join(
        client.get(part.split('"')[0]).text for part in page.split('src="')[1:] if part.startswith("/portal/assets/")
    )
    for href in ("/viewer", "/docs", "/openapi.json", "/tiles/city/tileset.json", "/ogc"):
        assert any(f"href:{q}{href}{q}" in bundle for q in "\"'`"), href
    assert client.get("/docs").status_code == 200 and client.get("/openapi.json").json()["info"]["title"]


def _make_public(client, dataset_id: str) -> None:
    with session_scope(client.app.state.engine) as session:
        session.get(Dataset, dataset_id).visibility = "public"
