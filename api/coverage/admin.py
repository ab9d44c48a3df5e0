"""What the coverage is computed from, under /api/v1/coverage: units (and towns), boundaries,
built-up areas, building inventories, the CIM-level mapping and the targets.

Reading units, levels and targets is public; built-up areas need signing in; every change needs
``coverage:admin`` (officials, admins) and is audited.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from api.coverage.schemas import (
    BuiltUpList,
    BuiltUpOut,
    InventoryOut,
    LevelOut,
    LevelsOut,
    MappingIn,
    MappingOut,
    TargetCreate,
    TargetList,
    TargetOut,
    TargetUpdate,
    TownCreate,
    UnitList,
    UnitOut,
)
from api.coverage.views import signed_in, target_out
from api.datasets.uploads import parse_upload
from api.deps import CallerDep, SessionDep, SettingsDep
from cim_platform.core.access import Caller
from cim_platform.core.errors import InvalidInput, PayloadTooLarge
from cim_platform.core.settings import Settings
from cim_platform.coverage import areas, levels, targets
from cim_platform.coverage.geofiles import Feature, read_polygons
from cim_platform.coverage.jobs import queue_auto_snapshot
from cim_platform.coverage.models import BuiltUpArea, CoverageUnit, LevelMapping
from cim_platform.coverage.scopes import CoverageScope

router = APIRouter(prefix="/api/v1/coverage", tags=["coverage"])
MAX_GEOMETRY_BYTES = 256 * 1024 * 1024
GEOMETRY_UPLOAD = (
    "Multipart ``file``: GeoJSON (EPSG:4326 unless ``crs`` or the file's legacy crs member says otherwise) "
    "or GeoPackage (its own CRS)."
)


def _unit_out(unit: CoverageUnit) -> UnitOut:
    return UnitOut(
        code=unit.code,
        district_code=unit.district_code,
        parent_code=unit.parent_code,
        level=unit.level,
        name=unit.name,
        name_zh=unit.name_zh,
        has_boundary=unit.boundary is not None,
    )


def _built_up_out(area: BuiltUpArea) -> BuiltUpOut:
    return BuiltUpOut(
        id=area.id,
        unit_code=area.unit_code,
        year=area.year,
        source=area.source,
        source_note=area.source_note,
        area_m2=round(area.area_m2, 2),
        geom_sha256=area.geom_sha256,
        created_at=area.created_at,
        updated_at=area.updated_at,
    )


async def _features(request: Request, settings: Settings, caller: Caller) -> tuple[list[Feature], dict[str, str]]:
    caller.require(CoverageScope.admin)  # before reading the body
    upload = await parse_upload(request, settings)
    if upload.file is None:
        raise InvalidInput("send the polygons as a multipart 'file' part")
    try:
        if upload.file.size > MAX_GEOMETRY_BYTES:
            raise PayloadTooLarge(f"a polygon file is at most {MAX_GEOMETRY_BYTES} bytes")
        content = upload.file.path.read_bytes()
        filename = upload.file.filename
    finally:
        upload.file.discard()
    fields = upload.fields
    features = await run_in_threadpool(
        read_polygons, content, filename, crs=fields.get("crs") or None, layer=fields.get("layer") or None
    )
    return features, fields


@router.get("/units", response_model=UnitList)
def list_units(session: SessionDep) -> UnitList:
    """The administrative units: the nine districts and banners, and towns with their district."""
    return UnitList(items=[_unit_out(u) for u in areas.all_units(session)])


@router.post("/units", status_code=201, response_model=UnitOut)
def create_town(body: TownCreate, caller: CallerDep, session: SessionDep) -> UnitOut:
    """A town as a unit of its own inside a district or banner."""
    unit = areas.add_town(session, caller, body.code, body.parent, body.name, body.name_zh)
    session.commit()
    return _unit_out(unit)


@router.put("/units/{unit}/boundary", response_model=UnitOut)
async def set_unit_boundary(
    unit: str, request: Request, caller: CallerDep, session: SessionDep, settings: SettingsDep
) -> UnitOut:
    """The unit's boundary (polygons merged). Form fields: ``source``, ``crs``, ``layer``."""
    features, fields = await _features(request, settings, caller)
    target = areas.set_boundary(session, caller, features, unit, fields.get("source", ""))
    session.commit()
    return _unit_out(target)


@router.get("/built-up", response_model=BuiltUpList)
def list_built_up(
    caller: CallerDep,
    session: SessionDep,
    unit: Annotated[str | None, Query(max_length=80)] = None,
    year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
) -> BuiltUpList:
    """The built-up areas per unit and year (without geometry: see ``/coverage/map``)."""
    signed_in(caller)
    query = select(BuiltUpArea).order_by(BuiltUpArea.unit_code, BuiltUpArea.year)
    if unit:
        query = query.where(BuiltUpArea.unit_code == areas.find_unit(session, unit).code)
    if year is not None:
        query = query.where(BuiltUpArea.year == year)
    return BuiltUpList(items=[_built_up_out(a) for a in session.scalars(query)])


@router.post("/built-up", status_code=201, response_model=BuiltUpList)
async def load_built_up(request: Request, caller: CallerDep, session: SessionDep, settings: SettingsDep) -> BuiltUpList:
    """Load built-up areas (replacing a unit's area of the same year). Form fields: ``source``
    (yearbook, land_survey, city_checkup, demo, other), ``unit`` and ``year`` for the whole file (else
    each feature's ``unit`` and ``year`` properties), ``note``, ``crs``, ``layer``. Queues a
    (debounced) snapshot."""
    features, fields = await _features(request, settings, caller)
    year = fields.get("year")
    if year is not None and not year.strip().isdigit():
        raise InvalidInput("year must be a number", params={"year": year})
    stored = areas.load_built_up(
        session,
        caller,
        features,
        unit=fields.get("unit") or None,
        year=int(year) if year else None,
        source=fields.get("source", "other"),
        note=fields.get("note", ""),
    )
    job = queue_auto_snapshot(session, "built_up")
    session.commit()
    return BuiltUpList(items=[_built_up_out(a) for a in stored], snapshot_job=job.id if job else None)


@router.delete("/built-up/{unit}/{year}", status_code=204, response_class=Response)
def delete_built_up(unit: str, year: int, caller: CallerDep, session: SessionDep) -> Response:
    areas.delete_built_up(session, caller, unit, year)
    queue_auto_snapshot(session, "built_up")
    session.commit()
    return Response(status_code=204)


@router.put("/units/{unit}/inventory", response_model=InventoryOut)
async def load_inventory(
    unit: str, request: Request, caller: CallerDep, session: SessionDep, settings: SettingsDep
) -> InventoryOut:
    """Replace the unit's building inventory (each polygon one building) for the count coverage.
    Form fields: ``source``, ``crs``, ``layer``."""
    features, fields = await _features(request, settings, caller)
    code = areas.find_unit(session, unit).code
    count = areas.load_inventory(session, caller, features, code, fields.get("source", "other"))
    session.commit()
    return InventoryOut(unit_code=code, buildings=count)


def _mapping_out(mapping: LevelMapping) -> MappingOut:
    return MappingOut(
        kind=mapping.kind,
        lod=mapping.lod,
        level=mapping.level,
        level_name=levels.level_name(mapping.level),
        note=mapping.note,
    )


@router.get("/levels", response_model=LevelsOut)
def list_levels(session: SessionDep) -> LevelsOut:
    """The CIM levels and the mapping from source kind and LOD to level (``*``: any LOD)."""
    return LevelsOut(
        levels=[LevelOut(code=c, name=levels.level_name(c), description=d) for c, d in levels.LEVELS.items()],
        mappings=[_mapping_out(m) for m in levels.list_mappings(session)],
        unmapped_level=levels.UNMAPPED_LEVEL,
    )


@router.put("/levels/{kind}/{lod}", response_model=MappingOut)
def set_level_mapping(kind: str, lod: str, body: MappingIn, caller: CallerDep, session: SessionDep) -> MappingOut:
    mapping = levels.set_mapping(session, caller, kind, lod, body.level, body.note)
    session.commit()
    return _mapping_out(mapping)


@router.delete("/levels/{kind}/{lod}", status_code=204, response_class=Response)
def delete_level_mapping(kind: str, lod: str, caller: CallerDep, session: SessionDep) -> Response:
    levels.delete_mapping(session, caller, kind, lod)
    session.commit()
    return Response(status_code=204)


@router.get("/targets", response_model=TargetList)
def list_targets(
    session: SessionDep, settings: SettingsDep, unit: Annotated[str | None, Query(max_length=80)] = None
) -> TargetList:
    """Targets with where the history stands (reached when, on track, behind, missed)."""
    return TargetList(items=[target_out(session, settings, t) for t in targets.list_targets(session, unit)])


@router.post("/targets", status_code=201, response_model=TargetOut)
def create_target(body: TargetCreate, caller: CallerDep, session: SessionDep, settings: SettingsDep) -> TargetOut:
    target = targets.create_target(
        session,
        caller,
        unit=body.unit,
        due_date=body.due_date,
        share=body.share,
        min_level=body.min_level,
        note=body.note,
    )
    session.commit()
    return target_out(session, settings, target)


@router.get("/targets/{target_id}", response_model=TargetOut)
def get_target(target_id: uuid.UUID, session: SessionDep, settings: SettingsDep) -> TargetOut:
    return target_out(session, settings, targets.get_target(session, target_id))


@router.patch("/targets/{target_id}", response_model=TargetOut)
def update_target(
    target_id: uuid.UUID, body: TargetUpdate, caller: CallerDep, session: SessionDep, settings: SettingsDep
) -> TargetOut:
    caller.require(CoverageScope.admin)
    target = targets.update_target(
        session, caller, targets.get_target(session, target_id), body.model_dump(exclude_unset=True)
    )
    session.commit()
    return target_out(session, settings, target)


@router.delete("/targets/{target_id}", status_code=204, response_class=Response)
def delete_target(target_id: uuid.UUID, caller: CallerDep, session: SessionDep) -> Response:
    caller.require(CoverageScope.admin)
    targets.delete_target(session, caller, targets.get_target(session, target_id))
    session.commit()
    return Response(status_code=204)
