"""The facades pages in Debian's Chromium against a real server on PostGIS, in Chinese and English: an official's
targets dashboard shows the API's numbers (table and chart) and changes a target; a design institute's project
form rejects a high-chroma colour and accepts a palette colour live, saves, and files a photo with its EXIF; the
failing elements of a checked IFC model are coloured in the 3D city."""

from __future__ import annotations

import importlib.util
from datetime import date
from pathlib import Path
from typing import Any

from cim_platform.core.settings import Settings
from tests.api.test_portal_e2e import choose_language, portal_server  # noqa: F401  (the portal server fixture)
from tests.support.browser import Browsing, chromium, open_page, sign_in, wait_city_ready
from tests.support.facades import advance, jpeg, make_street
from tests.support.http_api import upload, wait_job

YEAR = date.today().year
TARGETS = "/api/v1/facades/targets"
ROOT = Path(__file__).resolve().parents[2]
FAILING = "#e0201b"  # portal/src/facades/city.js
PASSING = "#8fbf8f"


def seed_streets(client: Any, official: dict[str, str]) -> dict[str, Any]:
    """This year's streets: Dongsheng 1 accepted + 1 under way of 3 (behind), Kangbashi 3 under way of 3
    (on track), Altan Xire 1 candidate of 3 (behind)."""
    accepted = make_street(client, official, "FP-D1", "dongsheng", YEAR)
    advance(client, official, accepted["id"], "under_construction")
    advance(
        client, official, accepted["id"], "accepted", acceptance_document="示例验收 FP-D1", accepted_on=f"{YEAR}-01-02"
    )
    under_way = make_street(client, official, "FP-D2", "dongsheng", YEAR)
    advance(client, official, under_way["id"], "under_construction")
    for n in range(3):
        street = make_street(client, official, f"FP-K{n}", "kangbashi", YEAR)
        advance(client, official, street["id"], "under_construction")
    make_street(client, official, "FP-A1", "ejin-horo", YEAR, town="altan-xire")
    return under_way


def spa_go(b: Browsing, path: str) -> None:
    """Go to a page of the portal by its router (as a link would): the server answers the app's index.html on
    the core's client routes only (api/portal.py), not yet on the domain modules' (/facades/…)."""
    router = "document.querySelector('#app').__vue_app__.config.globalProperties.$router"
    b.page.evaluate(f"(path) => {router}.push(path)", path)
    b.page.wait_for_function("(path) => location.pathname + location.search === path", arg=path)


def row_numbers(b: Browsing, slug: str) -> dict[str, str]:
    return dict(
        b.page.evaluate(
            """(slug) => { const row = document.querySelector(`[data-testid=targets-table] tr[data-unit="${slug}"]`);
                const cell = (c) => row.querySelector(`[data-col=${c}]`);
                const input = cell('target').querySelector('input');
                return { accepted: cell('accepted').innerText.trim(), under_way: cell('under_way').innerText.trim(),
                         candidates: cell('candidates').innerText.trim(),
                         target: input ? input.value : cell('target').innerText.trim().split(/\\s/)[0],
                         state: row.dataset.state, state_text: cell('state').innerText.trim() }; }""",
            slug,
        )
    )


def check_targets_table(b: Browsing, report: dict[str, Any], states: dict[str, str]) -> None:
    b.page.wait_for_selector("[data-testid=targets-table] tr[data-unit=dongsheng]")
    for unit in report["units"]:
        shown = row_numbers(b, unit["unit"]["slug"])
        assert shown["accepted"] == str(unit["accepted"]), (unit, shown)
        assert shown["under_way"] == str(unit["under_way"]), (unit, shown)
        assert shown["candidates"] == str(unit["candidates"]), (unit, shown)
        assert shown["target"] == str(unit["target"]), (unit, shown)
        assert shown["state"] == unit["state"] and states[unit["state"]] in shown["state_text"], (unit, shown)
    series = b.page.evaluate("window.cimFacadeChart.getOption().series.map((s) => s.data)")
    assert series == [
        [u["accepted"] for u in report["units"]],
        [u["under_way"] for u in report["units"]],
        [u["target"] for u in report["units"]],
    ]


def pick_colour(b: Browsing, colour: str, outcome: str) -> str:
    """Pick a colour in the first row; wait for the live check's verdict; the row's text."""
    b.page.fill("[data-testid=colour-input-0]", colour)
    b.page.wait_for_selector(f"[data-testid=colour-reading-0][data-outcome={outcome}]")
    return str(b.page.inner_text("[data-testid=colour-reading-0]"))


def test_targets_dashboard_and_project_colour_picker(portal_server: str, client: Any, cast: Any) -> None:  # noqa: F811
    official = cast.headers("official")
    under_way = seed_streets(client, official)
    report = client.get(TARGETS, params={"year": YEAR}, headers=official).json()
    by_slug = {u["unit"]["slug"]: u for u in report["units"]}
    assert [by_slug["dongsheng"][k] for k in ("accepted", "under_way", "target", "state")] == [1, 1, 3, "behind"]
    assert [by_slug["kangbashi"][k] for k in ("accepted", "under_way", "target", "state")] == [0, 3, 3, "on_track"]
    assert [by_slug["altan-xire"][k] for k in ("candidates", "target", "state")] == [1, 3, "behind"]

    with chromium() as browser:
        # an official, in Chinese: the home card and the dashboard with the API's numbers
        b = open_page(browser, portal_server)
        sign_in(b, "official", cast.password("official"))
        card = b.page.wait_for_selector("[data-card=facades] [data-testid=facades-card-total]")
        total_target = sum(u["target"] for u in report["units"])
        assert f"已验收 1 条，目标 {total_target} 条" in card.inner_text()
        b.page.click("[data-nav=facades-targets]")
        check_targets_table(b, report, {"behind": "滞后", "on_track": "按计划"})
        assert "示范街年度目标" in b.page.inner_text("h1")
        b.shot("facades-targets-zh")
        # the official lowers Dongsheng's target to 2: on track now, as the API says
        b.page.fill("[data-testid=target-input-dongsheng]", "2")
        b.page.click("[data-testid=target-save-dongsheng]")
        b.page.wait_for_selector("[data-testid=targets-table] tr[data-unit=dongsheng][data-state=on_track]")
        changed = client.get(TARGETS, params={"year": YEAR}, headers=official).json()
        dongsheng = next(u for u in changed["units"] if u["unit"]["slug"] == "dongsheng")
        assert (dongsheng["target"], dongsheng["target_is_default"], dongsheng["state"]) == (2, False, "on_track")
        # in English: the same numbers
        choose_language(b, "en")
        check_targets_table(b, changed, {"behind": "Behind", "on_track": "On track"})
        assert "Showcase-street targets" in b.page.inner_text("h1")
        b.shot("facades-targets-en")
        # the streets of a unit on the list and the map
        spa_go(b, f"/facades?unit=kangbashi&year={YEAR}")
        table = b.page.wait_for_selector("[data-testid=streets-table]").inner_text()
        assert all(f"FP-K{n}" in table for n in range(3)) and "FP-D1" not in table
        assert table.count("Under construction") == 3
        # the official accepts one of them on its page (a conditional write with the street's ETag)
        b.page.click("[data-testid=streets-table] [data-street=FP-K0] a")
        b.page.wait_for_selector("[data-testid=street-steps]")
        b.page.fill("input[name=acceptance_document]", "示例验收 FP-K0")
        b.page.fill("input[name=accepted_on]", f"{YEAR}-01-03")
        b.page.click("[data-testid=street-steps] [data-step=accepted]")
        b.page.wait_for_function("document.querySelector('[data-testid=street-status]').innerText.includes('Accepted')")
        kangbashi = client.get(TARGETS, params={"year": YEAR}, headers=official).json()["units"][1]
        assert (kangbashi["unit"]["slug"], kangbashi["accepted"], kangbashi["under_way"]) == ("kangbashi", 1, 2)

        # a design institute, in Chinese: a new project on a street; the live colour check
        d = open_page(browser, portal_server)
        sign_in(d, "uploader_a", cast.password("uploader_a"))
        d.page.click("[data-nav=facades]")
        d.page.click("[data-testid=streets-table] [data-street=FP-D2] a")
        d.page.click("[data-testid=new-project]")
        d.page.wait_for_selector("[data-testid=colour-reading-0][data-outcome=pass]")  # the palette to start from
        d.page.fill("input[name=code]", "FP-P1")
        d.page.fill("input[name=name]", "示例 example facade FP-P1")
        red = pick_colour(d, "#ff0000", "fail")
        assert "规则不允许" in red and "R " in d.page.inner_text("[data-testid=munsell-0]"), red
        assert d.page.get_attribute("[data-testid=colour-check]", "data-outcome") == "fail"
        finding = d.page.inner_text("[data-testid=findings] [data-rule=max_chroma]")
        assert "不通过" in finding and "超过上限 6" in finding and "高彩度" in finding, finding
        d.shot("facades-colour-rejected-zh")
        cream = pick_colour(d, "#e6dcc8", "pass")
        assert "规则允许" in cream and "Y" in d.page.inner_text("[data-testid=munsell-0]"), cream
        assert d.page.get_attribute("[data-testid=colour-check]", "data-outcome") == "pass"
        # the building's footprint: a box drawn on the map beside the street
        d.page.click("[data-testid=draw-footprint]")
        box = d.page.locator("[data-testid=project-form] .map").bounding_box()
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        d.page.mouse.click(x - 30, y + 10)
        d.page.mouse.move(x, y + 30)
        d.page.mouse.click(x + 30, y + 40)
        d.page.wait_for_function("document.querySelector('textarea[name=footprint]').value.includes('Polygon')")
        d.page.click("[data-testid=save-project]")
        d.page.wait_for_selector("[data-testid=project-name]")
        assert "FP-P1" in d.page.inner_text("[data-testid=project-name]")
        assert d.page.inner_text("[data-testid=project-outcome]").strip() == "通过"
        saved = client.get("/api/v1/facades/projects", params={"street": under_way["id"]}, headers=official).json()
        (project,) = saved["items"]
        assert project["code"] == "FP-P1" and project["colours"][0]["hex"] == "#E6DCC8"
        assert project["colour_check"]["outcome"] == "pass" and project["street_id"] == under_way["id"]
        assert project["footprint"]["type"] == "MultiPolygon" and project["district_code"] == "150602"
        # a photo before the works: its EXIF capture time and direction shown
        d.page.set_input_files(
            "[data-testid=photo-file]", {"name": "before.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}
        )
        d.page.click("[data-testid=photo-upload]")
        exif = d.page.wait_for_selector("[data-stage=before] [data-testid=photo-exif]").inner_text()
        assert "2024" in exif and "10:11" in exif and "135°" in exif, exif
        d.shot("facades-project-zh")
        # in English, the picker says the same
        choose_language(d, "en")
        spa_go(d, f"/facades/projects/new?street={under_way['id']}")
        assert "not allowed" in pick_colour(d, "#ff0000", "fail")
        assert "allowed" in pick_colour(d, "#b4a596", "pass")
        errors = b.errors + d.errors
        external = b.external() + d.external()
    assert not errors, errors
    assert not external, external


def test_failing_elements_coloured_in_the_city(
    portal_server: str,  # noqa: F811
    client: Any,
    cast: Any,
    start_worker: Any,
    settings: Settings,
) -> None:
    spec = importlib.util.spec_from_file_location("make_facade_ifc", ROOT / "sample_models/facades/make_facade_ifc.py")
    assert spec and spec.loader
    maker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(maker)
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    model = settings.resolved_data_dir / "facade_sample.ifc"
    maker.make_facade_model(model)
    start_worker()
    uploader = cast.headers("uploader_a")
    answer = upload(
        client,
        uploader,
        model,
        name="示例 facade model",
        district="dongsheng",
        visibility="public",
        crs="EPSG:4546",
        origin="389500,4385200,1300",
    )
    assert answer.status_code == 202, answer.text
    dataset_id = answer.json()["dataset"]["id"]
    assert wait_job(client, uploader, answer.json()["job"]["href"])["state"] == "succeeded"

    with chromium() as browser:
        b = open_page(browser, portal_server)
        sign_in(b, "uploader_a", cast.password("uploader_a"))
        b.go(f"/datasets/{dataset_id}")
        b.page.wait_for_selector("[data-testid=model-check-form]")
        b.page.click("[data-testid=run-model-check]")
        section = b.page.wait_for_selector("[data-testid=model-check][data-outcome=fail]", timeout=120_000)
        assert "不通过" in section.inner_text() and "#C00000" in section.inner_text()
        check = client.get("/api/v1/facades/model-checks", params={"dataset": dataset_id}, headers=uploader).json()
        (result,) = check["items"]
        (failing,) = result["failing_elements"]
        assert failing in b.page.inner_text("[data-testid=failing-elements]")
        b.shot("facades-model-check")
        b.page.click("[data-testid=facade-check-city]")
        b.page.wait_for_url("**/city?*facadeCheck=*")
        wait_city_ready(b)
        b.page.wait_for_function("window.cimFacadeCheck && window.cimFacadeCheck.failing")
        assert b.page.evaluate("window.cimFacadeCheck.failing") == [failing]
        colours = b.page.wait_for_function(
            """([id, colour]) => { const found = {}; const viewer = window.cimViewer; viewer.scene.requestRender();
                for (let i = 0; i < viewer.scene.primitives.length; i += 1) {
                  const tileset = viewer.scene.primitives.get(i);
                  const stack = tileset.root ? [tileset.root] : [];
                  while (stack.length) {
                    const tile = stack.pop(); stack.push(...tile.children);
                    const contents = tile.content ? [tile.content, ...(tile.content.innerContents || [])] : [];
                    for (const content of contents) for (let k = 0; k < (content.featuresLength || 0); k += 1) {
                      const feature = content.getFeature(k); const gid = feature.getProperty('GlobalId');
                      if (gid) found[gid] = feature.color.toCssHexString().slice(0, 7).toLowerCase();
                    }
                  }
                }
                return found[id] === colour ? found : null; }""",
            arg=[failing, FAILING],
        ).json_value()
        others = {gid: colour for gid, colour in colours.items() if gid != failing}
        exterior = {e["global_id"] for e in result["elements"] if not e["fails"]}
        assert exterior and all(colours.get(gid) == PASSING for gid in exterior), colours
        assert all(colour != FAILING for colour in others.values()), colours
        b.shot("facades-model-check-city")
        # the layer's opacity slider keeps the check's colours, only translucent
        b.page.locator(f"li.layer[data-dataset='{dataset_id}'] input[type=range]").fill("0.5")
        faded = b.page.wait_for_function(
            """(id) => { const viewer = window.cimViewer; viewer.scene.requestRender();
                for (let i = 0; i < viewer.scene.primitives.length; i += 1) {
                  const tileset = viewer.scene.primitives.get(i);
                  const stack = tileset.root ? [tileset.root] : [];
                  while (stack.length) {
                    const tile = stack.pop(); stack.push(...tile.children);
                    const contents = tile.content ? [tile.content, ...(tile.content.innerContents || [])] : [];
                    for (const content of contents) for (let k = 0; k < (content.featuresLength || 0); k += 1) {
                      const feature = content.getFeature(k);
                      if (feature.getProperty('GlobalId') === id && feature.color.alpha < 0.99)
                        return [feature.color.toCssHexString().slice(0, 7).toLowerCase(), feature.color.alpha];
                    }
                  }
                }
                return null; }""",
            arg=failing,
        ).json_value()
        assert faded[0] == FAILING and abs(faded[1] - 0.5) < 0.01, faded
        errors = b.errors
    assert not errors, errors
