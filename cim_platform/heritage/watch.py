"""Demolition watch: when a footprint layer (LOD1 buildings) is published, every listed building whose
place lies within the layer's extent but under none of its buildings raises an alert for officials.

Registered as an after-publish hook (``cim_platform.core.hooks``) when the domain loads. The layer's
footprint is the union of its buildings (a coarse outline for very large layers, which can hide a
missing building: such layers are checked less sharply). Surveys (point clouds, meshes) are not
checked: their outline says where the survey is, not whether a building stands.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cim_platform.core.access import Caller
from cim_platform.core.audit import record_change
from cim_platform.core.db.base import utcnow
from cim_platform.core.errors import Conflict, InvalidInput, NotFound
from cim_platform.core.hooks import Published, after_publish
from cim_platform.datasets.models import Dataset, DatasetKind, DatasetRevision
from cim_platform.heritage.models import Alert, Building, Status
from cim_platform.heritage.scopes import HeritageScope


@after_publish("heritage")
def watch_after_publish(session: Session, event: Published) -> None:
    dataset = session.get(Dataset, event.dataset_id)
    if dataset is None or dataset.kind != DatasetKind.footprints.value:
        return
    place = func.ST_Transform(func.coalesce(Building.outline, Building.location), 4326)
    layer = select(DatasetRevision.footprint).where(DatasetRevision.id == event.revision_id).scalar_subquery()
    query = (
        select(Building)
        .where(Building.status == Status.listed.value, Building.retired_at.is_(None))
        .where(func.coalesce(Building.outline, Building.location).is_not(None))
        .where(func.ST_Covers(func.ST_Envelope(layer), place))
        .where(~func.ST_Intersects(layer, place))
    )
    for building in session.scalars(query):
        open_alert = select(Alert.id).where(
            Alert.building_id == building.id, Alert.revision_id == event.revision_id, Alert.resolved_at.is_(None)
        )
        if session.scalar(open_alert) is not None:
            continue
        alert = Alert(
            id=uuid.uuid4(),
            building_id=building.id,
            dataset_id=event.dataset_id,
            revision_id=event.revision_id,
            detail=f"the newly published footprint layer {dataset.name!r} has no building where {building.code} "
            f"({building.name}) stands: demolished, moved, or missing from the survey?",
        )
        session.add(alert)
        session.flush()
        record_change(
            session,
            event.caller,
            action="heritage.alert.raised",
            object_type="heritage_building",
            object_id=str(building.id),
            before=None,
            after={"alert_id": str(alert.id), "dataset_id": str(event.dataset_id), "detail": alert.detail},
        )


def list_alerts(session: Session, caller: Caller, *, open_only: bool) -> list[Alert]:
    caller.require(HeritageScope.review)
    query = select(Alert)
    if open_only:
        query = query.where(Alert.resolved_at.is_(None))
    return list(session.scalars(query.order_by(Alert.created_at.desc(), Alert.id)))


def resolve(session: Session, caller: Caller, alert_id: uuid.UUID, resolution: str) -> Alert:
    caller.require(HeritageScope.review)
    alert = session.scalar(select(Alert).where(Alert.id == alert_id).with_for_update())
    if alert is None:
        raise NotFound(f"no alert {alert_id}", params={"id": str(alert_id)})
    if alert.resolved_at is not None:
        raise Conflict("the alert is already resolved")
    if not resolution.strip():
        raise InvalidInput("say how the alert was resolved (e.g. the site was visited: the building stands)")
    alert.resolved_at, alert.resolved_by_name, alert.resolution = utcnow(), caller.username, resolution.strip()
    session.flush()
    record_change(
        session,
        caller,
        action="heritage.alert.resolved",
        object_type="heritage_building",
        object_id=str(alert.building_id),
        before={"alert_id": str(alert.id), "resolved_at": None},
        after={"alert_id": str(alert.id), "resolution": alert.resolution},
    )
    return alert
