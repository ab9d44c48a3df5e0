"""The 3D city on the platform's ground, in Debian's Chromium: the combined terrain (quantized mesh with
vertex normals) and the orthophoto load from the platform, offline; a model placed at 1300 m (Yellow Sea
1985) meets the terrain of a DEM levelled at 1300 m there, no "lowering" correction; Chinese and English."""

from __future__ import annotations

from pathlib import Path

from api.ground.demo import load_ground_samples
from converters.georef import MapToLocal
from tests.api.test_portal_e2e import portal_server  # noqa: F401 (fixture)
from tests.support.browser import chromium, open_page, sign_in, wait_city_ready
from tests.support.http_api import upload, wait_job

SAMPLE_IFC = Path(__file__).resolve().parents[2] / "sample_models" / "ifc" / "ordos_kangbashi_hall_4546.ifc"
HALL = (389500.0, 4385200.0, 1300.0)  # its IfcMapConversion (EPSG:4546, Yellow Sea 1985 height)


def test_city_shows_terrain_and_imagery(client, cast, start_worker, settings, portal_server: str) -> None:  # noqa: F811
    start_worker()
    jobs = load_ground_samples(settings, "", client)
    assert [job["state"] for job in jobs] == ["succeeded"] * 3
    headers = cast.headers("surveyor")
    response = upload(client, headers, SAMPLE_IFC, name="Hall", district="kangbashi", visibility="public")
    assert wait_job(client, headers, response.json()["job"]["href"])["state"] == "succeeded"
    lon, lat, height = MapToLocal.frame_at("EPSG:4546+5737", HALL).as_report()["wgs84"].values()

    password = cast.password("viewer")
    with chromium() as browser:
        b = open_page(browser, portal_server)
        sign_in(b, "viewer", password)
        b.go("/city")
        try:
            wait_city_ready(b)
            b.page.wait_for_function(
                "window.cimCityState.terrain?.ready && window.cimCityState.terrain.tiles > 0"
                " && window.cimCityState.imagery?.tiles > 0",
                timeout=90_000,
            )
        except Exception as error:
            state = b.page.evaluate("JSON.stringify(window.cimCityState)")
            raise AssertionError(f"{state} {b.errors} {[u for u in b.requests if '/ground/' in u][-5:]}") from error
        assert "地形与正射影像" in b.page.inner_text("[data-testid=ground-note]")
        assert b.page.locator("[data-testid=terrain-toggle]").count() == 1
        assert b.page.locator("[data-imagery]").count() == 1
        provider = b.page.evaluate(
            "({ normals: window.cimViewer.terrainProvider.hasVertexNormals,"
            "   url: window.cimViewer.terrainProvider._layers?.[0]?.resource?.url || '' })"
        )
        assert provider["normals"] is True and "/ground/terrain/" in provider["url"], provider
        b.shot("city-terrain")
        ground = b.page.evaluate(
            """async ([lon, lat]) => {
                const [p] = await Cesium.sampleTerrainMostDetailed(window.cimViewer.terrainProvider,
                  [Cesium.Cartographic.fromDegrees(lon, lat)]);
                return p.height; }""",
            [lon, lat],
        )
        assert abs(ground - height) < 1.0, (ground, height)  # the hall's base meets the ground
        b.page.select_option("[data-testid=language]", "en")
        b.page.wait_for_function("document.documentElement.lang === 'en'")
        assert "terrain and orthophotos" in b.page.inner_text("[data-testid=ground-note]")
        assert not b.external(), b.external()  # offline: nothing left the machine
        assert not b.errors, b.errors
    requested = [url for url in b.requests if "/ground/" in url]
    assert any(".terrain" in url for url in requested) and any("/ground/imagery/" in url for url in requested)
