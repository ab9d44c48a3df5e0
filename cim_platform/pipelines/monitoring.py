"""Monitoring devices on segments and points, their readings (posted with a device organisation's token), and the
smart-monitoring rate: length of pipelines with at least one active device ÷ total length, per category,
district and city, against a target (15 % unless officials set another), with its history.

A segment counts as monitored when an active device sits on it or on one of its two end points. Rates are city
statistics: they count every published pipelines dataset, whoever may see its details.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import false, func, insert, or_, select, text
from sqlalchemy.orm import Session

from cim_platform.accounts.models import Organization
from cim_platform.core.access import Caller
from cim_platform.core.audit import record_change
from cim_platform.core.db.base import utcnow
from cim_platform.core.errors import Forbidden, InvalidInput, NotFound
from cim_platform.datasets.models import Dataset, DatasetKind
from cim_platform.pipelines import PipelineScope
from cim_platform.pipelines.errors import DuplicateDevice, InvalidDeviceToken, UnknownFeature
from cim_platform.pipelines.models import (
    Device,
    DeviceKind,
    DeviceState,
    DeviceToken,
    MonitoringTarget,
    Point,
    RateSnapshot,
    Reading,
    Segment,
)

DEFAULT_TARGET = 0.15
TOKEN_PREFIX = "cimdev_"  # noqa: S105 (a prefix, not a secret)
MAX_READINGS_PER_POST = 1000
CITY = "city"
ALL = "*"


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_device_token(session: Session, caller: Caller, organization_id: uuid.UUID, name: str
                        ) -> tuple[str, DeviceToken]:
    """A new token for a device organisation (shown once)."""
    caller.require(PipelineScope.admin)
    _organization(session, organization_id)
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = DeviceToken(id=uuid.uuid4(), organization_id=organization_id, name=name[:200],
                        token_sha256=_sha(plaintext), created_by=caller.user_id)
    session.add(token)
    session.flush()
    record_change(session, caller, action="pipelines.device_token.created", object_type="pipeline_device_token",
                  object_id=str(token.id), before=None, after={"organization_id": str(organization_id), "name": name})
    return plaintext, token


def _organization(session: Session, organization_id: uuid.UUID) -> None:
    if session.get(Organization, organization_id) is None:
        raise NotFound(f"no organisation {organization_id}", params={"id": str(organization_id)})


def organization_of(session: Session, token: str | None) -> uuid.UUID:
    if not token or not token.startswith(TOKEN_PREFIX):
        raise InvalidDeviceToken("posting readings needs a device token (header X-Device-Token: cimdev_…)")
    row = session.scalar(select(DeviceToken).where(DeviceToken.token_sha256 == _sha(token),
                                                   DeviceToken.revoked_at.is_(None)))
    if row is None:
        raise InvalidDeviceToken("unknown or revoked device token")
    return row.organization_id


def _dataset(session: Session, caller: Caller, dataset_id: uuid.UUID) -> Dataset:
    dataset = session.get(Dataset, dataset_id)
    if dataset is None or dataset.kind != DatasetKind.pipelines.value:
        raise NotFound(f"no pipelines dataset {dataset_id}", params={"id": str(dataset_id)})
    caller.check_visible(dataset.organization_id, public=dataset.visibility == "public", what="pipelines dataset")
    return dataset


def create_device(session: Session, caller: Caller, *, code: str, kind: str, dataset_id: uuid.UUID,
                  segment_code: str | None, point_code: str | None, unit: str = "",
                  state: str = DeviceState.active.value, organization_id: uuid.UUID | None = None) -> Device:
    caller.require(PipelineScope.write)
    if kind not in DeviceKind.__members__:
        raise InvalidInput(f"unknown device kind {kind!r}; expected one of {', '.join(DeviceKind)}")
    if state not in DeviceState.__members__:
        raise InvalidInput(f"unknown device state {state!r}; expected active or offline")
    if (segment_code is None) == (point_code is None):
        raise InvalidInput("a device sits on exactly one segment (segment_code) or one point (point_code)")
    _dataset(session, caller, dataset_id)
    model, value = (Segment, segment_code) if segment_code is not None else (Point, point_code)
    if session.scalar(select(model.id).where(model.dataset_id == dataset_id, model.code == value)) is None:
        raise UnknownFeature(f"the dataset's registry has no {'segment' if model is Segment else 'point'} {value}",
                             params={"code": str(value)})
    if session.scalar(select(Device.id).where(Device.code == code)) is not None:
        raise DuplicateDevice(f"a device {code} exists already", params={"code": code})
    owner = organization_id or caller.organization_id
    if owner is None:
        raise InvalidInput("give the device's organisation (organization_id)")
    if owner != caller.organization_id and not caller.reads_everything():
        raise Forbidden("devices of another organisation are registered by officials")
    _organization(session, owner)
    device = Device(id=uuid.uuid4(), code=code, kind=kind, state=state, unit=unit, organization_id=owner,
                    dataset_id=dataset_id, segment_code=segment_code, point_code=point_code, created_by=caller.user_id)
    session.add(device)
    session.flush()
    record_change(session, caller, action="pipelines.device.created", object_type="pipeline_device",
                  object_id=str(device.id), before=None,
                  after={"code": code, "kind": kind, "state": state, "segment_code": segment_code,
                         "point_code": point_code, "dataset_id": str(dataset_id)})
    take_snapshot(session, "device")
    return device


def get_device(session: Session, caller: Caller, device_id: uuid.UUID) -> Device:
    caller.require(PipelineScope.read)
    device = session.get(Device, device_id)
    if device is None:
        raise NotFound(f"no device {device_id}", params={"id": str(device_id)})
    _dataset(session, caller, device.dataset_id)
    return device


def set_state(session: Session, caller: Caller, device_id: uuid.UUID, state: str) -> Device:
    caller.require(PipelineScope.write)
    device = get_device(session, caller, device_id)
    if device.organization_id != caller.organization_id and not caller.reads_everything():
        raise Forbidden("this device belongs to another organisation")
    if state not in DeviceState.__members__:
        raise InvalidInput(f"unknown device state {state!r}; expected active or offline")
    before = device.state
    device.state = state
    session.flush()
    record_change(session, caller, action="pipelines.device.state", object_type="pipeline_device",
                  object_id=str(device.id), before={"state": before}, after={"state": state})
    take_snapshot(session, "device")
    return device


@dataclass(frozen=True)
class ReadingIn:
    device: str
    value: float
    measured_at: datetime | None = None


def post_readings(session: Session, organization_id: uuid.UUID, readings: list[ReadingIn]) -> int:
    """Store readings of the organisation's devices; a device that reports is active again."""
    if not readings or len(readings) > MAX_READINGS_PER_POST:
        raise InvalidInput(f"post 1 to {MAX_READINGS_PER_POST} readings at a time")
    codes = {r.device for r in readings}
    devices = {d.code: d for d in session.scalars(select(Device).where(Device.code.in_(codes)))}
    foreign = sorted(c for c in codes if c not in devices or devices[c].organization_id != organization_id)
    if foreign:
        raise UnknownFeature(f"no devices of this organisation: {', '.join(foreign[:5])}",
                             params={"codes": ", ".join(foreign[:20])})
    now = utcnow()
    rows = [{"device_id": devices[r.device].id, "measured_at": r.measured_at or now, "value": r.value}
            for r in readings]
    session.execute(insert(Reading), rows)
    woke = False
    for code in codes:
        device = devices[code]
        latest = max((r.measured_at or now) for r in readings if r.device == code)
        device.last_reading_at = max(device.last_reading_at or latest, latest)
        if device.state != DeviceState.active.value:
            device.state, woke = DeviceState.active.value, True
    session.flush()
    if woke:
        take_snapshot(session, "reading")
    return len(rows)


@dataclass
class DeviceView:
    device: Device
    latest: list[tuple[datetime, float]] = field(default_factory=list)


def devices(session: Session, caller: Caller, *, dataset_id: uuid.UUID | None = None, segment_code: str | None = None,
            point_codes: list[str] | None = None, history: int = 10) -> list[DeviceView]:
    """Devices (of datasets the caller can see) with their latest readings, newest first."""
    caller.require(PipelineScope.read)
    query = select(Device).join(Dataset, Dataset.id == Device.dataset_id)
    if not caller.reads_everything():
        query = query.where((Dataset.visibility == "public") | (Dataset.organization_id == caller.organization_id))
    if dataset_id is not None:
        query = query.where(Device.dataset_id == dataset_id)
    if segment_code is not None or point_codes:
        query = query.where(or_(Device.segment_code == segment_code if segment_code is not None else false(),
                                Device.point_code.in_(point_codes) if point_codes else false()))
    out = []
    for device in session.scalars(query.order_by(Device.code)):
        rows = session.execute(select(Reading.measured_at, Reading.value).where(Reading.device_id == device.id)
                               .order_by(Reading.measured_at.desc()).limit(max(1, min(history, 500)))).all()
        out.append(DeviceView(device, [(t, v) for t, v in rows]))
    return out


@dataclass(frozen=True)
class Rate:
    unit: str  # city or a district code
    category: str  # * or a category
    monitored_m: float
    total_m: float

    @property
    def rate(self) -> float:
        return self.monitored_m / self.total_m if self.total_m else 0.0


RATE_SQL = """
SELECT s.category, s.district_code, sum(s.length_m) AS total,
       sum(CASE WHEN EXISTS (
             SELECT 1 FROM pipeline_devices d
             WHERE d.dataset_id = s.dataset_id AND d.state = 'active'
               AND (d.segment_code = s.code OR d.point_code IN (s.start_code, s.end_code))
           ) THEN s.length_m ELSE 0 END) AS monitored
FROM pipeline_segments s
JOIN datasets ds ON ds.id = s.dataset_id AND ds.published_revision_id = s.revision_id
GROUP BY s.category, s.district_code
"""


def rates(session: Session) -> list[Rate]:
    """Every (unit, category) figure: the city and each district, each category and ``*`` (all)."""
    sums: dict[tuple[str, str], list[float]] = {}
    for category, district, total, monitored in session.execute(text(RATE_SQL)):
        for unit in (CITY, *( [district] if district else [])):
            for cat in (ALL, category):
                entry = sums.setdefault((unit, cat), [0.0, 0.0])
                entry[0] += float(monitored or 0.0)
                entry[1] += float(total or 0.0)
    sums.setdefault((CITY, ALL), [0.0, 0.0])
    return [Rate(unit, cat, round(m, 3), round(t, 3)) for (unit, cat), (m, t) in sorted(sums.items())]


def target(session: Session, unit: str = CITY) -> tuple[float, bool]:
    row = session.get(MonitoringTarget, unit) or (session.get(MonitoringTarget, CITY) if unit != CITY else None)
    return (row.share, False) if row else (DEFAULT_TARGET, True)


def set_target(session: Session, caller: Caller, unit: str, share: float) -> MonitoringTarget:
    caller.require(PipelineScope.admin)
    if not 0 <= share <= 1:
        raise InvalidInput("share must be within 0–1 (e.g. 0.15 for 15 %)", params={"share": share})
    if unit != CITY and session.scalar(text("SELECT 1 FROM districts WHERE code = :c"), {"c": unit}) is None:
        raise InvalidInput(f"unknown unit {unit!r}: city or a district code", params={"unit": unit})
    before, was_default = target(session, unit)
    row = session.get(MonitoringTarget, unit) or MonitoringTarget(unit=unit)
    row.share, row.updated_at, row.updated_by = share, utcnow(), caller.user_id
    session.add(row)
    session.flush()
    record_change(session, caller, action="pipelines.target.set", object_type="pipeline_monitoring_target",
                  object_id=unit, before={"share": before, "default": was_default}, after={"share": share})
    take_snapshot(session, "target")
    return row


def take_snapshot(session: Session, trigger: str) -> int:
    """Store the current rates (a point of the history); the number of rows stored."""
    now = utcnow()
    rows = [{"taken_at": now, "unit": r.unit, "category": r.category, "monitored_m": r.monitored_m,
             "total_m": r.total_m, "trigger": trigger[:40]} for r in rates(session)]
    session.execute(insert(RateSnapshot), rows)
    return len(rows)


def history(session: Session, caller: Caller, unit: str = CITY, category: str = ALL, limit: int = 200
            ) -> list[RateSnapshot]:
    caller.require(PipelineScope.read)
    query = (select(RateSnapshot).where(RateSnapshot.unit == unit, RateSnapshot.category == category)
             .order_by(RateSnapshot.taken_at.desc(), RateSnapshot.id.desc()).limit(max(1, min(limit, 2000))))
    return list(reversed(session.scalars(query).all()))


def snapshot_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(RateSnapshot)) or 0)
