"""The portal's upload page: "choose a tileset folder" (``<input webkitdirectory>``) sends a raw 1.0
tileset folder, which converts; the option is labelled in Chinese and in English."""

from __future__ import annotations

from pathlib import Path

from sample_models.tilesets.make_tileset_samples import tilesets
from tests.api.test_portal_e2e import choose_language, portal_server, watch_job  # noqa: F401 (fixture)
from tests.support.browser import chromium, open_page, sign_in


def test_upload_page_sends_a_tileset_folder(client, cast, start_worker, tmp_path: Path, portal_server: str) -> None:  # noqa: F811
    start_worker()
    for relative, data in tilesets().items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_bytes(data)
    password = cast.password("uploader_a")
    with chromium() as browser:
        b = open_page(browser, portal_server)
        sign_in(b, "uploader_a", password)
        b.go("/upload")
        page = b.page
        assert "文件夹" in page.inner_text("label.folder-choice")
        page.set_input_files("[data-testid=folder]", str(tmp_path / "kangbashi_legacy"))
        chosen = page.inner_text("[data-testid=chosen-folder]")
        assert "kangbashi_legacy" in chosen and "7" in chosen and "三维瓦片" in chosen, chosen
        assert page.input_value("input[name=name]") == "kangbashi_legacy"
        page.click("[data-testid=submit]")
        state, _states, _progress = watch_job(b, timeout=240)
        assert state == "succeeded", (state, b.failed)
        datasets = client.get("/api/v1/datasets", headers=cast.headers("uploader_a")).json()["datasets"]
        assert [d["kind"] for d in datasets if d["name"] == "kangbashi_legacy"] == ["tileset"]
        b.go("/upload")
        choose_language(b, "en", saved=True)
        assert "tileset folder" in page.inner_text("label.folder-choice")
        assert not b.external()
