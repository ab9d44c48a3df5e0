"""The BIM review pages in Chromium, in Chinese and English: the dataset page's IDS results, failures and
topics; the IDS page of officials; the 3D city colouring the failing elements and creating a BCF topic
by clicking one (its viewpoint stored in model coordinates)."""

from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from cim_platform.bim_review.checks import run_check
from cim_platform.core.db.engine import get_engine, session_scope
from tests.api.test_portal_e2e import choose_language, portal_server  # noqa: F401  (the fixture)
from tests.support.browser import chromium, find_feature, open_page, sign_in, wait_city_ready
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
ORDOS_IDS = (ROOT / "sample_models" / "ids" / "ordos-delivery.ids").read_text(encoding="utf-8")
_spec = importlib.util.spec_from_file_location(
    "make_review_models", ROOT / "sample_models" / "bim_review" / "make_review_models.py"
)
assert _spec and _spec.loader
make_review_models = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_review_models)
IDS_NAME = "示例 鄂尔多斯交付要求"


def upload_reviewed_model(base: str, cast: Any, model: Path) -> tuple[httpx.Client, str, str]:
    api = httpx.Client(base_url=base, timeout=60)
    assert (
        api.post(
            "/api/v1/bim/ids", json={"name": IDS_NAME, "xml": ORDOS_IDS}, headers=cast.headers("official")
        ).status_code
        == 201
    )
    with model.open("rb") as handle:
        answer = api.post(
            "/api/v1/datasets",
            headers=cast.headers("uploader_a"),
            data={"name": "示例 审查办公楼", "district": "kangbashi", "visibility": "internal"},
            files={"file": (model.name, handle)},
        )
    assert answer.status_code == 202, answer.text
    return api, answer.json()["dataset"]["id"], answer.json()["revision"]["id"]


def test_bim_pages_in_chinese_and_english(portal_server: str, cast: Any, settings: Any, tmp_path: Path) -> None:  # noqa: F811
    first, _ = make_review_models.make_revisions(tmp_path / "models")
    api, dataset_id, revision_id = upload_reviewed_model(portal_server, cast, first)
    owner = cast.headers("uploader_a")
    [queued] = api.post(f"/api/v1/bim/revisions/{revision_id}/checks", headers=owner).json()["items"]
    with session_scope(get_engine(settings)) as session:  # the check job's work, run here (no worker)
        assert run_check(session, settings, uuid.UUID(queued["id"])).state == "failed"
    topic = {"title": "示例 隔墙缺少属性", "priority": "High", "elements": []}
    assert api.post(f"/api/v1/bim/revisions/{revision_id}/topics", json=topic, headers=owner).status_code == 201

    with chromium() as browser:
        b = open_page(browser, portal_server)
        sign_in(b, "uploader_a", cast.password("uploader_a"))
        b.go(f"/datasets/{dataset_id}")
        b.page.wait_for_selector("[data-testid=bim-failures]")
        section = b.page.inner_text("[data-testid=bim-section]")
        assert "BIM 审查" in section and "构件位于楼层" in section and "Loose wall" in section, section
        assert "未通过" in b.page.inner_text("[data-testid=bim-ids-summary]")
        assert "示例 隔墙缺少属性" in b.page.inner_text("[data-testid=bim-topics]")
        b.shot("bim-dataset-zh")
        assert not b.errors, b.errors

        e = open_page(browser, portal_server, locale="en-GB")
        sign_in(e, "official", cast.password("official"))
        choose_language(e, "en")
        e.page.click("[data-nav=bim-ids]")  # client route (api/portal.py serves no /bim/… deep link yet)
        e.page.wait_for_selector("[data-testid=bim-ids-table]")
        assert "Delivery requirements (IDS)" in e.page.inner_text("h1")
        assert IDS_NAME in e.page.inner_text("[data-testid=bim-ids-table]")
        assert e.page.locator("[data-testid=bim-ids-upload]").count() == 1
        e.go(f"/datasets/{dataset_id}")
        e.page.wait_for_selector("[data-testid=bim-topics]")
        assert "Failing elements (4)" in e.page.inner_text("[data-testid=bim-section]")
        e.shot("bim-dataset-en")
        assert not e.errors, e.errors
        assert (
            api.get(f"/api/v1/bim/revisions/{revision_id}/checks", headers=cast.headers("uploader_b")).status_code
            == 404
        )


@pytest.mark.timeout(600)
def test_bim_city_colours_failures_and_creates_a_topic_by_click(
    portal_server: str,  # noqa: F811
    cast: Any,
    start_worker: Any,
    tmp_path: Path,
) -> None:
    first, _ = make_review_models.make_revisions(tmp_path / "models")
    start_worker()
    api, dataset_id, revision_id = upload_reviewed_model(portal_server, cast, first)
    owner = cast.headers("uploader_a")

    def checked_and_published() -> bool:
        items = api.get(f"/api/v1/bim/revisions/{revision_id}/checks", headers=owner).json()["items"]
        published = api.get(f"/api/v1/datasets/{dataset_id}", headers=owner).json().get("published_revision_id")
        return bool(items) and items[0]["state"] == "failed" and published == revision_id

    wait_for(checked_and_published, timeout=180, interval=1.0)
    with chromium() as browser:
        b = open_page(browser, portal_server)
        sign_in(b, "uploader_a", cast.password("uploader_a"))
        b.go(f"/city?dataset={dataset_id}&bim={revision_id}&bimShow=failures")
        wait_city_ready(b)
        b.page.wait_for_function("window.cimBimState && window.cimBimState.coloured === 3")
        spot = find_feature(b)
        assert spot is not None
        b.page.mouse.click(*spot)
        b.page.wait_for_selector("[data-testid=bim-topic-form]")
        b.page.fill("[data-testid=bim-topic-form] input[name=title]", "示例 请核对此构件")
        b.page.click("[data-testid=bim-topic-form] button[type=submit]", no_wait_after=True)

        def created() -> list[dict[str, Any]]:
            items: list[dict[str, Any]] = api.get(f"/api/v1/bim/revisions/{revision_id}/topics", headers=owner).json()[
                "items"
            ]
            return items

        [topic] = wait_for(created, timeout=60, interval=0.5)
        b.shot("bim-city-topic-zh")
        assert not b.errors, b.errors
    [view] = topic["viewpoints"]
    assert (
        topic["title"] == "示例 请核对此构件" and view["selected"] == topic["elements"] and len(topic["elements"]) == 1
    )
    assert all(abs(v) < 5000 for v in view["camera"]["position"]), view  # model coordinates, not ECEF
    assert abs(view["globe_camera"]["position"][0]) > 1e6  # and back on the globe (ECEF)
