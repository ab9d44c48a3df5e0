"""The demolition watch's alerts, for officials and admins."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from api.deps import CallerDep, SessionDep
from api.heritage.http import HeritageRoute
from api.heritage.schemas import AlertList, AlertOut, Resolution
from cim_platform.heritage import watch
from cim_platform.heritage.models import Alert

router = APIRouter(prefix="/api/v1/heritage", tags=["heritage"], route_class=HeritageRoute)


def _view(alert: Alert) -> AlertOut:
    return AlertOut(
        id=alert.id,
        building_id=alert.building_id,
        kind=alert.kind,
        dataset_id=alert.dataset_id,
        revision_id=alert.revision_id,
        detail=alert.detail,
        created_at=alert.created_at,
        resolved_at=alert.resolved_at,
        resolved_by=alert.resolved_by_name,
        resolution=alert.resolution,
    )


@router.get("/alerts", response_model=AlertList)
def list_alerts(caller: CallerDep, session: SessionDep, open_only: bool = True) -> AlertList:
    """Listed buildings missing from a newly published footprint layer (newest first)."""
    return AlertList(alerts=[_view(a) for a in watch.list_alerts(session, caller, open_only=open_only)])


@router.post("/alerts/{alert_id}/resolve", response_model=AlertOut)
def resolve_alert(alert_id: uuid.UUID, body: Resolution, caller: CallerDep, session: SessionDep) -> AlertOut:
    alert = watch.resolve(session, caller, alert_id, body.resolution)
    session.commit()
    return _view(alert)
