"""Groups of historic buildings: one record per building, each linked to its group (``group_id``)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from cim_platform.core.access import Caller
from cim_platform.core.audit import fields_of, record_change
from cim_platform.core.errors import NotFound
from cim_platform.heritage.errors import DuplicateCode
from cim_platform.heritage.models import Building, BuildingGroup
from cim_platform.heritage.scopes import HeritageScope


def create_group(session: Session, caller: Caller, *, name: str, code: str | None, description: str) -> BuildingGroup:
    caller.require(HeritageScope.write)
    if code and session.scalar(select(BuildingGroup.id).where(BuildingGroup.code == code)) is not None:
        raise DuplicateCode(f"another group has the code {code!r}", params={"code": code})
    group = BuildingGroup(
        id=uuid.uuid4(), name=name, code=code or None, description=description, created_by=caller.user_id
    )
    session.add(group)
    session.flush()
    record_change(
        session,
        caller,
        action="heritage.group.created",
        object_type="heritage_group",
        object_id=str(group.id),
        before=None,
        after=fields_of(group, "id", "name", "code", "description"),
    )
    return group


def list_groups(session: Session) -> list[BuildingGroup]:
    return list(session.scalars(select(BuildingGroup).order_by(BuildingGroup.name)))


def get_group(session: Session, group_id: uuid.UUID) -> BuildingGroup:
    group = session.get(BuildingGroup, group_id)
    if group is None:
        raise NotFound(f"no group {group_id}", params={"id": str(group_id)})
    return group


def members(session: Session, group_id: uuid.UUID, *, public_only: bool) -> list[Building]:
    query = select(Building).where(Building.group_id == group_id, Building.retired_at.is_(None))
    if public_only:
        query = query.where(Building.status == "listed")
    return list(session.scalars(query.order_by(Building.code)))
