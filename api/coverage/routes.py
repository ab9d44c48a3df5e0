"""Coverage routes under /api/v1/coverage."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from api.coverage.schemas import UnitList, UnitOut
from api.deps import SessionDep
from cim_platform.coverage.models import CoverageUnit

router = APIRouter(prefix="/api/v1/coverage", tags=["coverage"])


@router.get("/units", response_model=UnitList)
def list_units(session: SessionDep) -> UnitList:
    """The administrative units: nine districts and banners, and towns with their district."""
    units = session.scalars(select(CoverageUnit).order_by(CoverageUnit.code)).all()
    return UnitList(
        items=[
            UnitOut(
                code=u.code,
                district_code=u.district_code,
                parent_code=u.parent_code,
                level=u.level,
                name=u.name,
                name_zh=u.name_zh,
                has_boundary=u.boundary is not None,
            )
            for u in units
        ]
    )
