"""Programme progress over HTTP: per street, district or city; CSV and Excel export."""

from __future__ import annotations

import enum
from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.deps import CallerDep, SessionDep
from api.facades.schemas import ProgressOut, ProgressRowOut
from cim_platform.facades import progress
from cim_platform.facades.progress import GroupBy

router = APIRouter(prefix="/api/v1/facades", tags=["facades"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ExportFormat(enum.StrEnum):
    csv = "csv"
    xlsx = "xlsx"


@router.get("/progress", response_model=ProgressOut)
def get_progress(
    caller: CallerDep,
    session: SessionDep,
    by: GroupBy = GroupBy.district,
    district: Annotated[str | None, Query(max_length=40)] = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> ProgressOut:
    """Projects by status, m² of wall, signs and lights planned and done, budget and spending."""
    rows = progress.progress(session, caller, by, district=district, year=year)
    return ProgressOut(
        group_by=by.value,
        rows=[
            ProgressRowOut(
                key=r.key,
                label=r.label,
                projects=r.projects,
                by_status=r.by_status,
                wall_m2_planned=round(r.wall_m2_planned, 2),
                wall_m2_done=round(r.wall_m2_done, 2),
                signs_planned=r.signs_planned,
                signs_done=r.signs_done,
                lights_planned=r.lights_planned,
                lights_done=r.lights_done,
                budget_cny=round(r.budget_cny, 2),
                spent_cny=round(r.spent_cny, 2),
            )
            for r in rows
        ],
    )


@router.get(
    "/progress/export",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, XLSX: {}}, "description": "The progress table"}},
)
def export_progress(
    caller: CallerDep,
    session: SessionDep,
    by: GroupBy = GroupBy.district,
    format: ExportFormat = ExportFormat.csv,
    district: Annotated[str | None, Query(max_length=40)] = None,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> Response:
    rows = progress.progress(session, caller, by, district=district, year=year)
    if format is ExportFormat.xlsx:
        content, media, ext = progress.to_xlsx(rows), XLSX, "xlsx"
    else:
        content, media, ext = progress.to_csv(rows), "text/csv; charset=utf-8", "csv"
    headers = {"Content-Disposition": f'attachment; filename="facades-progress-{by.value}.{ext}"'}
    return Response(content, media_type=media, headers=headers)
