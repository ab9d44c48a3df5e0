"""Exporting records as GeoJSON (a FeatureCollection: the location as geometry, the outline and zones
as GeoJSON properties) or CSV (UTF-8 with a byte-order mark, so spreadsheet programs read it)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from cim_platform.heritage.fields import EDITABLE_FIELDS, SENSITIVE_FIELDS, value_json
from cim_platform.heritage.geometry import AREA_FIELDS, GEOMETRY_FIELDS
from cim_platform.heritage.models import Building

STATE = ("status", "delisting_reference", "retired_at", "retired_reason", "version")


def _properties(building: Building, *, full: bool) -> dict[str, Any]:
    names = [f for f in EDITABLE_FIELDS if f not in GEOMETRY_FIELDS and (full or f not in SENSITIVE_FIELDS)]
    props = {"id": str(building.id), **{name: value_json(building, name) for name in names}}
    props.update({name: value_json(building, name) for name in STATE if full or name == "status"})
    return props


def to_geojson(buildings: list[Building], *, full: bool) -> bytes:
    features = []
    for building in buildings:
        props = _properties(building, full=full)
        props.update({name: value_json(building, name) for name in AREA_FIELDS})
        features.append(
            {
                "type": "Feature",
                "id": str(building.id),
                "geometry": value_json(building, "location"),
                "properties": props,
            }
        )
    collection = {"type": "FeatureCollection", "features": features}
    return json.dumps(collection, ensure_ascii=False).encode()


def to_csv(buildings: list[Building], *, full: bool) -> bytes:
    rows = []
    for building in buildings:
        props = _properties(building, full=full)
        point = value_json(building, "location")
        props["lon"], props["lat"] = point["coordinates"][:2] if point else (None, None)
        props["aliases"] = ";".join(props.get("aliases") or [])
        rows.append(props)
    out = io.StringIO()
    columns = list(rows[0]) if rows else ["id", "code", "name"]
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")
