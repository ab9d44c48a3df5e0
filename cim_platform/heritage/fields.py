"""The fields of a historic-building record: which are editable, which anonymous callers may read,
and their JSON form (audit rows, proposals)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from cim_platform.core.audit import jsonable
from cim_platform.heritage.geometry import GEOMETRY_FIELDS, stored_geojson
from cim_platform.heritage.models import Building

IDENTITY_FIELDS = ("code", "name", "aliases", "listing_batch", "announcement_number", "announcement_date", "level")
LOCATION_FIELDS = ("district_code", "town", "address")
FACT_FIELDS = (
    "category",
    "construction_period",
    "construction_year",
    "year_precision",
    "structure_type",
    "storeys",
    "height_m",
    "floor_area_m2",
    "ownership",
    "owner",
    "occupant",
    "current_use",
    "preservation",
    "value_features",
    "key_parts",
    "group_id",
)
SCALAR_FIELDS = IDENTITY_FIELDS + LOCATION_FIELDS + FACT_FIELDS
EDITABLE_FIELDS = SCALAR_FIELDS + GEOMETRY_FIELDS
STATE_FIELDS = ("status", "delisting_reference", "retired_at", "retired_reason", "version")

SENSITIVE_FIELDS = ("owner", "occupant", "address", "ownership", "current_use", "preservation", "key_parts")
"""Hidden from anonymous callers: people's names, exact addresses, vulnerable details."""

REQUIRED_FIELDS = ("code", "name", "district_code")


def value_json(building: Building, field: str) -> Any:
    value = getattr(building, field)
    return stored_geojson(value) if field in GEOMETRY_FIELDS else jsonable(value)


def snapshot(building: Building, fields: tuple[str, ...] = EDITABLE_FIELDS + STATE_FIELDS) -> dict[str, Any]:
    return {field: value_json(building, field) for field in fields}


def from_json(field: str, value: Any) -> Any:
    """A JSON value (as in a proposal) back to the column's Python value (geometries stay GeoJSON)."""
    if value is None:
        return None
    if field == "announcement_date" and isinstance(value, str):
        return dt.date.fromisoformat(value)
    if field == "group_id" and isinstance(value, str):
        return uuid.UUID(value)
    return value
