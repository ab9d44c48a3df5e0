"""The heritage pages in Debian's Chromium against a real server and PostGIS, on the demo's synthetic records:
a surveyor finds a record on the list and the map and proposes an edit (in Chinese); an official reviews it in the
queue, lists a record, reads the completeness chart and a dataset's protection conflicts (in English); a viewer
sees no write action (in Chinese); a feature of a surveyed scan picked in the 3D city shows its record.
Every number checked against the API; nothing leaves the machine."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from shapely.geometry import MultiPolygon, shape

from api.heritage.demo import SAMPLES, load_heritage_samples
from tests.api.test_portal_e2e import choose_language, portal_server  # noqa: F401  (the fixture)
from tests.support.browser import Browsing, chromium, open_page, sign_in, wait_city_ready
from tests.support.heritage import BUILDINGS, add_revision
from tests.support.waiting import wait_for

BASE = "/api/v1/heritage"
GRANARY = "EX-150602-003"  # 示例 东胜旧粮站: listed, its zones under the demo footprint layer
CHAPEL = "EX-150602-004"  # 示例 天主教堂旧址: under review


def rows(b: Browsing, table: str) -> list[str]:
    return [text.strip() for text in b.page.locator(f"[data-testid={table}] tbody tr").all_inner_texts()]


def map_counts(b: Browsing) -> dict[str, int]:
    element = b.page.locator("[data-testid=heritage-map]").first
    return {
        key: int(element.get_attribute(f"data-{key}") or -1) for key in ("points", "outlines", "protection", "control")
    }


def expected_counts(buildings: list[dict[str, Any]]) -> dict[str, int]:
    fields = {"points": "location", "outlines": "outline", "protection": "protection_range", "control": "control_zone"}
    return {key: sum(1 for x in buildings if x[field]) for key, field in fields.items()}


def chart_texts(b: Browsing) -> list[str]:
    b.page.wait_for_selector("[data-testid=completeness-chart] svg text", state="attached")
    return [t.strip() for t in b.page.locator("[data-testid=completeness-chart] svg text").all_text_contents()]


def test_heritage_pages_for_surveyor_official_and_viewer(portal_server: str, client, cast, settings, tmp_path) -> None:  # noqa: F811
    assert load_heritage_samples(settings, "", client) == 6
    layer = json.loads((SAMPLES.parent / "survey" / "ordos_footprints.geojson").read_text(encoding="utf-8"))
    polygons = [shape(f["geometry"]) for f in layer["features"]]
    footprints = add_revision(
        client.app.state.engine, cast.orgs["institute_a"], MultiPolygon(polygons), name="示例 东胜建筑轮廓"
    )
    official_api = cast.headers("official")
    listing = client.get(BUILDINGS, headers=official_api, params={"limit": 1000}).json()["buildings"]
    by_code = {x["code"]: x for x in listing}
    granary = by_code[GRANARY]
    listed = [x for x in listing if x["status"] == "listed"]
    report = client.get(f"{BASE}/completeness", headers=official_api).json()

    with chromium() as browser:
        # — a surveyor, in Chinese: the home card, the list and map, a record, an edit that becomes a proposal
        s = open_page(browser, portal_server)
        sign_in(s, "surveyor", cast.password("surveyor"))
        s.page.wait_for_selector("[data-testid=heritage-card]")
        assert s.page.inner_text("[data-testid=card-total]").strip() == str(len(listing))
        assert s.page.inner_text("[data-testid=card-listed]").strip() == str(len(listed))
        assert f"{report['listed_complete']} 处" in s.page.inner_text("[data-testid=card-complete]")
        assert s.page.locator("[data-testid=card-pending]").count() == 0  # reviewers only
        assert s.page.inner_text("[data-nav=heritage]").strip() == "历史建筑"
        assert s.page.locator("[data-nav=heritage-review]").count() == 0
        s.page.click("[data-nav=heritage]")
        s.page.wait_for_selector("[data-testid=heritage-table]")
        assert s.page.inner_text("[data-testid=heritage-count]").strip() == f"共 {len(listing)} 处历史建筑"
        assert len(rows(s, "heritage-table")) == len(listing)
        assert "合成示例数据" in s.page.inner_text("[data-testid=heritage-synthetic]")
        s.page.wait_for_function("document.querySelector('[data-testid=heritage-map]').dataset.points !== '0'")
        assert map_counts(s) == expected_counts(listing)
        assert s.page.locator("[data-testid=heritage-new]").count() == 1
        s.shot("heritage-list-zh")
        s.page.select_option("select[name=status]", "listed")
        s.page.wait_for_function("location.search.includes('status=listed')")
        s.page.wait_for_function(
            f"document.querySelectorAll('[data-testid=heritage-table] tbody tr').length === {len(listed)}"
        )
        assert all("已公布" in row for row in rows(s, "heritage-table"))
        s.page.fill("input[name=text]", "粮站")
        s.page.press("input[name=text]", "Enter")
        s.page.wait_for_function("document.querySelectorAll('[data-testid=heritage-table] tbody tr').length === 1")
        assert map_counts(s) == expected_counts([granary])
        s.page.click(f"[data-testid=heritage-table] tr[data-code={GRANARY}] a")
        s.page.wait_for_selector("[data-testid=heritage-facts]")
        assert s.page.inner_text("[data-testid=heritage-name]").startswith(granary["name"])
        assert s.page.inner_text("[data-testid=heritage-status]").strip() == "已公布"
        assert s.page.inner_text("[data-testid=heritage-code]").strip() == GRANARY
        assert s.page.locator("[data-testid=heritage-synthetic-tag]").count() == 1
        assert s.page.locator("[data-testid=heritage-workflow]").count() == 0  # listed → delisted: officials only
        assert "东胜建筑轮廓" in s.page.inner_text("[data-testid=heritage-conflicts]")
        assert "创建记录" in s.page.inner_text("[data-testid=heritage-history]")
        s.shot("heritage-record-zh")
        # file an item in the archive: refused without its file and date, then kept with its checksum
        form = s.page.locator("[data-testid=heritage-item-form]")
        form.locator("select[name=section]").select_option("interventions")
        form.locator("select[name=kind]").select_option("repair_record")
        form.locator("input[name=title]").fill("示例 2024 年屋面修缮记录")
        form.locator("[data-testid=item-submit]").click()
        assert form.locator("[data-problem=file]").inner_text().strip() == "必填。"
        assert "请填写日期" in form.locator("[data-problem=event_date]").inner_text()
        repair = tmp_path / "repair-2024.pdf"
        repair.write_bytes(b"%PDF-1.4 example repair record\n" * 50)
        form.locator("input[type=file]").set_input_files(str(repair))
        form.locator("input[name=event_date]").fill("2024-06-01")
        form.locator("[data-testid=item-submit]").click()
        s.page.wait_for_selector("[data-testid=heritage-items] tr:has-text('示例 2024 年屋面修缮记录')")
        filed = s.page.locator("[data-testid=heritage-items] tr", has_text="示例 2024 年屋面修缮记录")
        assert "自检" in filed.inner_text() and "repair-2024.pdf" in filed.inner_text()
        items = client.get(f"{BUILDINGS}/{granary['id']}/items", headers=official_api).json()["items"]
        stored = next(i for i in items if i["title"] == "示例 2024 年屋面修缮记录")
        assert (
            stored["sha256"] == hashlib.sha256(repair.read_bytes()).hexdigest() and stored["event_date"] == "2024-06-01"
        )
        assert stored["sha256"][:12] in filed.inner_text()
        s.page.click("[data-testid=heritage-edit]")
        s.page.wait_for_selector("[data-testid=becomes-proposal]")
        s.page.fill("input[name=construction_year]", "3000")
        s.page.fill("input[name=current_use]", "示例 社区图书馆")
        s.page.click("[data-testid=heritage-save]")
        assert s.page.inner_text("[data-problem=construction_year]").strip() == "应在 -3000 到 2100 之间。"
        s.page.fill("input[name=construction_year]", str(granary["construction_year"] or ""))
        s.page.fill("textarea[name=note]", "示例 新用途")
        s.page.click("[data-testid=heritage-save]")
        s.page.wait_for_selector("[data-testid=proposal-sent]")
        pending = client.get(
            f"{BASE}/proposals", headers=official_api, params={"building": granary["id"], "state": "pending"}
        )
        assert [p["changes"] for p in pending.json()["proposals"]] == [{"current_use": "示例 社区图书馆"}]
        s.page.click("text=返回记录")
        s.page.wait_for_selector("[data-proposal] [data-field=current_use]")
        assert "示例 社区图书馆" in s.page.inner_text("[data-proposal] [data-field=current_use]")
        assert s.page.locator("[data-testid=accept]").count() == 0  # a surveyor does not decide
        s.go("/heritage/completeness")
        texts = chart_texts(s)
        assert any("东胜区" in text for text in texts), texts

        # — an official, in English: the review queue, the workflow, the completeness chart, a dataset's conflicts
        o = open_page(browser, portal_server, locale="en-GB")
        sign_in(o, "official", cast.password("official"))
        choose_language(o, "en")
        queue = client.get(f"{BASE}/proposals", headers=official_api, params={"state": "pending"}).json()
        o.page.wait_for_selector("[data-testid=card-pending]")
        assert o.page.inner_text("[data-testid=card-pending]").strip() == str(queue["total"])
        o.page.click("[data-nav=heritage-review]")
        o.page.wait_for_selector("[data-testid=review-count]")
        assert o.page.inner_text("[data-testid=review-count]").strip() == f"{queue['total']} pending"
        card = o.page.locator("[data-proposal]", has_text=granary["name"])
        assert "示例 社区图书馆" in card.locator("[data-field=current_use]").inner_text()
        assert "Current use" in card.locator("[data-field=current_use]").inner_text()
        card.locator("[data-testid=reject]").click()
        assert "Write a comment" in card.locator("[role=alert]").inner_text()
        card.locator("[data-testid=decision-comment]").fill("Confirmed on site (example)")
        o.shot("heritage-review-en")
        card.locator("[data-testid=accept]").click()
        o.page.wait_for_selector("[data-testid=review-notice]")
        assert (
            o.page.inner_text("[data-testid=review-notice]").strip() == f"The edit of “{granary['name']}” was accepted."
        )
        assert (
            client.get(f"{BUILDINGS}/{granary['id']}", headers=official_api).json()["current_use"] == "示例 社区图书馆"
        )
        assert o.page.inner_text("[data-testid=review-count]").strip() == f"{queue['total'] - 1} pending"
        o.page.click(f"[data-testid=review-waiting] tr[data-code={CHAPEL}] button[data-to=listed]")
        o.page.wait_for_function("document.querySelector('[data-testid=review-notice]')?.innerText.includes('Listed')")
        assert client.get(f"{BUILDINGS}/{by_code[CHAPEL]['id']}", headers=official_api).json()["status"] == "listed"

        report = client.get(f"{BASE}/completeness", headers=official_api).json()
        complete = sum(1 for x in report["buildings"] if x["complete"])
        o.go("/heritage/completeness")
        o.page.wait_for_selector("[data-testid=completeness-city]")
        share = round(100 * report["listed_complete"] / report["listed_total"])
        assert o.page.inner_text("[data-testid=completeness-city]").strip() == (
            f"Of the city's {report['listed_total']} listed historic buildings, "
            f"{report['listed_complete']} have a complete archive ({share}%)."
        )
        texts = chart_texts(o)
        assert "Dongsheng District 东胜区" in texts, texts
        assert {str(complete), str(len(report["buildings"]) - complete)} <= set(texts), texts
        assert {"Complete archive", "Incomplete archive"} <= set(texts), texts  # the legend
        assert o.page.inner_text(
            "[data-testid=completeness-table] [data-district='150602'] [data-testid=district-complete]"
        ).strip() == str(complete)
        o.shot("heritage-completeness-en")

        revision = client.get(f"/api/v1/datasets/{footprints}/revisions", headers=official_api).json()["revisions"][0]
        conflicts = client.get(
            f"{BASE}/datasets/{footprints}/revisions/{revision['id']}/conflicts", headers=official_api
        ).json()["conflicts"]
        assert GRANARY in {c["building_code"] for c in conflicts}
        o.go(f"/datasets/{footprints}")
        o.page.wait_for_selector("[data-testid=heritage-conflicts-table]")
        shown = o.page.locator("[data-testid=heritage-conflicts-table] tbody tr")
        assert shown.count() == len(conflicts)
        assert granary["name"] in o.page.inner_text(f"[data-testid=heritage-conflicts-table] tr[data-code={GRANARY}]")
        assert "needs an approval document" in o.page.inner_text("[data-testid=heritage-conflicts-summary]")
        assert o.page.locator("[data-testid=heritage-approve]").count() == 1
        o.page.locator("[data-section=heritage-conflicts]").scroll_into_view_if_needed()
        o.shot("heritage-dataset-conflicts-en")

        # — a viewer, in Chinese: reads everything, changes nothing
        v = open_page(browser, portal_server)
        sign_in(v, "viewer", cast.password("viewer"))
        assert v.page.locator("[data-nav=heritage-review]").count() == 0
        v.page.click("[data-nav=heritage]")
        v.page.wait_for_selector("[data-testid=heritage-table]")
        assert len(rows(v, "heritage-table")) == len(listing)
        assert v.page.locator("[data-testid=heritage-new]").count() == 0
        side_hall = by_code["EX-150602-002"]  # the demo's own pending proposal
        v.go(f"/heritage/{side_hall['id']}")
        v.page.wait_for_selector("[data-testid=heritage-facts]")
        assert v.page.inner_text("[data-testid=heritage-name]").startswith(side_hall["name"])
        assert v.page.locator("[data-proposal]").count() >= 1
        for write in ("heritage-edit", "heritage-workflow", "accept", "reject"):
            assert v.page.locator(f"[data-testid={write}]").count() == 0, write
        v.go("/heritage/review")
        v.page.wait_for_selector("[data-testid=home-total]")  # back home: not the viewer's page
        v.go(f"/datasets/{footprints}")
        v.page.wait_for_selector("[data-testid=heritage-conflicts-table]")
        assert v.page.locator("[data-testid=heritage-approve]").count() == 0

        errors = s.errors + o.errors + v.errors
        external = s.external() + o.external() + v.external()
    assert not external, external
    assert not errors, errors


def test_city_shows_the_record_of_a_surveyed_feature(portal_server: str, client, cast, settings, start_worker) -> None:  # noqa: F811
    """The demo's stele scan, filed in its record's archive with convert, becomes a dataset in the 3D city; a click
    on it there shows the record, and the link opens it."""
    start_worker()
    load_heritage_samples(settings, "", client)
    official = cast.headers("official")
    listing = client.get(BUILDINGS, headers=official, params={"limit": 1000}).json()["buildings"]
    stele = next(x for x in listing if x["code"] == "EX-150602-006")
    items = client.get(f"{BUILDINGS}/{stele['id']}/items", headers=official).json()["items"]
    dataset_id = next(i["dataset_id"] for i in items if i["dataset_id"])

    def published() -> bool:
        return bool(client.get(f"/api/v1/datasets/{dataset_id}", headers=official).json()["published_revision_id"])

    wait_for(published, timeout=240, interval=1)
    with chromium() as browser:
        b = open_page(browser, portal_server)
        sign_in(b, "official", cast.password("official"))  # the scan is the survey team's internal dataset
        b.go(f"/city?dataset={dataset_id}")
        wait_city_ready(b)
        # the scan is a featureless mesh: clicked at the middle of the view, where the city flew to it
        box = b.page.locator(".globe canvas").first.bounding_box()
        assert box is not None
        b.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        pick = b.page.wait_for_selector("[data-testid=heritage-city-pick]")
        assert stele["name"] in pick.inner_text() and "历史建筑档案" in pick.inner_text()
        b.shot("heritage-city-pick")
        b.page.click(f"[data-testid=heritage-city-pick] a[href='/heritage/{stele['id']}']")
        b.page.wait_for_selector("[data-testid=heritage-facts]")
        assert b.page.inner_text("[data-testid=heritage-name]").startswith(stele["name"])
        errors, external = b.errors, b.external()
    assert not external, external
    assert not errors, errors
