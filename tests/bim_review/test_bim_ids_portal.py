"""IDS management: the API (versions with who and how often checked, assignment to known organisations,
districts and dataset kinds, conditional edits, the revisions checked, what design institutes see) and the
IDS page in Chromium, in Chinese and English: upload → new version → assignment change → a design
institute's read-only view, with bad XML and a conflicting edit shown with the server's reason."""

from __future__ import annotations

import importlib.util
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from cim_platform.bim_review.checks import run_check
from cim_platform.core.db.engine import get_engine, session_scope
from tests.api.test_portal_e2e import choose_language, portal_server  # noqa: F401  (the fixture)
from tests.support.browser import chromium, open_page, sign_in
from tests.support.http_api import upload

ROOT = Path(__file__).resolve().parents[2]
ORDOS_IDS = (ROOT / "sample_models" / "ids" / "ordos-delivery.ids").read_text(encoding="utf-8")
ORDOS_IDS_V2 = ORDOS_IDS.replace("<version>1.0</version>", "<version>2.0</version>")
_spec = importlib.util.spec_from_file_location(
    "make_review_models", ROOT / "sample_models" / "bim_review" / "make_review_models.py"
)
assert _spec and _spec.loader
make_review_models = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_review_models)
BIM = "/api/v1/bim"
KANGBASHI = "150603"


def test_ids_management_over_the_api(client: Any, cast: Any, settings: Any, tmp_path: Path) -> None:
    official, owner, other = cast.headers("official"), cast.headers("uploader_a"), cast.headers("uploader_b")
    created = client.post(f"{BIM}/ids", json={"name": "示例 IDS 管理", "xml": ORDOS_IDS}, headers=official)
    assert created.status_code == 201, created.text
    ids = created.json()
    url = f"{BIM}/ids/{ids['id']}"
    [first] = ids["versions"]
    assert (first["number"], first["created_by"], first["current"], first["checks"]) == (1, "official", True, 0)
    assert client.post(f"{BIM}/ids", json={"name": "x", "xml": "<ids/>"}, headers=official).status_code == 422
    assert client.post(f"{url}/versions", json={"xml": ORDOS_IDS_V2}, headers=owner).status_code == 403

    # the options of the assignment: the platform's organisations (officials only) and dataset kinds
    options = client.get(f"{BIM}/ids-options", headers=official).json()
    assert cast.orgs["institute_a"] in [uuid.UUID(o["id"]) for o in options["organizations"]]
    assert "ifc" in options["dataset_kinds"]
    assert client.get(f"{BIM}/ids-options", headers=owner).status_code == 403

    # assignment: unknown organisations, districts or kinds are refused, nothing changes
    bad = client.patch(url, json={"organization_ids": [str(uuid.uuid4())]}, headers=official)
    assert bad.status_code == 422 and "organisations list" in bad.json()["detail"]
    bad = client.patch(url, json={"district_codes": ["999999"]}, headers=official)
    assert bad.status_code == 422 and "districts" in bad.json()["detail"]
    bad = client.patch(url, json={"dataset_kinds": ["cad"]}, headers=official)
    assert bad.status_code == 422 and "ifc" in bad.json()["detail"]
    assert client.get(url, headers=official).json()["organization_ids"] == []

    # conditional edits: the ETag read, else 409 with the reason
    read = client.get(url, headers=official)
    tag = read.headers["ETag"]
    assert tag == read.json()["etag"]
    assignment = {
        "organization_ids": [str(cast.orgs["institute_a"])],
        "district_codes": [KANGBASHI],
        "dataset_kinds": ["ifc"],
        "require_pass": True,
    }
    changed = client.patch(url, json=assignment, headers={**official, "If-Match": tag})
    assert changed.status_code == 200, changed.text
    assert changed.json()["organizations"] == [
        {"id": str(cast.orgs["institute_a"]), "name": "Ordos Architectural Design Institute"}
    ]
    assert changed.headers["ETag"] != tag
    stale = client.patch(url, json={"require_pass": False}, headers={**official, "If-Match": tag})
    assert stale.status_code == 409 and stale.json()["error"] == "ids_edit_conflict"
    assert "changed by someone else" in stale.json()["detail"]
    stale = client.post(f"{url}/versions", json={"xml": ORDOS_IDS_V2}, headers={**official, "If-Match": tag})
    assert stale.status_code == 409
    assert client.get(url, headers=official).json()["require_pass"] is True  # the stale edit wrote nothing

    # design institutes see the IDS assigned to them, read only; others do not see it
    assert [i["id"] for i in client.get(f"{BIM}/ids", headers=owner).json()["items"]] == [ids["id"]]
    assert client.get(f"{BIM}/ids", headers=other).json()["items"] == []
    assert client.get(url, headers=other).status_code == 404
    assert client.patch(url, json={"require_pass": False}, headers=owner).status_code == 403

    # a revision checked against version 1, then version 2 is what new checks use
    model, _ = make_review_models.make_revisions(tmp_path / "models")
    answer = upload(client, owner, model, name="示例 IDS 管理模型", district="kangbashi", visibility="internal")
    revision_id = answer.json()["revision"]["id"]
    [queued] = client.post(f"{BIM}/revisions/{revision_id}/checks", headers=owner).json()["items"]
    with session_scope(client.app.state.engine) as session:
        assert run_check(session, settings, uuid.UUID(queued["id"])).state == "failed"
    newer = client.post(
        f"{url}/versions",
        json={"filename": "v2.ids", "xml": ORDOS_IDS_V2},
        headers={**official, "If-Match": changed.headers["ETag"]},
    )
    assert newer.status_code == 201, newer.text
    versions = {v["number"]: v for v in newer.json()["versions"]}
    assert (versions[1]["checks"], versions[1]["current"], versions[2]["current"]) == (1, False, True)
    assert versions[2]["filename"] == "v2.ids" and versions[2]["created_by"] == "official"
    [checked] = client.get(f"{url}/checks", headers=official).json()["items"]
    assert (checked["revision_id"], checked["ids_version"], checked["state"]) == (revision_id, 1, "failed")
    assert checked["dataset_name"] == "示例 IDS 管理模型"
    assert client.get(f"{url}/checks", headers=owner).json()["items"] == [checked]
    assert client.get(f"{url}/checks", headers=other).status_code == 404


def _write(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.timeout(600)
def test_ids_page_in_chinese_and_english(portal_server: str, cast: Any, settings: Any, tmp_path: Path) -> None:  # noqa: F811
    api = httpx.Client(base_url=portal_server, timeout=60)
    official, owner = cast.headers("official"), cast.headers("uploader_a")
    first_file = _write(tmp_path, "ordos-delivery.ids", ORDOS_IDS)
    second_file = _write(tmp_path, "ordos-delivery-v2.ids", ORDOS_IDS_V2)
    broken_file = _write(tmp_path, "broken.ids", "<ids><info/></ids>")
    name = "示例 交付要求管理"

    with chromium() as browser:
        b = open_page(browser, portal_server)
        sign_in(b, "official", cast.password("official"))
        b.page.click("[data-nav=bim-ids]")
        b.page.wait_for_selector("[data-testid=bim-ids-upload]")
        # upload: a bad file first (refused with the server's reason), then the IDS
        b.page.fill("[data-testid=bim-ids-upload] input[name=name]", name)
        b.page.set_input_files("[data-testid=bim-ids-upload] input[name=file]", broken_file)
        b.page.click("[data-testid=bim-ids-upload] button[type=submit]")
        refused = b.page.inner_text("[data-testid=bim-ids-upload-error]")
        assert "IDS 文件被拒绝" in refused and "服务器说明：" in refused, refused
        b.page.set_input_files("[data-testid=bim-ids-upload] input[name=file]", first_file)
        b.page.click("[data-testid=bim-ids-upload] button[type=submit]")
        assert f"已上传 {name}" in b.page.inner_text("[data-testid=bim-ids-uploaded]")
        b.page.wait_for_selector("[data-testid=bim-ids-details]")
        assert "全部 IFC 模型" in b.page.inner_text(f"tr[data-ids='{name}']")

        # a new version: the history lists both, v2 is the current one, uploaded by the official
        b.page.set_input_files("[data-testid=bim-ids-new-version] input[type=file]", second_file)
        b.page.click("[data-testid=bim-ids-new-version] button[type=submit]")
        assert "已上传第 2 版" in b.page.inner_text("[data-testid=bim-ids-saved]")
        history = b.page.inner_text("[data-testid=bim-ids-versions]")
        assert "ordos-delivery-v2.ids" in history and "ordos-delivery.ids" in history and "official" in history
        assert b.page.inner_text("tr[data-version='2'] [data-testid=bim-ids-current]") == "当前版本"
        assert b.page.locator("tr[data-version='1'] [data-testid=bim-ids-current]").count() == 0

        # the assignment: an organisation of the list, a district, a dataset kind, pass required
        b.page.check("[data-testid=bim-ids-assign] input[data-org='Ordos Architectural Design Institute']")
        b.page.check("[data-testid=bim-ids-assign] input[data-district=kangbashi]")
        b.page.check("[data-testid=bim-ids-assign] input[data-kind=ifc]")
        b.page.check("[data-testid=bim-ids-assign] input[name=require_pass]")
        b.page.click("[data-testid=bim-ids-assign] button[type=submit]")
        b.page.wait_for_selector("[data-testid=bim-ids-saved]:has-text('已保存')")
        summary = b.page.inner_text(f"tr[data-ids='{name}'] [data-testid=bim-ids-assignment]")
        assert "Ordos Architectural Design Institute" in summary and "康巴什" in summary and "ifc" in summary, summary
        [stored] = api.get(f"{BIM}/ids", headers=official).json()["items"]
        assert stored["require_pass"] is True and stored["district_codes"] == [KANGBASHI]
        assert stored["current_version"] == 2

        # another official changes it meanwhile: the page's edit is refused with the reason, nothing lost
        assert api.patch(f"{BIM}/ids/{stored['id']}", json={"active": True}, headers=official).status_code == 200
        b.page.uncheck("[data-testid=bim-ids-assign] input[name=require_pass]")
        b.page.click("[data-testid=bim-ids-assign] button[type=submit]")
        conflict = b.page.inner_text("[data-testid=bim-ids-error]")
        assert "已被他人修改" in conflict and "changed by someone else" in conflict, conflict
        assert api.get(f"{BIM}/ids/{stored['id']}", headers=official).json()["require_pass"] is True
        b.shot("bim-ids-admin-zh")
        # reloaded, the form shows the server's values again and the next edit goes through
        b.page.click("[data-testid=bim-ids-error] button")
        b.page.wait_for_selector("[data-testid=bim-ids-error]", state="detached")
        assert b.page.is_checked("[data-testid=bim-ids-assign] input[name=require_pass]")
        b.page.uncheck("[data-testid=bim-ids-assign] input[name=require_pass]")
        b.page.click("[data-testid=bim-ids-assign] button[type=submit]")
        b.page.wait_for_selector("[data-testid=bim-ids-saved]:has-text('已保存')")
        assert api.get(f"{BIM}/ids/{stored['id']}", headers=official).json()["require_pass"] is False
        assert not b.errors, b.errors
        assert [
            f
            for f in b.failed
            if not re.match(r"^(422 POST .*/bim/ids|409 PATCH .*/bim/ids/|401 GET .*/api/v1/session$)", f)
        ] == []

    # a model of the institute, checked against version 2
    model, _ = make_review_models.make_revisions(tmp_path / "models")
    with model.open("rb") as handle:
        answer = api.post(
            "/api/v1/datasets",
            headers=owner,
            data={"name": "示例 IDS 页面模型", "district": "kangbashi", "visibility": "internal"},
            files={"file": (model.name, handle)},
        )
    revision_id = answer.json()["revision"]["id"]
    [queued] = api.post(f"{BIM}/revisions/{revision_id}/checks", headers=owner).json()["items"]
    with session_scope(get_engine(settings)) as session:
        assert run_check(session, settings, uuid.UUID(queued["id"])).state == "failed"

    with chromium() as browser:
        e = open_page(browser, portal_server, locale="en-GB")
        sign_in(e, "uploader_a", cast.password("uploader_a"))
        choose_language(e, "en")
        e.page.click("[data-nav=bim-ids]")
        e.page.wait_for_selector("[data-testid=bim-ids-table]")
        assert "read only" in e.page.inner_text("[data-testid=bim-ids-readonly]")
        assert e.page.locator("[data-testid=bim-ids-upload]").count() == 0
        e.page.click(f"[data-open-ids='{name}']")
        readonly = e.page.inner_text("[data-testid=bim-ids-assignment-readonly]")
        assert "Ordos Architectural Design Institute" in readonly and "Kangbashi" in readonly, readonly
        assert e.page.locator("[data-testid=bim-ids-assign]").count() == 0
        assert e.page.locator("[data-testid=bim-ids-new-version]").count() == 0
        checks = e.page.inner_text("[data-testid=bim-ids-checks]")
        assert "示例 IDS 页面模型" in checks and "v2" in checks and "failed" in checks, checks
        e.shot("bim-ids-institute-en")
        assert not e.errors, e.errors

        o = open_page(browser, portal_server, locale="en-GB")
        sign_in(o, "uploader_b", cast.password("uploader_b"))
        choose_language(o, "en")
        o.page.click("[data-nav=bim-ids]")
        o.page.wait_for_selector("text=No IDS file yet.")
