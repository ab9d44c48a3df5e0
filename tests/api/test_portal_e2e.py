"""The web portal end to end in Debian's Chromium against a real server, worker and PostGIS: sign in, upload
with live progress, the 3D city, picking, the datasets list, languages, roles, a failed upload; nothing
leaves the machine. Screenshots of the main pages are kept in tests/artifacts/."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from cim_platform.core.settings import Settings
from tests.support import postgis
from tests.support.browser import (
    Browsing,
    chromium,
    find_feature,
    open_page,
    sign_in,
    wait_city_ready,
)
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
CORPUS_IFC = Path("/work/shared/corpus/ifc/AC20-FZK-Haus.ifc")
SAMPLE_IFC = ROOT / "sample_models" / "ifc" / "ordos_kangbashi_hall_4546.ifc"
BUILT = ROOT / "api" / "static" / "portal" / "index.html"
KANGBASHI = "150603"


@pytest.fixture
def portal_server(settings: Settings) -> Iterator[str]:
    """The platform with its portal in its own process on a free loopback port, on the test database."""
    import httpx

    if not BUILT.is_file():
        pytest.fail("the portal is not built: run scripts/bootstrap.sh (npm ci && npm run build)")
    port = postgis.free_port()
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    env = postgis.subprocess_env(settings.database_url or "", settings.resolved_data_dir)
    log = open(settings.resolved_data_dir / "portal-server.log", "wb")
    command = [sys.executable, "-m", "uvicorn", "tests.support.browser:portal_app", "--factory"]
    process = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx.get(f"{base}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return process.poll() is not None and pytest.fail("the server exited")  # type: ignore[return-value]

    wait_for(up, timeout=60)
    yield base
    process.terminate()
    process.wait(timeout=20)


def nav_text(browsing: Browsing, name: str) -> str:
    return browsing.page.inner_text(f"[data-nav={name}]").strip()


def choose_language(browsing: Browsing, locale: str, *, saved: bool = False) -> None:
    """Switch the portal's language; ``saved``: signed in, wait until the user's choice is stored (PATCH)."""
    if saved:
        stored = lambda r: r.url.endswith("/api/v1/users/me") and r.request.method == "PATCH"  # noqa: E731
        with browsing.page.expect_response(stored):
            browsing.page.select_option("[data-testid=language]", locale)
    else:
        browsing.page.select_option("[data-testid=language]", locale)
    browsing.page.wait_for_function(f"document.documentElement.lang === {locale!r}")


def upload(browsing: Browsing, path: Path, name: str, *, georef: tuple[str, str, str, str] | None = None) -> None:
    page = browsing.page
    browsing.go("/upload")
    page.set_input_files("[data-testid=file]", str(path))
    page.wait_for_selector("[data-testid=chosen-file]")
    page.fill("input[name=name]", name)
    page.select_option("select[name=district]", KANGBASHI)
    page.check("input[name=visibility][value=public]")
    if georef:
        crs, east, north, height = georef
        page.select_option("select[name=crs]", crs)
        page.fill("input[name=origin_e]", east)
        page.fill("input[name=origin_n]", north)
        page.fill("input[name=origin_h]", height)


def watch_job(browsing: Browsing, timeout: float = 300) -> tuple[str, list[str], list[str]]:
    """Follow the upload's job on the page until it ends: final state, states and progress texts seen."""
    page = browsing.page
    page.wait_for_selector("[data-testid=job-state]", timeout=120_000)
    states: list[str] = []
    progress: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state, text = page.evaluate(
            """() => [document.querySelector('[data-testid=job-state]')?.dataset.state || '',
                      document.querySelector('[data-testid=job-progress]')?.innerText.trim() ?? null]"""
        )  # read together: the progress bar goes away when a job fails
        if not states or states[-1] != state:
            states.append(state)
        if text is not None and (not progress or progress[-1] != text):
            progress.append(text)
        if state in ("succeeded", "failed", "cancelled"):
            return state, states, progress
        time.sleep(0.25)
    pytest.fail(f"the job did not end in {timeout} s; states seen {states}")


def test_portal_upload_progress_city_pick_list_languages_roles(
    portal_server: str, cast, start_worker, settings: Settings
) -> None:
    start_worker()
    source = CORPUS_IFC if CORPUS_IFC.exists() else SAMPLE_IFC
    password = cast.password("uploader_a")
    with chromium() as browser:
        b = open_page(browser, portal_server)

        # sign-in page first, in Chinese by default
        b.go("/")
        b.page.wait_for_selector("[data-testid=signin-form]")
        assert "登录" in b.page.inner_text("h1")
        b.shot("portal-signin")
        b.page.fill("input[name=username]", "uploader_a")
        b.page.fill("input[name=password]", "wrong password")
        b.page.click("[data-testid=signin-form] button[type=submit]")
        b.page.wait_for_selector("[data-testid=error]")
        assert "用户名或密码不正确" in b.page.inner_text("[data-testid=error]")
        sign_in(b, "uploader_a", password)
        b.page.wait_for_selector("[data-testid=home-total]")
        b.shot("portal-home")

        # an uploader does not see the administration, and cannot open it
        assert b.page.locator("[data-nav=admin]").count() == 0
        assert b.page.locator("[data-nav=upload]").count() == 1
        b.go("/admin")
        b.page.wait_for_selector("[data-testid=home-total]")
        assert b.page.url.rstrip("/") == portal_server

        # upload with georeferencing parameters: the map shows where the origin lands
        upload(b, source, "FZK 住宅", georef=("EPSG:4546", "389600", "4385300", "1300"))
        assert "BIM" in b.page.inner_text("[data-testid=chosen-file]")  # kind detected
        preview = b.page.inner_text("[data-testid=origin-preview]")
        assert "109.71" in preview and "39.59" in preview, preview
        b.shot("portal-upload")
        b.page.click("[data-testid=submit]")
        state, states, progress = watch_job(b)
        assert state == "succeeded", (states, b.page.inner_text("[data-testid=progress]"))
        assert progress[-1] == "100%", progress
        assert len(progress) >= 2 or states[0] != "succeeded", (states, progress)  # seen before the end
        b.shot("portal-upload-done")

        # open it in the 3D city, which flies to it; click a feature and read its properties
        b.page.click("[data-testid=open-city]")
        b.page.wait_for_url("**/city?dataset=*")
        wait_city_ready(b)
        b.shot("portal-city")
        position = find_feature(b)
        assert position is not None, "no feature of the model under the camera"
        b.page.mouse.click(position[0], position[1])
        b.page.wait_for_selector("[data-testid=properties]")
        picked = b.page.evaluate("window.cimCityState.picked")
        panel = b.page.inner_text("[data-testid=picked]")
        assert any("GlobalId" in key for key in picked), picked
        assert any(str(value) in panel for value in picked.values() if value not in (None, ""))
        assert b.page.locator("[data-panel=dataset]").count() == 1  # the extension point's built-in panel
        b.shot("portal-city-picked")
        # measure a distance between two clicked points
        b.page.dispatch_event("[data-testid=measure-distance]", "click")  # buttons over a busy canvas
        b.page.mouse.click(position[0], position[1])
        b.page.mouse.click(position[0] + 120, position[1] + 40)
        measured = b.page.wait_for_selector("[data-testid=measure-value]").inner_text()
        assert "米" in measured, measured
        # underground view, and a screenshot of the view as a file
        b.page.dispatch_event("[data-testid=underground]", "click")
        b.page.wait_for_function("location.search.includes('underground=1')")
        assert b.page.evaluate("window.cimViewer.scene.globe.translucency.enabled")
        with b.page.expect_download() as download:
            b.page.dispatch_event("[data-testid=screenshot]", "click")
        assert download.value.suggested_filename.endswith(".png")
        b.page.dispatch_event("[data-testid=share]", "click")  # the canvas keeps the page busy
        b.page.wait_for_function("location.search.includes('view=')")

        # the datasets list and its filters
        b.go("/datasets")
        b.page.wait_for_selector("[data-testid=datasets-table]")
        assert "FZK 住宅" in b.page.inner_text("[data-testid=datasets-table]")
        b.shot("portal-datasets")
        b.page.select_option("select[name=kind]", "pointcloud")
        b.page.wait_for_selector(".state.empty")
        assert "没有符合条件的数据集" in b.page.inner_text(".state.empty")
        b.page.select_option("select[name=kind]", "ifc")
        b.page.fill("input[name=q]", "FZK")
        b.page.press("input[name=q]", "Enter")
        b.page.wait_for_selector("[data-testid=datasets-table]")
        b.page.wait_for_function("location.search.includes('q=FZK') && location.search.includes('kind=ifc')")
        assert "FZK 住宅" in b.page.inner_text("[data-testid=datasets-table]")
        b.page.click("[data-testid=visible-box]")  # the box of the map's visible area (fitted to the footprints)
        b.page.wait_for_function("location.search.includes('bbox=')")
        b.page.wait_for_selector("[data-testid=datasets-table]")
        assert "FZK 住宅" in b.page.inner_text("[data-testid=datasets-table]")
        b.page.click("text=FZK 住宅")
        b.page.wait_for_selector("[data-testid=report]")
        assert "IfcWall" in b.page.inner_text("[data-testid=report]")
        b.shot("portal-dataset")

        # a new revision from the dataset page, then a roll back to the first
        b.page.click("text=上传新版本")
        b.page.set_input_files("[data-testid=file]", str(SAMPLE_IFC))
        b.page.click("[data-testid=submit]")
        state, states, _ = watch_job(b)
        assert state == "succeeded", states
        b.page.click("[data-testid=open-dataset]")
        b.page.wait_for_selector("[data-testid=revisions] tbody tr:nth-child(2)")
        revisions = b.page.locator("[data-testid=revisions] tbody tr")
        assert "已发布" in revisions.nth(0).inner_text()  # the newest, revision 2
        revisions.nth(1).locator("text=回滚到此版本").click()
        b.page.wait_for_function(
            "document.querySelectorAll('[data-testid=revisions] tbody tr')[1]?.innerText.includes('已发布')"
        )
        assert "已固定" in b.page.inner_text("main")
        b.shot("portal-dataset-rolled-back")

        # languages: Chinese by default, English by the switch, remembered for the user
        assert nav_text(b, "datasets") == "数据集"
        choose_language(b, "en", saved=True)
        assert nav_text(b, "datasets") == "Datasets"
        assert "Revisions" in b.page.inner_text("main")
        b.shot("portal-dataset-en")
        other = open_page(browser, portal_server)  # another browser profile: no local storage
        sign_in(other, "uploader_a", password)
        assert nav_text(other, "datasets") == "Datasets"
        choose_language(other, "zh-CN", saved=True)  # stored for the user: b's next page load speaks Chinese
        assert nav_text(other, "datasets") == "数据集"

        # a failed upload shows its reason in plain words
        broken = settings.resolved_data_dir / "broken.ifc"
        broken.write_text("ISO-10303-21;\nthis is not an IFC model\n")
        upload(b, broken, "broken")
        b.page.click("[data-testid=submit]")
        state, states, _ = watch_job(b)
        assert state == "failed", states
        failure = b.page.inner_text("[data-testid=failure]")
        assert "文件内容无法转换" in failure and "原因" in failure, failure  # the user's language: Chinese again
        assert b.page.inner_text("[data-testid=failure-reason]").strip()
        b.shot("portal-upload-failed")

        requests = b.requests + other.requests
        errors = b.errors + other.errors
    assert not [url for url in requests if "/api/v1/" in url and "access_token" in url]
    assert any("/tiles/" in url and urlsplit(url).path.endswith(".glb") for url in requests)
    external = [url for url in requests if not url.startswith(portal_server) and not url.startswith(("data:", "blob:"))]
    assert not external, external  # nothing leaves the machine
    assert not errors, errors


def test_portal_administration(portal_server: str, cast) -> None:
    with chromium() as browser:
        b = open_page(browser, portal_server, locale="en-GB")
        sign_in(b, "admin", cast.password("admin"))
        assert b.page.locator("[data-nav=admin]").count() == 1
        b.go("/admin")
        b.page.wait_for_selector("[data-testid=users-table]")
        assert "uploader_a" in b.page.inner_text("[data-testid=users-table]")
        b.shot("portal-admin")
        # create a user with a password, who can then sign in
        form = b.page.locator("form.grid-form")
        form.locator("select").first.select_option(str(cast.orgs["institute_b"]))
        form.locator("input").nth(0).fill("wang.fang")
        form.locator("input").nth(1).fill("王芳")
        form.locator("input[type=password]").fill("wang-fang-password-2026")
        form.locator("button[type=submit]").click()
        b.page.wait_for_function("document.querySelector('[data-testid=users-table]')?.innerText.includes('wang.fang')")
        # reset a password inline
        row = b.page.locator("[data-testid=users-table] tbody tr", has_text="wang.fang")
        row.locator("button", has_text="Reset password").or_(row.locator("button", has_text="重置密码")).click()
        row.locator("input[type=password]").fill("wang-fang-new-password-2026")
        row.locator("form button[type=submit]").click()
        b.page.wait_for_selector("p.ok")
        # a token, shown once
        b.page.click("[role=tab]:nth-child(3)")
        b.page.locator("form.row select").select_option("wang.fang")
        b.page.locator("form.row button[type=submit]").click()
        secret = b.page.wait_for_selector("[data-testid=token-secret]").inner_text()
        assert len(secret) > 20
        b.shot("portal-admin-token")
        token_row = b.page.locator("[data-testid=tokens-table] tbody tr", has_text="wang.fang")
        token_row.locator("button").click()
        b.page.wait_for_function(
            "[...document.querySelectorAll('[data-testid=tokens-table] tbody tr')]"
            ".some((tr) => tr.innerText.includes('wang.fang') && !tr.querySelector('button'))"
        )
        newcomer = open_page(browser, portal_server)
        sign_in(newcomer, "wang.fang", "wang-fang-new-password-2026")
        assert newcomer.page.locator("[data-nav=admin]").count() == 0
        assert "王芳" in newcomer.page.inner_text("[data-testid=who]")
        errors = b.errors + newcomer.errors
        external = b.external() + newcomer.external()
    assert not external, external
    assert not errors, errors
