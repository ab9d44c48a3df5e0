"""CIM levels and the mapping from a dataset's source kind and LOD to its level.

The levels (coded values 1…7, shown as CIM1…CIM7) follow the Chinese CIM basic-platform guide's model
levels:

====  ===================================  ==============================================
code  level                                what it is
====  ===================================  ==============================================
1     CIM1 ground surface model 地表模型     terrain, orthophoto: the ground itself
2     CIM2 frame model 框架模型              LOD1 block models: extruded footprints
3     CIM3 standard model 标准模型           roof shapes, real-scene 3D (point clouds, oblique meshes)
4     CIM4 fine model 精细模型               facades and details
5     CIM5 functional model 功能模型         interior spaces and functions
6     CIM6 component model 构件模型          BIM models with their building elements
7     CIM7 part model 零件模型               parts of elements (fabrication detail)
====  ===================================  ==============================================

Default mapping (seeded by migration 0007, editable by officials through
``PUT /api/v1/coverage/levels/{kind}/{lod}``); ``lod`` ``*`` matches any LOD of the kind, an exact LOD
wins over ``*``, and a kind with no mapping at all counts as CIM1 (it covers the ground at least):

==========  =====  =====  ===================================================================
kind        LOD    level  why
==========  =====  =====  ===================================================================
footprints  \\*     CIM2   LOD1 extruded building footprints
footprints  LOD2   CIM3   roof shapes (CityJSON LOD2)
pointcloud  \\*     CIM3   survey point clouds (real-scene 3D)
mesh        \\*     CIM3   oblique photogrammetry and scan meshes (real-scene 3D)
ifc         \\*     CIM6   BIM models with their elements
==========  =====  =====  ===================================================================
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cim_platform.core.access import Caller
from cim_platform.core.audit import record_change
from cim_platform.core.db.base import utcnow
from cim_platform.core.errors import InvalidInput, NotFound
from cim_platform.coverage.models import LevelMapping
from cim_platform.coverage.scopes import CoverageScope

LEVELS: dict[int, str] = {
    1: "ground surface model 地表模型",
    2: "frame model 框架模型",
    3: "standard model 标准模型",
    4: "fine model 精细模型",
    5: "functional model 功能模型",
    6: "component model 构件模型",
    7: "part model 零件模型",
}
ANY_LOD = "*"
UNMAPPED_LEVEL = 1

# the SQL expression of a dataset's level (``d`` is the datasets row), used by the computation
LEVEL_SQL = (
    "COALESCE((SELECT m.level FROM coverage_level_mappings m WHERE m.kind = d.kind AND m.lod = d.lod), "
    "(SELECT m.level FROM coverage_level_mappings m WHERE m.kind = d.kind AND m.lod = '*'), "
    f"{UNMAPPED_LEVEL})"
)


def level_name(level: int) -> str:
    return f"CIM{level}"


def parse_level(value: str | int | None) -> int:
    """``3``, ``"3"`` or ``"CIM3"`` → 3; None → 1 (everything counts)."""
    if value is None or value == "":
        return 1
    text = str(value).strip().upper().removeprefix("CIM")
    if not text.isdigit() or int(text) not in LEVELS:
        raise InvalidInput("level must be CIM1 … CIM7 (or 1 … 7)", params={"level": str(value)})
    return int(text)


def list_mappings(session: Session) -> list[LevelMapping]:
    return list(session.scalars(select(LevelMapping).order_by(LevelMapping.kind, LevelMapping.lod)))


def _row(mapping: LevelMapping) -> dict[str, Any]:
    return {"kind": mapping.kind, "lod": mapping.lod, "level": mapping.level, "note": mapping.note}


def set_mapping(session: Session, caller: Caller, kind: str, lod: str, level: int, note: str = "") -> LevelMapping:
    caller.require(CoverageScope.admin)
    if not kind or len(kind) > 16 or not lod or len(lod) > 16:
        raise InvalidInput("kind and lod must be 1 to 16 characters ('*' for any LOD)")
    mapping = session.get(LevelMapping, (kind, lod))
    before = _row(mapping) if mapping else None
    if mapping is None:
        mapping = LevelMapping(kind=kind, lod=lod, level=level, note=note)
        session.add(mapping)
    mapping.level, mapping.note = level, note
    mapping.updated_by, mapping.updated_at = caller.user_id, utcnow()
    session.flush()
    record_change(
        session,
        caller,
        action="coverage.level_mapping.set",
        object_type="coverage_level_mapping",
        object_id=f"{kind}/{lod}",
        before=before,
        after=_row(mapping),
    )
    return mapping


def delete_mapping(session: Session, caller: Caller, kind: str, lod: str) -> None:
    caller.require(CoverageScope.admin)
    mapping = session.get(LevelMapping, (kind, lod))
    if mapping is None:
        raise NotFound(f"no CIM-level mapping for {kind}/{lod}")
    before = _row(mapping)
    session.delete(mapping)
    session.flush()
    record_change(
        session,
        caller,
        action="coverage.level_mapping.deleted",
        object_type="coverage_level_mapping",
        object_id=f"{kind}/{lod}",
        before=before,
        after=None,
    )
