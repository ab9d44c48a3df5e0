"""The CesiumJS viewer page and its static files (CesiumJS from the npm registry, served locally)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from cim_platform.core.settings import Settings

STATIC = Path(__file__).resolve().parents[1] / "static"
router = APIRouter(tags=["viewer"], include_in_schema=False)


@router.get("/viewer")
def viewer_page() -> FileResponse:
    return FileResponse(STATIC / "viewer.html", media_type="text/html")


@router.get("/viewer/viewer.js")
def viewer_script() -> FileResponse:
    return FileResponse(STATIC / "viewer.js", media_type="text/javascript")


def mount_cesium(app: FastAPI, settings: Settings) -> None:
    """Serve node_modules/cesium/Build/Cesium at /viewer/cesium (installed by scripts/bootstrap.sh)."""
    folder = settings.cesium_dir or Path(__file__).resolve().parents[2] / "node_modules" / "cesium" / "Build" / "Cesium"
    if folder.is_dir():
        app.mount("/viewer/cesium", StaticFiles(directory=folder), name="cesium")
