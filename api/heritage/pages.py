"""The portal's heritage pages (/heritage, /heritage/…) answer the portal's index.html, so a reload or a shared link
opens them: api/portal.py serves only the core's client routes (a workaround until it serves the modules' too)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response

from api.portal import BUILT, NOT_BUILT

router = APIRouter(include_in_schema=False)


def portal_index() -> Response:
    index = BUILT / "index.html"
    if not index.is_file():
        return HTMLResponse(NOT_BUILT, status_code=503)
    return FileResponse(index, media_type="text/html", headers={"Cache-Control": "no-cache"})


for path in ("/heritage", "/heritage/{rest:path}"):
    router.add_api_route(path, portal_index, methods=["GET", "HEAD"], response_class=HTMLResponse)
