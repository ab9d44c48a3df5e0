"""Debian's Chromium driven by Playwright, offline: every request recorded, page errors collected, screenshots kept."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # WebGL for CesiumJS without a GPU: SwiftShader
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
    "--ignore-gpu-blocklist",
]
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@dataclass
class Browsing:
    page: Any
    base: str
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # API answers of 4xx/5xx: "status method url"

    def external(self) -> list[str]:
        """Requests that left the machine (anything but loopback, data: and blob:)."""
        out = []
        for url in self.requests:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about", "chrome-extension"):
                continue
            if parts.hostname not in LOOPBACK:
                out.append(url)
        return out

    def go(self, path: str) -> None:
        self.page.goto(self.base + path)

    def shot(self, name: str) -> Path:
        """A screenshot kept as a test artefact (tests/artifacts/, git-ignored)."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.evaluate("document.fonts.ready.then(() => true)")
        self.page.screenshot(path=str(path))
        return path


@contextmanager
def chromium() -> Iterator[Any]:
    """A Playwright browser on Debian's Chromium (never `playwright install`)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def open_page(browser: Any, base: str, *, locale: str = "zh-CN", width: int = 1280, height: int = 860) -> Browsing:
    """A fresh context (own cookies) with every request and page error recorded."""
    context = browser.new_context(locale=locale, viewport={"width": width, "height": height}, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)  # a shared 2-core machine draws WebGL slowly in software
    browsing = Browsing(page=page, base=base)
    page.on("request", lambda request: browsing.requests.append(request.url))
    page.on("pageerror", lambda error: browsing.errors.append(str(error)))
    page.on("response", lambda response: browsing.failed.append(
        f"{response.status} {response.request.method} {response.url}") if response.status >= 400 else None)
    return browsing


def sign_in(browsing: Browsing, username: str, password: str) -> None:
    page = browsing.page
    browsing.go("/signin")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("[data-testid=signin-form] button[type=submit]")
    page.wait_for_selector("[data-testid=who]")


def wait_city_ready(browsing: Browsing, timeout: float = 90_000) -> None:
    """The 3D city has drawn tiles of every layer and finished loading them."""
    page = browsing.page
    page.wait_for_function("window.cimCityState && window.cimCityState.tilesLoaded > 0", timeout=timeout)
    page.wait_for_function(
        "window.cimViewer && [...Array(window.cimViewer.scene.primitives.length).keys()]"
        ".every((i) => window.cimViewer.scene.primitives.get(i).tilesLoaded !== false)",
        timeout=timeout,
    )
    page.wait_for_timeout(1500)


def find_feature(browsing: Browsing) -> list[float] | None:
    """A canvas position where a 3D Tiles feature is drawn, searching around the centre of the view."""
    return browsing.page.evaluate(
        """() => { const v = window.cimViewer, c = v.scene.canvas;
            for (let r = 0; r < 320; r += 8) for (let dx = -r; dx <= r; dx += 8) for (const dy of [-r, r]) {
              const p = new Cesium.Cartesian2(c.clientWidth / 2 + dx, c.clientHeight / 2 + dy);
              if (v.scene.pick(p) instanceof Cesium.Cesium3DTileFeature) {
                const box = c.getBoundingClientRect(); return [box.left + p.x, box.top + p.y];
              }
            } return null; }"""
    )


def with_portal(app: Any) -> Any:
    """``app`` with the portal installed (nothing to do once api/app.py installs it itself)."""
    from api.portal import install_portal

    if not any(getattr(route, "path", None) == "/portal/assets" for route in app.router.routes):
        install_portal(app)
    return app


def portal_app() -> Any:
    """The platform's app with the portal (uvicorn factory for the end-to-end tests)."""
    from api.app import create_app

    return with_portal(create_app())
