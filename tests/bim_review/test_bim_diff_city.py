"""What changed between two IFC revisions, in the 3D city, in Chromium in Chinese and English: the deleted
elements as ghosts (the old revision's pinned tileset styled to show only them), the switch between the two
revisions (kept in the address), the legend's counts; read from the evaluated 3D Tiles styles, not pixels."""

from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.test_portal_e2e import choose_language, portal_server  # noqa: F401  (the fixture)
from tests.support.browser import Browsing, chromium, open_page, sign_in, wait_city_ready
from tests.support.http_api import wait_job
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "make_review_models", ROOT / "sample_models" / "bim_review" / "make_review_models.py"
)
assert _spec and _spec.loader
make_review_models = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_review_models)

GREEN, ORANGE, RED = "#43a047", "#fb8c00", "#e53935"

# Every loaded feature of the dataset's tilesets on show or not: the tileset (old revision or not, shown or not)
# and, per feature, its GlobalId, whether the tileset's style shows it and the colour (CSS hex, alpha) it gives.
STYLED = """(dataset) => {
  const v = window.cimViewer, out = [];
  for (let i = 0; i < v.scene.primitives.length; i += 1) {
    const tileset = v.scene.primitives.get(i);
    if (tileset.cimDataset !== dataset) continue;
    const features = [], style = tileset.style;
    const walk = (tile) => {
      const content = tile.content;
      for (let f = 0; content && f < (content.featuresLength || 0); f += 1) {
        const feature = content.getFeature(f);
        const colour = style ? style.color.evaluateColor(feature) : Cesium.Color.WHITE;
        const show = style && style.show ? style.show.evaluate(feature) : true;
        features.push({ id: feature.getProperty("GlobalId"), show, colour: colour.toCssHexString().slice(0, 7),
                        alpha: colour.alpha });
      }
      for (const child of tile.children) walk(child);
    };
    walk(tileset.root);
    const revision = tileset.cimBimRevision || null;
    out.push({ old: Boolean(tileset.cimBimOld), show: tileset.show, revision, features });
  }
  return out;
}"""


NEW_REVISION_SHOWN = """([dataset, show]) => { const v = window.cimViewer;
  for (let i = 0; i < v.scene.primitives.length; i += 1) {
    const t = v.scene.primitives.get(i);
    if (t.cimDataset === dataset && !t.cimBimOld) t.show = show;
  }
  v.scene.requestRender(); }"""


# A canvas position where a feature is picked: every 10 px within 240 px of the centre, nearest first
FIND_FEATURE = """() => { const v = window.cimViewer, c = v.scene.canvas, spots = [];
  for (let dx = -240; dx <= 240; dx += 10) for (let dy = -240; dy <= 240; dy += 10) spots.push([dx, dy]);
  spots.sort((a, b) => Math.hypot(...a) - Math.hypot(...b));
  for (const [dx, dy] of spots) {
    const p = new Cesium.Cartesian2(c.clientWidth / 2 + dx, c.clientHeight / 2 + dy);
    if (v.scene.pick(p) instanceof Cesium.Cesium3DTileFeature) {
      const box = c.getBoundingClientRect(); return [box.left + p.x, box.top + p.y];
    }
  } return null; }"""


def two_revisions(base: str, cast: Any, tmp_path: Path) -> tuple[httpx.Client, str, dict[str, Any]]:
    """Revision 1 and 2 of the generated office (one added, one deleted, five changed), both converted, the newer
    published, and their diff computed by the worker."""
    first, second = make_review_models.make_revisions(tmp_path / "models")
    api = httpx.Client(base_url=base, timeout=60)
    owner = cast.headers("uploader_a")
    with first.open("rb") as handle:
        one = api.post(
            "/api/v1/datasets",
            headers=owner,
            data={"name": "示例 变化办公楼", "district": "kangbashi", "visibility": "internal"},
            files={"file": (first.name, handle)},
        )
    assert one.status_code == 202, one.text
    dataset_id = one.json()["dataset"]["id"]
    assert wait_job(api, owner, f"/api/v1/jobs/{one.json()['revision']['job_id']}")["state"] == "succeeded"  # type: ignore[arg-type]
    with second.open("rb") as handle:
        two = api.post(f"/api/v1/datasets/{dataset_id}/revisions", headers=owner, files={"file": (second.name, handle)})
    assert two.status_code == 202, two.text
    old, new = one.json()["revision"]["id"], two.json()["revision"]["id"]

    def published() -> bool:
        return bool(api.get(f"/api/v1/datasets/{dataset_id}", headers=owner).json()["published_revision_id"] == new)

    wait_for(published, timeout=240, interval=1.0)
    asked = api.post(
        f"/api/v1/bim/datasets/{dataset_id}/diffs", json={"old_revision": old, "new_revision": new}, headers=owner
    )
    assert asked.status_code == 202, asked.text
    assert wait_job(api, owner, asked.json()["job_url"])["state"] == "succeeded"  # type: ignore[arg-type]
    diff: dict[str, Any] = wait_for(
        lambda: (d := api.get(asked.headers["Location"], headers=owner).json())["summary"] and d
    )
    return api, dataset_id, diff


def wait_diff_loaded(b: Browsing) -> None:
    wait_city_ready(b)
    b.page.wait_for_function("window.cimBimState && window.cimBimState.diff && window.cimBimState.diff.ready")
    b.page.wait_for_function("window.cimBimState.diff.old.tilesLoaded > 0", timeout=90_000)
    wait_city_ready(b)  # the revision-pinned tilesets too


def styled(b: Browsing, dataset_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    tilesets = b.page.evaluate(STYLED, dataset_id)
    [old] = [t for t in tilesets if t["old"]]
    [new] = [t for t in tilesets if not t["old"]]  # the published tileset: the new revision
    assert old["features"] and new["features"], tilesets
    return old, new


def legend(b: Browsing) -> dict[str, int]:
    items = b.page.locator("[data-testid=bim-diff-legend] li")
    return {
        items.nth(i).get_attribute("data-kind"): int(items.nth(i).get_attribute("data-count"))
        for i in range(items.count())
    }


def ids(diff: dict[str, Any], kind: str) -> set[str]:
    return {e["global_id"] for e in diff[kind]}


def assert_new_side(b: Browsing, dataset_id: str, diff: dict[str, Any]) -> None:
    old, new = styled(b, dataset_id)
    assert new["show"] and old["show"]  # the new revision, and beside it the ghosts of the old one
    ghosts = [f for f in old["features"] if f["show"]]
    assert {f["id"] for f in ghosts} == ids(diff, "deleted") and len(ghosts) >= 1
    assert all(f["alpha"] < 0.6 and f["colour"] == "#b56b6b" for f in ghosts), ghosts  # translucent grey-red
    colours = {f["id"]: f["colour"] for f in new["features"] if f["show"]}
    assert not ids(diff, "deleted") & colours.keys()
    assert {i: colours[i] for i in ids(diff, "added")} == dict.fromkeys(ids(diff, "added"), GREEN)
    assert {i: colours[i] for i in ids(diff, "changed") if i in colours} == dict.fromkeys(
        ids(diff, "changed") & colours.keys(), ORANGE
    )
    assert ids(diff, "changed") & colours.keys()
    unchanged = set(colours) - ids(diff, "added") - ids(diff, "changed")
    assert {colours[i] for i in unchanged} <= {"#ffffff"}  # the generated model has every element changed or added
    assert b.page.evaluate("window.cimBimState.diff.side") == "new"


def assert_old_side(b: Browsing, dataset_id: str, diff: dict[str, Any]) -> None:
    old, new = styled(b, dataset_id)
    assert old["show"] and not new["show"]  # only the old revision
    assert old["revision"] == diff["old_revision_id"]
    colours = {f["id"]: f["colour"] for f in old["features"] if f["show"]}
    assert len(colours) == len(old["features"])  # the whole old revision, no ghost
    assert {i: colours[i] for i in ids(diff, "deleted")} == dict.fromkeys(ids(diff, "deleted"), RED)
    assert not ids(diff, "added") & colours.keys()
    assert {colours[i] for i in ids(diff, "changed") & colours.keys()} == {ORANGE}
    assert all(f["alpha"] == 1 for f in old["features"])
    assert b.page.evaluate("window.cimBimState.diff.side") == "old"


@pytest.mark.timeout(900)
def test_diff_in_the_city_with_ghosts_and_a_switch(
    portal_server: str,  # noqa: F811
    cast: Any,
    start_worker: Any,
    tmp_path: Path,
) -> None:
    start_worker()
    api, dataset_id, diff = two_revisions(portal_server, cast, tmp_path)
    counts = {"added": len(diff["added"]), "deleted": len(diff["deleted"]), "changed": len(diff["changed"])}
    assert counts == {"added": 1, "deleted": 1, "changed": 5}, counts
    with chromium() as browser:
        b = open_page(browser, portal_server)
        sign_in(b, "uploader_a", cast.password("uploader_a"))
        b.go(f"/datasets/{dataset_id}")
        b.page.wait_for_selector("[data-testid=bim-diff]")
        # the revision page lists the changed elements beside the summary, and offers the earlier revisions
        rows = b.page.locator("[data-testid=bim-diff-list] tbody tr")
        listed = {kind: rows.locator(f"xpath=self::*[@data-kind='{kind}']").count() for kind in counts}
        assert listed == counts, listed
        assert "第 1 版 → 第 2 版" in b.page.inner_text("[data-testid=bim-diff]")
        deleted = b.page.inner_text("[data-testid=bim-diff-list] tr[data-kind=deleted]")
        assert "删除" in deleted and diff["deleted"][0]["global_id"] in deleted
        assert "几何" in b.page.inner_text("[data-testid=bim-diff-list]") or "属性" in b.page.inner_text(
            "[data-testid=bim-diff-list]")
        options = b.page.locator("[data-testid=bim-compare-form] option").all_inner_texts()
        assert options == ["第 1 版"], options
        b.page.click("[data-testid=bim-city-diff]")
        b.page.wait_for_url("**/city?**")
        wait_diff_loaded(b)
        assert "bimSide=new" in b.page.url and f"bimDiff={diff['id']}" in b.page.url
        assert_new_side(b, dataset_id, diff)
        tool = b.page.inner_text("[data-testid=bim-diff-tool]")
        assert "新版本" in tool and "旧版本" in tool and "新增 1" in tool and "修改 5" in tool and "虚影" in tool, tool
        assert legend(b) == counts
        b.shot("bim-diff-city-new-zh")

        # a click on a ghost: labelled as the old revision's deleted element, and no BCF topic form for it
        b.page.evaluate(NEW_REVISION_SHOWN, [dataset_id, False])  # only the ghosts left to pick
        spot = b.page.evaluate(FIND_FEATURE)
        assert spot is not None
        b.page.mouse.click(*spot)
        b.page.wait_for_selector("[data-testid=bim-change]")
        change = b.page.locator("[data-testid=bim-change]")
        assert change.get_attribute("data-kind") == "deleted" and change.get_attribute("data-old") == "true"
        assert "已删除构件" in change.inner_text() and "第 1 版" in change.inner_text(), change.inner_text()
        assert b.page.evaluate("window.cimCityState.picked.GlobalId") in ids(diff, "deleted")
        assert b.page.locator("[data-testid=bim-topic-form]").count() == 0
        b.page.evaluate(NEW_REVISION_SHOWN, [dataset_id, True])

        b.page.click("[data-testid=bim-diff-switch] [data-side=old]", no_wait_after=True)
        b.page.wait_for_function("window.cimBimState.diff.side === 'old'")
        b.page.wait_for_url("**bimSide=old**")
        wait_city_ready(b)
        assert_old_side(b, dataset_id, diff)
        assert legend(b) == {"deleted": 1, "changed": 5}
        assert "删除 1" in b.page.inner_text("[data-testid=bim-diff-legend]")
        b.shot("bim-diff-city-old-zh")
        assert not b.errors, b.errors
        shared = b.page.url

        e = open_page(browser, portal_server, locale="en-GB")
        sign_in(e, "official", cast.password("official"))
        choose_language(e, "en", saved=True)
        e.page.goto(shared)  # the old side, from the shared address
        wait_diff_loaded(e)
        assert_old_side(e, dataset_id, diff)
        tool = e.page.inner_text("[data-testid=bim-diff-tool]")
        assert "Old revision (1)" in tool and "New revision (2)" in tool and "1 deleted" in tool, tool
        e.page.click("[data-testid=bim-diff-switch] [data-side=new]", no_wait_after=True)
        e.page.wait_for_function("window.cimBimState.diff.side === 'new'")
        e.page.wait_for_url("**bimSide=new**")
        wait_city_ready(e)
        assert_new_side(e, dataset_id, diff)
        assert legend(e) == counts
        assert "1 deleted (translucent ghosts" in e.page.inner_text("[data-testid=bim-diff-legend]")
        e.shot("bim-diff-city-new-en")
        assert not e.errors, e.errors

        e.go(f"/city?dataset={dataset_id}&bim={diff['new_revision_id']}&bimShow=diff&bimDiff={uuid.uuid4()}")
        e.page.wait_for_selector("[data-testid=bim-diff-error]", timeout=120_000)  # an unknown diff: said, no crash
        assert "cannot be shown" in e.page.inner_text("[data-testid=bim-diff-error]")
        assert not e.errors, e.errors
    api.close()
