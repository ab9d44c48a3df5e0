"""The pipelines demo loaded over HTTP (idempotent), then its pages in Debian's Chromium, in Chinese and English:
the home card's monitoring rate against 15 %,
the registry page with its one clearance violation and filters, and the 3D city's panel of a picked pipe with its
attributes and the latest reading of its device."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from api.pipelines.demo import DEVICES, NAME, load_pipelines
from cim_platform.core.settings import Settings
from tests.support import postgis
from tests.support.browser import chromium, find_feature, open_page, sign_in, wait_city_ready
from tests.support.waiting import wait_for

BUILT = Path(__file__).resolve().parents[2] / "api" / "static" / "portal" / "index.html"


@pytest.fixture
def portal(settings: Settings, cast) -> Iterator[str]:  # the cast first: the server then bootstraps no admin
    import httpx

    if not BUILT.is_file():
        pytest.fail("the portal is not built: run npm run build")
    port = postgis.free_port()
    env = postgis.subprocess_env(settings.database_url or "", settings.resolved_data_dir)
    log = open(settings.resolved_data_dir / "portal-server.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "tests.support.browser:portal_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{base}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(up, timeout=60)
    yield base
    process.terminate()
    process.wait(timeout=20)


def test_demo_pages_and_city_panel_in_both_languages(client, cast, settings, start_worker, portal) -> None:
    start_worker()
    # the demo step, through the HTTP upload path: converted by the worker, published, read into the registry
    assert "示例" in NAME and "Synthetic example" in NAME
    assert load_pipelines(settings, portal) == 85
    official = cast.headers("official")
    [listed] = client.get("/api/v1/datasets", params={"kind": "pipelines"}).json()["datasets"]
    dataset = listed["id"]
    uri = client.get(f"/tiles/{dataset}/tileset.json").json()["root"]["content"]["uri"]
    assert uri.split("?v=")[0].endswith("lines.glb")
    devices = client.get("/api/v1/pipelines/devices", headers=official).json()["items"]
    assert sorted(d["code"] for d in devices) == sorted(d["code"] for d in DEVICES)
    assert {d["state"] for d in devices} == {"active", "offline"}
    assert load_pipelines(settings, portal) == 0  # loading again keeps what is there
    segment = "BDL02-BDL03"  # street B's power duct bank, through the middle of the network
    device = {"code": "示例-COVER-9", "kind": "cover_open", "dataset_id": dataset, "segment_code": segment,
              "organization_id": str(cast.orgs["institute_a"])}
    assert client.post("/api/v1/pipelines/devices", headers=official, json=device).status_code == 201
    token = client.post("/api/v1/pipelines/device-tokens", headers=official,
                        json={"organization_id": str(cast.orgs["institute_a"]), "name": "t"}).json()["token"]
    client.post("/api/v1/pipelines/readings", headers={"X-Device-Token": token},
                json={"readings": [{"device": "示例-COVER-9", "value": 1.0}]})
    password = cast.password("official")

    with chromium() as browser:
        b = open_page(browser, portal, locale="zh-CN")

        def wait(selector: str) -> Any:
            try:
                return b.page.wait_for_selector(selector, timeout=120_000)
            except Exception as error:  # say what the page shows instead
                log = (settings.resolved_data_dir / "portal-server.log").read_text(errors="replace")[-3000:]
                raise AssertionError(f"{selector}: {b.errors} {b.failed} {b.page.inner_text('body')[:1500]}"
                                     f"\nserver log: {log}") from error

        sign_in(b, "official", password)
        b.go("/")
        card = wait("[data-testid=pipelines-rate]")
        assert 0 < float(card.get_attribute("data-rate") or 0) < 0.15
        assert "管线智能监测率" in b.page.inner_text("[data-testid=pipelines-card]")
        b.go("/pipelines")
        wait("[data-testid=pipelines-segments] tbody tr")
        assert b.page.locator("[data-testid=pipelines-violation]").count() == 1
        assert "水平净距" in b.page.inner_text("[data-testid=pipelines-clearance]")
        assert "85" in b.page.inner_text("[data-testid=pipelines-total]")
        b.page.select_option("[data-testid=pipelines-filters] select[name=category]", "gas")
        b.page.click("[data-testid=pipelines-filters] button[type=submit]")
        b.page.wait_for_function("document.querySelectorAll('[data-testid=pipelines-segments] tbody tr').length === 15")

        # the 3D city: close to the middle of the network, pick a pipe, read its panel
        b.go(f"/city?dataset={dataset}")
        wait_city_ready(b)
        b.page.evaluate(
            """(id) => { const v = window.cimViewer; let t = null;
                 for (let i = 0; i < v.scene.primitives.length; i++) { const p = v.scene.primitives.get(i);
                   if (p.boundingSphere) t = p; }
                 v.camera.lookAt(t.boundingSphere.center, new Cesium.HeadingPitchRange(0, -1.2, 45));
                 v.camera.lookAtTransform(Cesium.Matrix4.IDENTITY); v.scene.requestRender(); }""", dataset)
        wait_city_ready(b)
        position = find_feature(b)
        assert position is not None, "no pipe drawn near the centre of the view"
        b.page.mouse.click(position[0], position[1])
        panel = wait("[data-testid=pipelines-panel] [data-testid=pipelines-attributes]")
        assert "权属单位" in panel.inner_text()
        picked = b.page.evaluate("window.cimCityState.picked")
        assert picked["kind"] in ("segment", "point") and picked["category_zh"]
        if picked["id"] == segment:
            assert "示例-COVER-9" in b.page.inner_text("[data-testid=pipelines-devices]")

        # English: the same pages in the other language
        b.page.select_option("[data-testid=language]", "en")
        b.page.wait_for_function("document.documentElement.lang === 'en'")
        assert "Owner" in b.page.inner_text("[data-testid=pipelines-panel]")
        b.go("/")
        wait("[data-testid=pipelines-rate]")
        assert "Pipeline smart-monitoring rate" in b.page.inner_text("[data-testid=pipelines-card]")
        b.go("/pipelines")
        wait("[data-testid=pipelines-violation]")
        assert "Horizontal" in b.page.inner_text("[data-testid=pipelines-clearance]")
        assert b.errors == []
