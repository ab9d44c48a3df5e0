"""Underground pipelines over HTTP (issue 15): the registry, GeoPackage export, clearance checks, monitoring
devices and readings, the smart-monitoring rate and its target.

Every signed-in role reads (details of the datasets it can see); devices are registered by design institutes,
survey teams and officials; officials edit clearance rules and the target and issue device tokens. Readings are
posted by devices with their organisation's token (``X-Device-Token``), not a user's.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response
from sqlalchemy import select

from api.deps import CallerDep, EngineDep, SessionDep, SettingsDep
from api.pipelines.schemas import (
    ClearanceReport,
    DeviceCreate,
    DeviceList,
    DevicePublic,
    DeviceTokenCreate,
    DeviceTokenCreated,
    DeviceUpdate,
    HeritagePassOut,
    MonitoringReport,
    PointList,
    PointPublic,
    RateHistory,
    RateOut,
    RatePoint,
    ReadingOut,
    ReadingsIn,
    ReadingsStored,
    RefreshQueued,
    RuleList,
    RulePublic,
    RuleUpdate,
    SegmentBrief,
    SegmentDetail,
    SegmentList,
    SegmentPublic,
    TargetOut,
    TargetUpdate,
    ViolationOut,
)
from cim_platform.core.errors import InvalidInput, NotFound
from cim_platform.core.jobs import service as jobs
from cim_platform.datasets import service as datasets
from cim_platform.datasets.models import DatasetKind
from cim_platform.pipelines import PipelineScope, clearance, monitoring, registry
from cim_platform.pipelines.jobs import REGISTRY_TASK
from cim_platform.pipelines.models import Point, Segment

router = APIRouter(prefix="/api/v1/pipelines", tags=["pipelines"])
RATE_DEFINITION = ("length of pipelines with at least one active device on the segment or one of its end points ÷ "
                   "total length of the published pipelines")
Bbox = Annotated[str | None, Query(description="west,south,east,north in degrees (EPSG:4490)")]


def _filters(category: str | None, district: str | None, owner: str | None, material: str | None,
             min_age: int | None, max_age: int | None, bbox: str | None, dataset: uuid.UUID | None,
             code: str | None) -> registry.Filters:
    box = None
    if bbox:
        try:
            west, south, east, north = (float(v) for v in bbox.split(","))
        except ValueError:
            raise InvalidInput("bbox must be four numbers: west,south,east,north") from None
        box = (west, south, east, north)
    return registry.Filters(category, district, owner, material, min_age, max_age, box, dataset, code)


def _segment(segment: Segment, coords: list[list[float]]) -> SegmentPublic:
    return SegmentPublic(
        id=segment.id, dataset_id=segment.dataset_id, code=segment.code, start_code=segment.start_code,
        end_code=segment.end_code, category=segment.category, round=segment.round, diameter_mm=segment.diameter_mm,
        width_mm=segment.width_mm, height_mm=segment.height_mm, material=segment.material,
        pressure=segment.pressure, voltage=segment.voltage, laying=segment.laying, ducts=segment.ducts,
        owner=segment.owner, construction_year=segment.construction_year, survey_date=segment.survey_date,
        start_depth=segment.start_depth, end_depth=segment.end_depth, length_m=segment.length_m,
        district=segment.district_code, attributes=segment.attributes or {}, coordinates=coords)


def _point(point: Point, coords: list[list[float]]) -> PointPublic:
    return PointPublic(
        id=point.id, dataset_id=point.dataset_id, code=point.code, category=point.category, feature=point.feature,
        ground_elevation=point.ground_elevation, depth=point.depth, manhole_size_m=point.manhole_size_m,
        owner=point.owner, district=point.district_code, attributes=point.attributes or {}, coordinates=coords[0])


def _device(view: monitoring.DeviceView) -> DevicePublic:
    d = view.device
    return DevicePublic(id=d.id, code=d.code, kind=d.kind, state=d.state, unit=d.unit,
                        organization_id=d.organization_id, dataset_id=d.dataset_id, segment_code=d.segment_code,
                        point_code=d.point_code, last_reading_at=d.last_reading_at,
                        readings=[ReadingOut(measured_at=t, value=v) for t, v in view.latest])


@router.get("/segments", response_model=SegmentList, name="list_pipeline_segments")
def list_segments(
    caller: CallerDep, session: SessionDep, category: str | None = None, district: str | None = None,
    owner: str | None = None, material: str | None = None,
    min_age: Annotated[int | None, Query(ge=0, le=200, description="built at least this many years ago")] = None,
    max_age: Annotated[int | None, Query(ge=0, le=200)] = None, bbox: Bbox = None, dataset: uuid.UUID | None = None,
    code: str | None = None, limit: Annotated[int, Query(ge=1, le=registry.MAX_LIMIT)] = 500,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> SegmentList:
    """Segments of the published pipelines datasets the caller can see; ``category=drainage`` takes all three."""
    filters = _filters(category, district, owner, material, min_age, max_age, bbox, dataset, code)
    rows, total, length = registry.segments(session, caller, filters, limit, offset)
    coords = registry.coordinates(session, rows)
    return SegmentList(total=total, length_m=round(length, 3),
                       items=[_segment(r, c) for r, c in zip(rows, coords, strict=True)])


@router.get("/segments/{segment_id}", response_model=SegmentDetail)
def get_segment(segment_id: uuid.UUID, caller: CallerDep, session: SessionDep) -> SegmentDetail:
    """One segment with its devices (on it or on its end points) and their latest readings."""
    query = registry.visible(select(Segment), caller, Segment.dataset_id).where(Segment.id == segment_id)
    segment = session.scalar(query)
    if segment is None:
        raise NotFound(f"no pipeline segment {segment_id}", params={"id": str(segment_id)})
    views = monitoring.devices(session, caller, dataset_id=segment.dataset_id, segment_code=segment.code,
                               point_codes=[segment.start_code, segment.end_code])
    base = _segment(segment, registry.coordinates(session, [segment])[0])
    return SegmentDetail(**base.model_dump(), devices=[_device(v) for v in views])


@router.get("/points", response_model=PointList)
def list_points(
    caller: CallerDep, session: SessionDep, category: str | None = None, district: str | None = None,
    owner: str | None = None, bbox: Bbox = None, dataset: uuid.UUID | None = None, code: str | None = None,
    limit: Annotated[int, Query(ge=1, le=registry.MAX_LIMIT)] = 500, offset: Annotated[int, Query(ge=0)] = 0,
) -> PointList:
    filters = _filters(category, district, owner, None, None, None, bbox, dataset, code)
    rows, total = registry.points(session, caller, filters, limit, offset)
    coords = registry.coordinates(session, rows)
    return PointList(total=total, items=[_point(r, c) for r, c in zip(rows, coords, strict=True)])


@router.get("/export.gpkg", response_class=Response,
            responses={200: {"content": {"application/geopackage+sqlite3": {}}, "description": "GeoPackage"}})
def export_geopackage(
    caller: CallerDep, session: SessionDep, category: str | None = None, district: str | None = None,
    owner: str | None = None, material: str | None = None, min_age: Annotated[int | None, Query(ge=0)] = None,
    max_age: Annotated[int | None, Query(ge=0)] = None, bbox: Bbox = None, dataset: uuid.UUID | None = None,
) -> Response:
    """The matching segments and points (layers ``segments`` and ``points``, EPSG:4490 with 1985 heights)."""
    filters = _filters(category, district, owner, material, min_age, max_age, bbox, dataset, None)
    data = registry.export_geopackage(session, caller, filters)
    return Response(data, media_type="application/geopackage+sqlite3",
                    headers={"Content-Disposition": 'attachment; filename="pipelines.gpkg"'})


@router.post("/registry/{dataset_id}/refresh", status_code=202, response_model=RefreshQueued)
def refresh_registry(dataset_id: uuid.UUID, request: Request, caller: CallerDep, session: SessionDep,
                     settings: SettingsDep, engine: EngineDep) -> RefreshQueued:
    """Read the published revision's tables again into the registry now (owners of the dataset)."""
    caller.require(PipelineScope.write)
    dataset = datasets.get_managed_dataset(session, caller, dataset_id)
    if dataset.kind != DatasetKind.pipelines.value:
        raise InvalidInput("this dataset holds no pipeline survey tables")
    job_id = jobs.submit(settings, engine, REGISTRY_TASK, {"dataset_id": str(dataset_id)},
                         organization_id=dataset.organization_id, user_id=caller.user_id)
    return RefreshQueued(job_id=job_id, href=str(request.app.url_path_for("get_job", job_id=str(job_id))))


def _brief(segment: Segment) -> SegmentBrief:
    return SegmentBrief(id=segment.id, dataset_id=segment.dataset_id, code=segment.code, category=segment.category,
                        owner=segment.owner)


@router.get("/clearance", response_model=ClearanceReport)
def check_clearance(caller: CallerDep, session: SessionDep, district: str | None = None,
                    dataset: uuid.UUID | None = None) -> ClearanceReport:
    """Pairs of pipes closer than the minimum clearance (both segments, the distance and where), and pipes under a
    listed historic building's protection range."""
    violations, passes = clearance.check(session, caller, district, dataset)
    ids = {v.segment_a for v in violations} | {v.segment_b for v in violations} | {p.segment for p in passes}
    by_id = {s.id: s for s in session.scalars(select(Segment).where(Segment.id.in_(ids)))} if ids else {}
    return ClearanceReport(
        rules_source=clearance.SOURCE,
        violations=[ViolationOut(kind=v.kind, required_m=v.required_m, distance_m=round(v.distance_m, 3), lon=v.lon,
                                 lat=v.lat, segment_a=_brief(by_id[v.segment_a]), segment_b=_brief(by_id[v.segment_b]))
                    for v in violations],
        heritage=[HeritagePassOut(segment=_brief(by_id[p.segment]), building_id=p.building_id,
                                  building_code=p.building_code, building_name=p.building_name,
                                  length_m=round(p.length_m, 2)) for p in passes],
    )


def _rule(rule: clearance.Rule) -> RulePublic:
    return RulePublic(group_a=rule.group_a, group_b=rule.group_b, horizontal_m=rule.horizontal_m,
                      vertical_m=rule.vertical_m, default=rule.default)


@router.get("/clearance/rules", response_model=RuleList)
def list_rules(caller: CallerDep, session: SessionDep) -> RuleList:
    caller.require(PipelineScope.read)
    return RuleList(source=clearance.SOURCE, rules=[_rule(r) for r in clearance.rules(session)])


@router.put("/clearance/rules/{group_a}/{group_b}", response_model=RulePublic)
def set_rule(group_a: str, group_b: str, body: RuleUpdate, caller: CallerDep, session: SessionDep) -> RulePublic:
    rule = clearance.set_rule(session, caller, group_a, group_b, body.horizontal_m, body.vertical_m)
    session.commit()
    return _rule(rule)


@router.post("/device-tokens", status_code=201, response_model=DeviceTokenCreated)
def create_device_token(body: DeviceTokenCreate, caller: CallerDep, session: SessionDep) -> DeviceTokenCreated:
    plaintext, token = monitoring.create_device_token(session, caller, body.organization_id, body.name)
    session.commit()
    return DeviceTokenCreated(id=token.id, organization_id=token.organization_id, name=token.name, token=plaintext)


@router.get("/devices", response_model=DeviceList)
def list_devices(caller: CallerDep, session: SessionDep, dataset: uuid.UUID | None = None,
                 segment: str | None = None, point: str | None = None,
                 history: Annotated[int, Query(ge=1, le=500)] = 10) -> DeviceList:
    views = monitoring.devices(session, caller, dataset_id=dataset, segment_code=segment,
                               point_codes=[point] if point else None, history=history)
    return DeviceList(items=[_device(v) for v in views])


@router.post("/devices", status_code=201, response_model=DevicePublic)
def create_device(body: DeviceCreate, caller: CallerDep, session: SessionDep) -> DevicePublic:
    device = monitoring.create_device(session, caller, **body.model_dump())
    session.commit()
    return _device(monitoring.DeviceView(device))


@router.get("/devices/{device_id}", response_model=DevicePublic)
def get_device(device_id: uuid.UUID, caller: CallerDep, session: SessionDep,
               history: Annotated[int, Query(ge=1, le=500)] = 50) -> DevicePublic:
    device = monitoring.get_device(session, caller, device_id)
    views = monitoring.devices(session, caller, dataset_id=device.dataset_id, segment_code=device.segment_code,
                               point_codes=[device.point_code] if device.point_code else None, history=history)
    return _device(next(v for v in views if v.device.id == device.id))


@router.patch("/devices/{device_id}", response_model=DevicePublic)
def update_device(device_id: uuid.UUID, body: DeviceUpdate, caller: CallerDep, session: SessionDep) -> DevicePublic:
    device = monitoring.set_state(session, caller, device_id, body.state)
    session.commit()
    return _device(monitoring.DeviceView(device))


@router.post("/readings", status_code=201, response_model=ReadingsStored)
def post_readings(body: ReadingsIn, session: SessionDep,
                  x_device_token: Annotated[str | None, Header()] = None) -> ReadingsStored:
    """Readings of a device organisation's devices (``X-Device-Token: cimdev_…``)."""
    organization_id = monitoring.organization_of(session, x_device_token)
    stored = monitoring.post_readings(session, organization_id, [
        monitoring.ReadingIn(r.device, r.value, r.measured_at) for r in body.readings])
    session.commit()
    return ReadingsStored(stored=stored)


def _rate(rate: monitoring.Rate) -> RateOut:
    return RateOut(unit=rate.unit, category=rate.category, monitored_m=rate.monitored_m, total_m=rate.total_m,
                   rate=round(rate.rate, 6))


@router.get("/monitoring", response_model=MonitoringReport)
def monitoring_report(caller: CallerDep, session: SessionDep) -> MonitoringReport:
    """The smart-monitoring rate of the city, per category and per district, against the target."""
    caller.require(PipelineScope.read)
    figures = monitoring.rates(session)
    city = next(r for r in figures if r.unit == monitoring.CITY and r.category == monitoring.ALL)
    share, default = monitoring.target(session)
    return MonitoringReport(
        definition=RATE_DEFINITION, target=share, target_is_default=default, on_track=city.rate >= share,
        city=_rate(city),
        categories=[_rate(r) for r in figures if r.unit == monitoring.CITY and r.category != monitoring.ALL],
        districts=[_rate(r) for r in figures if r.unit != monitoring.CITY and r.category == monitoring.ALL],
    )


@router.put("/monitoring/target", response_model=TargetOut)
def set_target(body: TargetUpdate, caller: CallerDep, session: SessionDep) -> TargetOut:
    row = monitoring.set_target(session, caller, body.unit, body.share)
    session.commit()
    return TargetOut(unit=row.unit, share=row.share)


@router.get("/monitoring/history", response_model=RateHistory)
def rate_history(caller: CallerDep, session: SessionDep, unit: str = "city", category: str = "*",
                 limit: Annotated[int, Query(ge=1, le=2000)] = 200) -> RateHistory:
    rows = monitoring.history(session, caller, unit, category, limit)
    share, _ = monitoring.target(session, unit)
    points: list[Any] = [RatePoint(taken_at=r.taken_at, monitored_m=r.monitored_m, total_m=r.total_m,
                                   rate=round(r.monitored_m / r.total_m, 6) if r.total_m else 0.0, trigger=r.trigger)
                         for r in rows]
    return RateHistory(unit=unit, category=category, target=share, points=points)
