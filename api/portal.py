"""The web portal: the single-page app built from portal/ (``npm run build`` → api/static/portal) served at ``/``.

Client routes (/datasets/…, /upload, /jobs, /admin, /city, /signin) answer the app's index.html; its hashed assets
are served under /portal/assets. Nothing here shadows the API (/api, /tiles, /ogc, /health, /docs, /viewer …):
only the listed client routes fall back to the app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import Scope

from cim_platform.registry import DOMAINS

BUILT = Path(__file__).resolve().parent / "static" / "portal"
CLIENT_ROUTES = (
    "/",
    "/signin",
    "/datasets",
    "/datasets/{rest:path}",
    "/upload",
    "/jobs",
    "/jobs/{rest:path}",
    "/admin",
    "/admin/{rest:path}",
    "/city",
    # each domain's portal pages (portal/src/<domain>/module.js) live under /<domain>
    *(path for domain in DOMAINS for path in (f"/{domain.name}", f"/{domain.name}/{{rest:path}}")),
)
NOT_BUILT = """<!doctype html><html><head><meta charset="utf-8"><title>Ordos CIM platform</title></head>
<body><h1>Ordos CIM platform</h1><p>The web portal is not built: run <code>./scripts/bootstrap.sh</code>
(or <code>npm ci &amp;&amp; npm run build</code>). The API is at <a href="/docs">/docs</a>.</p></body></html>"""


class ImmutableFiles(StaticFiles):
    """Vite's hashed file names never change content: cache them for a year."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


def _index() -> Response:
    index = BUILT / "index.html"
    if not index.is_file():
        return HTMLResponse(NOT_BUILT, status_code=503)
    return FileResponse(index, media_type="text/html", headers={"Cache-Control": "no-cache"})


def install_portal(app: FastAPI, settings: Any = None) -> None:
    """Serve the portal at / and its assets at /portal/assets. The client routes go first, so the portal replaces
    any earlier page at /; they are exact paths, so they never hide an API route."""
    router = APIRouter(include_in_schema=False)
    for path in CLIENT_ROUTES:
        router.add_api_route(path, _index, methods=["GET", "HEAD"], response_class=HTMLResponse)
    before = len(app.router.routes)
    app.include_router(router)
    added = app.router.routes[before:]
    del app.router.routes[before:]
    app.router.routes[0:0] = added
    app.mount("/portal/assets", ImmutableFiles(directory=BUILT / "assets", check_dir=False), name="portal-assets")
