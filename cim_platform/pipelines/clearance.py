"""Clearance checks in PostGIS: between pipes of different category groups, horizontal (outer wall to outer wall,
for pipes that do not cross in plan) and vertical (at a crossing in plan, outer wall to outer wall) distances
against a table of minimum clearances (horizontal ones apply to pipes laid side by side, within 30 degrees);
and pipes passing under a listed historic building's protection range.

The defaults follow GB 50289-2016 (urban engineering pipeline planning), Tables 4.1.9 and 4.1.14, with one
value per pair of groups (the code distinguishes pressures and diameters; the stricter common value is used);
officials override any pair. Distances are measured in the CGCS2000 3-degree Gauss-Krüger zone of each pipe.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from cim_platform.core.access import Caller
from cim_platform.core.audit import record_change
from cim_platform.core.db.base import utcnow
from cim_platform.core.errors import InvalidInput
from cim_platform.pipelines import PipelineScope
from cim_platform.pipelines.models import ClearanceRule

GROUPS = ("water_supply", "drainage", "gas", "heating", "power", "telecom", "industrial", "utility_tunnel", "other")
SOURCE = "GB 50289-2016 Tables 4.1.9 and 4.1.14 (one value per pair of groups)"
_H = {
    ("drainage", "water_supply"): 1.0, ("gas", "water_supply"): 0.5, ("heating", "water_supply"): 1.5,
    ("power", "water_supply"): 0.5, ("telecom", "water_supply"): 1.0, ("drainage", "gas"): 1.0,
    ("drainage", "heating"): 1.5, ("drainage", "power"): 0.5, ("drainage", "telecom"): 1.0,
    ("gas", "heating"): 1.0, ("gas", "power"): 0.5, ("gas", "telecom"): 0.5, ("heating", "power"): 2.0,
    ("heating", "telecom"): 1.0, ("power", "telecom"): 0.5,
}
_V = {
    ("drainage", "water_supply"): 0.4, ("drainage", "power"): 0.25, ("heating", "power"): 0.25,
    ("heating", "telecom"): 0.25, ("power", "telecom"): 0.25,
}
MAX_RESULTS = 2000
TOUCH_M = 0.001  # closer in plan than this: the pipes cross (or meet) and the vertical clearance applies
PARALLEL_COS = 0.866  # within 30 degrees: laid side by side, the horizontal clearance applies
SEARCH_DEGREES = 1e-4  # ~8.5 m east-west, 11 m north-south at Ordos: beyond any clearance in the table


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a <= b else (b, a)


def default_rules() -> dict[tuple[str, str], tuple[float, float]]:
    rules = {}
    for i, a in enumerate(GROUPS):
        for b in GROUPS[i + 1:]:
            key = _pair(a, b)
            horizontal = _H.get(key, 1.5 if "industrial" in key else 1.0 if "utility_tunnel" in key else 0.5)
            vertical = _V.get(key, 0.5 if "utility_tunnel" in key else 0.15)
            rules[key] = (horizontal, vertical)
    return rules


@dataclass(frozen=True)
class Rule:
    group_a: str
    group_b: str
    horizontal_m: float
    vertical_m: float
    default: bool


def rules(session: Session) -> list[Rule]:
    table = {key: Rule(*key, h, v, True) for key, (h, v) in default_rules().items()}
    for row in session.scalars(select(ClearanceRule)):
        table[(row.group_a, row.group_b)] = Rule(row.group_a, row.group_b, row.horizontal_m, row.vertical_m, False)
    return sorted(table.values(), key=lambda r: (r.group_a, r.group_b))


def set_rule(session: Session, caller: Caller, group_a: str, group_b: str, horizontal_m: float,
             vertical_m: float) -> Rule:
    caller.require(PipelineScope.admin)
    for group in (group_a, group_b):
        if group not in GROUPS:
            raise InvalidInput(f"unknown group {group!r}; expected one of {', '.join(GROUPS)}", params={"group": group})
    if not (0 <= horizontal_m <= 20 and 0 <= vertical_m <= 10):
        raise InvalidInput("clearances must be within 0–20 m (horizontal) and 0–10 m (vertical)")
    a, b = _pair(group_a, group_b)
    before = next((r for r in rules(session) if (r.group_a, r.group_b) == (a, b)), None)
    row = session.get(ClearanceRule, (a, b)) or ClearanceRule(group_a=a, group_b=b)
    row.horizontal_m, row.vertical_m = horizontal_m, vertical_m
    row.updated_at, row.updated_by = utcnow(), caller.user_id
    session.add(row)
    session.flush()
    record_change(session, caller, action="pipelines.clearance_rule.set", object_type="pipeline_clearance_rule",
                  object_id=f"{a}/{b}",
                  before={"horizontal_m": before.horizontal_m, "vertical_m": before.vertical_m} if before else None,
                  after={"horizontal_m": horizontal_m, "vertical_m": vertical_m})
    return Rule(a, b, horizontal_m, vertical_m, False)


_GROUP = "CASE WHEN {t}.category LIKE 'drainage%' THEN 'drainage' ELSE {t}.category END"
_HALF_W = "COALESCE(CASE WHEN {t}.round THEN {t}.diameter_mm ELSE {t}.width_mm END, 0) / 2000.0"
_HALF_H = "COALESCE(CASE WHEN {t}.round THEN {t}.diameter_mm ELSE {t}.height_mm END, 0) / 2000.0"
_ZONE = "(4534 + round(ST_X(ST_StartPoint(a.geom)) / 3.0)::int - 25)"
_VISIBLE = """
  JOIN datasets da ON da.id = {t}.dataset_id
  AND (:everything OR da.visibility = 'public' OR da.organization_id = :organization)"""

CLEARANCE_SQL = f"""
WITH candidates AS (
  SELECT a.id AS a_id, b.id AS b_id, r.h, r.v,
         ST_Transform(ST_Force2D(a.geom), {_ZONE}) AS a2, ST_Transform(ST_Force2D(b.geom), {_ZONE}) AS b2,
         a.geom AS a3, b.geom AS b3,
         {_HALF_W.format(t="a")} AS aw, {_HALF_W.format(t="b")} AS bw,
         {_HALF_H.format(t="a")} AS ah, {_HALF_H.format(t="b")} AS bh
  FROM pipeline_segments a {_VISIBLE.format(t="a")}
  JOIN pipeline_segments b ON b.geom && ST_Expand(a.geom, :degrees)
  {_VISIBLE.format(t="b").replace("da.", "db.").replace("datasets da", "datasets db")}
  JOIN unnest(CAST(:ga AS text[]), CAST(:gb AS text[]), CAST(:h AS float8[]), CAST(:v AS float8[]))
       AS r(ga, gb, h, v) ON r.ga = {_GROUP.format(t="a")} AND r.gb = {_GROUP.format(t="b")}
  WHERE (r.ga <> r.gb OR a.id < b.id)
    AND NOT (a.dataset_id = b.dataset_id AND (a.start_code IN (b.start_code, b.end_code)
                                              OR a.end_code IN (b.start_code, b.end_code)))
    AND (CAST(:district AS text) IS NULL OR a.district_code = :district OR b.district_code = :district)
    AND (CAST(:dataset AS uuid) IS NULL OR a.dataset_id = :dataset OR b.dataset_id = :dataset)
), measured AS (
  SELECT c.*, ST_Distance(a2, b2) AS plan_distance,
         abs(cos(ST_Azimuth(ST_StartPoint(a2), ST_EndPoint(a2)) - ST_Azimuth(ST_StartPoint(b2), ST_EndPoint(b2))))
           AS parallel
  FROM candidates c
), crossings AS (
  SELECT m.*, ST_ClosestPoint(a2, b2) AS at,
         ST_Z(ST_StartPoint(a3)) + ST_LineLocatePoint(a2, ST_ClosestPoint(a2, b2))
           * (ST_Z(ST_EndPoint(a3)) - ST_Z(ST_StartPoint(a3))) AS za,
         ST_Z(ST_StartPoint(b3)) + ST_LineLocatePoint(b2, ST_ClosestPoint(b2, a2))
           * (ST_Z(ST_EndPoint(b3)) - ST_Z(ST_StartPoint(b3))) AS zb
  FROM measured m WHERE plan_distance < :touch
)
SELECT a_id, b_id, 'vertical' AS kind, v AS required, abs(za - zb) - ah - bh AS distance,
       ST_X(ST_Transform(at, 4490)) AS lon, ST_Y(ST_Transform(at, 4490)) AS lat
FROM crossings WHERE abs(za - zb) - ah - bh < v
UNION ALL
SELECT a_id, b_id, 'horizontal', h, plan_distance - aw - bw,
       ST_X(ST_Transform(ST_ClosestPoint(a2, b2), 4490)), ST_Y(ST_Transform(ST_ClosestPoint(a2, b2), 4490))
FROM measured WHERE plan_distance >= :touch AND parallel > :parallel AND plan_distance - aw - bw < h
ORDER BY 5
LIMIT :limit
"""

HERITAGE_SQL = f"""
SELECT s.id, hb.id, hb.code, hb.name,
       ST_Length(ST_Transform(ST_Intersection(ST_Force2D(s.geom), hb.protection_range),
                              4534 + round(ST_X(ST_StartPoint(s.geom)) / 3.0)::int - 25)) AS length_m
FROM pipeline_segments s {_VISIBLE.format(t="s")}
JOIN heritage_buildings hb ON hb.protection_range && s.geom AND ST_Intersects(ST_Force2D(s.geom), hb.protection_range)
WHERE hb.status = 'listed' AND hb.retired_at IS NULL
  AND (CAST(:district AS text) IS NULL OR s.district_code = :district)
  AND (CAST(:dataset AS uuid) IS NULL OR s.dataset_id = :dataset)
ORDER BY hb.code, s.code
LIMIT :limit
"""


@dataclass(frozen=True)
class Violation:
    segment_a: uuid.UUID
    segment_b: uuid.UUID
    kind: str  # horizontal | vertical
    required_m: float
    distance_m: float
    lon: float
    lat: float


@dataclass(frozen=True)
class HeritagePass:
    segment: uuid.UUID
    building_id: uuid.UUID
    building_code: str
    building_name: str
    length_m: float


def _params(session: Session, caller: Caller, district: str | None, dataset: uuid.UUID | None) -> dict[str, Any]:
    caller.require(PipelineScope.read)
    table = rules(session)
    return {
        "everything": caller.reads_everything(), "organization": caller.organization_id,
        "district": district, "dataset": dataset, "degrees": SEARCH_DEGREES, "limit": MAX_RESULTS,
        "touch": TOUCH_M, "parallel": PARALLEL_COS,
        "ga": [r.group_a for r in table], "gb": [r.group_b for r in table],  # ordered: a's group ≤ b's
        "h": [r.horizontal_m for r in table], "v": [r.vertical_m for r in table],
    }


def check(session: Session, caller: Caller, district: str | None = None, dataset: uuid.UUID | None = None
          ) -> tuple[list[Violation], list[HeritagePass]]:
    """Clearance violations (closest first) and pipes under listed buildings' protection ranges."""
    params = _params(session, caller, district, dataset)
    violations = [Violation(a, b, kind, float(required), float(distance), float(lon), float(lat))
                  for a, b, kind, required, distance, lon, lat in session.execute(text(CLEARANCE_SQL), params)]
    seen: set[tuple[uuid.UUID, uuid.UUID, str]] = set()
    unique = []
    for v in violations:  # each pair of segments once (whichever side the index found first)
        key = (min(v.segment_a, v.segment_b), max(v.segment_a, v.segment_b), v.kind)
        if key not in seen:
            seen.add(key)
            unique.append(v)
    passes = [HeritagePass(s, b, code, name, float(length or 0.0))
              for s, b, code, name, length in session.execute(text(HERITAGE_SQL), {
                  k: params[k] for k in ("everything", "organization", "district", "dataset", "limit")})]
    return unique, passes
