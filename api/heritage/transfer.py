"""Import a listing (CSV, Excel, GeoJSON; dry run or all-or-nothing) and export records (GeoJSON, CSV)."""

from __future__ import annotations

import enum
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.datasets.uploads import parse_upload
from api.deps import CallerDep, EngineDep, SessionDep, SettingsDep
from api.heritage.buildings import parse_bbox
from api.heritage.http import HeritageRoute
from api.heritage.schemas import ImportReportOut, RowProblemOut
from cim_platform.core.access import Caller
from cim_platform.core.errors import PayloadTooLarge
from cim_platform.heritage import exporting, importing, service
from cim_platform.heritage.models import Building, Level, Status
from cim_platform.heritage.scopes import HeritageScope

router = APIRouter(prefix="/api/v1/heritage", tags=["heritage"], route_class=HeritageRoute)
MAX_LISTING_BYTES = 32 * 1024 * 1024


def _run(engine: Engine, caller: Caller, content: bytes, filename: str, crs: str, dry_run: bool) -> ImportReportOut:
    """One transaction: committed when every row was created, rolled back otherwise (and on a dry run)."""
    with Session(engine, expire_on_commit=False) as session:
        report = importing.run_import(session, caller, content, filename, crs=crs, dry_run=dry_run)
        if report.imported:
            session.commit()
        else:
            session.rollback()
    return ImportReportOut(
        dry_run=dry_run,
        imported=report.imported,
        rows=report.rows,
        valid_rows=report.valid_rows,
        problems=[RowProblemOut(row=p.row, field=p.field, problem=p.problem) for p in report.problems],
        created=[uuid.UUID(i) for i in report.created_ids],
    )


@router.post("/imports", response_model=ImportReportOut)
async def import_listing(
    request: Request,
    response: Response,
    caller: CallerDep,
    settings: SettingsDep,
    engine: EngineDep,
    dry_run: Annotated[bool, Query(description="Check every row and write nothing")] = True,
    crs: Annotated[str, Query(max_length=100, description="CRS of coordinates and geometries")] = "EPSG:4490",
) -> ImportReportOut:
    """Multipart ``file``: a listing as CSV (UTF-8 or GB18030, Chinese or English column names), Excel
    (.xlsx) or GeoJSON. ``dry_run=true`` (the default) reports every row's problems and writes nothing;
    ``dry_run=false`` imports all rows in one transaction, or none if any row has a problem (201 when
    imported)."""
    caller.require(HeritageScope.write)
    upload = await parse_upload(request, settings)
    assert upload.file is not None
    try:
        if upload.file.size > MAX_LISTING_BYTES:
            raise PayloadTooLarge(f"a listing is at most {MAX_LISTING_BYTES} bytes")
        content = upload.file.path.read_bytes()
    finally:
        upload.file.discard()
    report = await run_in_threadpool(_run, engine, caller, content, upload.file.filename, crs, dry_run)
    if report.imported:
        response.status_code = 201
    return report


class ExportFormat(enum.StrEnum):
    geojson = "geojson"
    csv = "csv"


MEDIA = {ExportFormat.geojson: "application/geo+json", ExportFormat.csv: "text/csv; charset=utf-8"}


@router.get(
    "/export",
    response_class=Response,
    responses={200: {"content": {"application/geo+json": {}, "text/csv": {}}, "description": "The records"}},
)
def export_buildings(
    caller: CallerDep,
    session: SessionDep,
    format: ExportFormat = ExportFormat.geojson,
    district: Annotated[str | None, Query(max_length=80)] = None,
    status: Status | None = None,
    level: Level | None = None,
    bbox: Annotated[str | None, Query(description="west,south,east,north in degrees")] = None,
) -> Response:
    """The records matching the filters (anonymous callers: listed records' public fields)."""
    filters = service.BuildingFilter(
        district=district,
        status=status,
        level=level.value if level else None,
        bbox=parse_bbox(bbox) if bbox else None,
        limit=100_000,
    )
    buildings = list(session.scalars(service.filtered(session, caller, filters).order_by(Building.code)))
    full = service.reads_full(caller)
    body = (
        exporting.to_geojson(buildings, full=full)
        if format is ExportFormat.geojson
        else exporting.to_csv(buildings, full=full)
    )
    return Response(
        body,
        media_type=MEDIA[format],
        headers={"Content-Disposition": f'attachment; filename="heritage.{format.value}"'},
    )
