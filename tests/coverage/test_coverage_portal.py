"""The coverage dashboard in Debian's Chromium, in Chinese and English, against a real server and PostGIS: the
home card and the dashboard show the API's city figure, the table per district, the map with the synthetic
district boundaries and the covered and uncovered areas, the history chart with its target line; a viewer
cannot edit; an official edits the city target, sees it, and takes a snapshot now (a real worker)."""

from __future__ import annotations

import pytest
from shapely.geometry import box

from api.coverage.demo import load_boundary_samples, load_coverage_samples
from cim_platform.core.db.engine import session_scope
from cim_platform.coverage.definition import Definition
from cim_platform.coverage.snapshots import evaluate
from tests.api.test_portal_e2e import choose_language, portal_server  # noqa: F401  (the server fixture)
from tests.support.browser import Browsing, chromium, open_page, sign_in
from tests.support.coverage import DONGSHENG, KANGBASHI, add_dataset

ANY_SHARE = 1e-9


@pytest.fixture
def coverage_data(client, cast, settings) -> dict:
    """The demo's built-up areas and boundaries, two snapshots (a dataset published in between), and the
    figures the API answers for an official."""
    engine = client.app.state.engine
    org = cast.orgs["institute_a"]
    add_dataset(engine, org, [box(109.77, 39.59, 109.81, 39.63)])  # Kangbashi, LOD1 footprints
    load_boundary_samples(settings)
    load_coverage_samples(settings)  # first snapshot
    add_dataset(engine, org, [box(109.93, 39.80, 109.99, 39.85)], kind="mesh", lod=None)  # Dongsheng
    with session_scope(engine) as session:
        evaluate(session, Definition(count_share=settings.coverage_count_share), store=True, trigger="publish")
    official = cast.headers("official")
    body = client.get("/api/v1/coverage", headers=official).json()
    history = client.get("/api/v1/coverage/history", headers=official).json()
    assert len(history["points"]) == 2 and body["city"]["share"] > 0
    return {"coverage": body, "history": history}


def shown_share(b: Browsing, selector: str) -> float:
    b.page.wait_for_selector(f"{selector}[data-share]:not([data-share=''])")
    return float(b.page.get_attribute(selector, "data-share") or "nan")


def check_dashboard(b: Browsing, data: dict) -> None:
    page = b.page
    city = data["coverage"]["city"]
    assert shown_share(b, "[data-testid=coverage-city-share]") == pytest.approx(city["share"], abs=ANY_SHARE)
    rows = {u["unit"]: u for u in data["coverage"]["units"]}
    for code in (KANGBASHI, DONGSHENG):
        row = f"[data-testid=coverage-units] tbody tr[data-unit='{code}']"
        shown = float(page.get_attribute(row, "data-share") or 0)
        assert shown == pytest.approx(rows[code]["share"], abs=ANY_SHARE) and shown > 0
    assert page.locator("[data-testid=coverage-units] tbody tr").count() == len(rows) >= 9
    page.wait_for_function(
        "() => { const m = document.querySelector('[data-testid=coverage-map]');"
        " return m && m.dataset.boundaries === '9' && Number(m.dataset.covered) >= 2"
        " && Number(m.dataset.uncovered) >= 9; }"
    )
    assert page.locator("[data-testid=coverage-map] canvas").count() >= 1
    chart = page.locator("[data-testid=coverage-history]")
    page.wait_for_function("() => document.querySelector('[data-testid=coverage-history]')?.dataset.points === '2'")
    assert chart.get_attribute("data-targets") == "1"
    assert chart.locator("svg path").count() > 3  # the line, the target line, axes
    assert page.locator("[data-testid=coverage-by-kind] svg").count() == 1
    assert "示例" in page.inner_text("[data-testid=coverage-boundary-source]")  # synthetic boundaries, in any language


def test_dashboard_viewer_in_chinese_official_in_english(
    portal_server: str,  # noqa: F811
    cast,
    coverage_data: dict,
    start_worker,
    client,
) -> None:
    start_worker()
    city = coverage_data["coverage"]["city"]
    with chromium() as browser:
        viewer = open_page(browser, portal_server, locale="zh-CN")
        sign_in(viewer, "viewer", cast.password("viewer"))
        # the home page's card: the city figure against the 30 % target
        viewer.page.wait_for_selector("[data-card=coverage] [data-testid=coverage-card-share]")
        assert shown_share(viewer, "[data-testid=coverage-card-share]") == pytest.approx(city["share"], abs=ANY_SHARE)
        card = viewer.page.inner_text("[data-card=coverage]")
        assert "三维数据覆盖率" in card and "30%" in card and "2025-12-31" in card
        viewer.page.click("[data-nav=coverage]")
        viewer.page.wait_for_selector("[data-testid=coverage-city]")
        assert viewer.page.inner_text("h1") == "三维数据覆盖率"
        check_dashboard(viewer, coverage_data)
        assert "东胜区" in viewer.page.inner_text("[data-testid=coverage-units]")
        assert viewer.page.locator("[data-testid=coverage-admin]").count() == 0  # a viewer cannot edit
        viewer.shot("coverage-dashboard-zh")
        assert viewer.errors == [] and viewer.external() == []

        official = open_page(browser, portal_server, locale="en")
        sign_in(official, "official", cast.password("official"))
        choose_language(official, "en")
        official.page.click("[data-nav=coverage]")  # (a direct /coverage is not yet a client route of api/portal.py)
        official.page.wait_for_selector("[data-testid=coverage-admin]")
        assert official.page.inner_text("h1") == "3D data coverage"
        check_dashboard(official, coverage_data)
        assert "Dongsheng" in official.page.inner_text("[data-testid=coverage-units]")
        # the official raises the city target to 35 % and sees it in the headline and the chart
        (target,) = [t for t in coverage_data["coverage"]["targets"] if t["unit"] == "city"]
        row = official.page.locator(f"[data-testid=coverage-targets-edit] tr[data-target='{target['id']}']")
        row.locator("input[name=share]").fill("35")
        row.locator("[data-action=save]").click()
        official.page.wait_for_selector("[data-testid=coverage-admin-message]")
        official.page.wait_for_function(
            "() => document.querySelector('[data-testid=coverage-city]').innerText.includes('35%')"
        )
        assert client.get(f"/api/v1/coverage/targets/{target['id']}").json()["share"] == pytest.approx(0.35)
        assert "35%" in official.page.inner_text("[data-testid=coverage-history]")
        # compute now: a snapshot job on the worker; unchanged inputs answer the stored snapshot
        official.page.click("[data-testid=coverage-compute]")
        official.page.wait_for_function(
            "() => document.querySelector('[data-testid=coverage-admin-message]')"
            "?.innerText.includes('Snapshot taken')",
            timeout=120_000,
        )
        official.shot("coverage-dashboard-en-official")
        assert official.errors == [] and official.external() == []
