"""Liveness and the landing page."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, JSONResponse

from api.core.schemas import Health
from api.deps import EngineDep
from cim_platform.core.db.engine import check_connection
from cim_platform.core.errors import DatabaseUnavailable

router = APIRouter(tags=["platform"])

LANDING = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ordos CIM platform</title>
<style>body{font-family:system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;color:#222}
a{color:#1d4f91}li{margin:.4rem 0}</style></head>
<body><h1>Ordos CIM platform</h1>
<p>BIM models and survey data as georeferenced 3D Tiles 1.1, stored in PostGIS and streamed to web viewers.</p>
<ul>
<li><a href="/viewer">3D viewer</a> (CesiumJS): the whole city</li>
<li><a href="/docs">API documentation</a> (<a href="/openapi.json">OpenAPI</a>)</li>
<li><a href="/api/v1/datasets">Datasets</a> &middot; <a href="/tiles/city/tileset.json">city tileset</a>
 &middot; <a href="/ogc">OGC API &ndash; 3D GeoVolumes</a></li>
<li><a href="/health">Health</a></li>
</ul></body></html>"""


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def landing() -> str:
    return LANDING


@router.get("/health", response_model=Health, responses={503: {"model": Health}})
def health(engine: EngineDep) -> Health | JSONResponse:
    try:
        version = check_connection(engine)
    except DatabaseUnavailable as exc:
        body = Health(status="degraded", database="unreachable", detail=exc.message)
        return JSONResponse(body.model_dump(), status_code=503)
    return Health(status="ok", database="ok", postgis=version)
