"""Liveness: the database and PostGIS answer (the landing page is the portal, api/portal.py)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.core.schemas import Health
from api.deps import EngineDep
from cim_platform.core.db.engine import check_connection
from cim_platform.core.errors import DatabaseUnavailable

router = APIRouter(tags=["platform"])

@router.get("/health", response_model=Health, responses={503: {"model": Health}})
def health(engine: EngineDep) -> Health | JSONResponse:
    try:
        version = check_connection(engine)
    except DatabaseUnavailable as exc:
        body = Health(status="degraded", database="unreachable", detail=exc.message)
        return JSONResponse(body.model_dump(), status_code=503)
    return Health(status="ok", database="ok", postgis=version)
