"""The city tileset: every visible published dataset as an external tileset, grouped by district."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cim_platform.core.access import Caller
from cim_platform.datasets.models import Dataset, DatasetRevision, District
from cim_platform.datasets.service import visible_published
from cim_platform.datasets.tilestore import root_extent

# Ordos, with a margin (degrees): the root volume of an empty city
CITY_BOUNDS = (106.6, 37.5, 111.6, 41.0)
CITY_HEIGHTS = (800.0, 2200.0)


def _region(west: float, south: float, east: float, north: float, low: float, high: float) -> list[float]:
    return [math.radians(west), math.radians(south), math.radians(east), math.radians(north), low, high]


def _union(regions: list[list[float]]) -> list[float]:
    return [
        min(r[0] for r in regions),
        min(r[1] for r in regions),
        max(r[2] for r in regions),
        max(r[3] for r in regions),
        min(r[4] for r in regions),
        max(r[5] for r in regions),
    ]


def _dataset_tile(dataset: Dataset, revision: DatasetRevision) -> dict[str, Any]:
    from shapely import wkt

    assert revision.tileset is not None
    hull_wkt, low, high = root_extent(revision.tileset)
    west, south, east, north = wkt.loads(hull_wkt).bounds
    return {
        "boundingVolume": {"region": _region(west, south, east, north, low, high)},
        "geometricError": float(revision.tileset.get("geometricError", 0.0)),
        "content": {"uri": f"../{dataset.id}/tileset.json"},
    }


def city_tileset(session: Session, caller: Caller) -> dict[str, Any]:
    query = (
        visible_published(caller)
        .where(DatasetRevision.tileset.is_not(None))  # terrain and imagery are served by the ground domain
        .order_by(Dataset.district_code, Dataset.name, Dataset.id)
    )
    names = {d.code: d.name for d in session.scalars(select(District))}
    groups: dict[str | None, list[dict[str, Any]]] = {}
    for dataset, revision in session.execute(query):
        groups.setdefault(dataset.district_code, []).append(_dataset_tile(dataset, revision))
    children = []
    for code, tiles in groups.items():
        region = _union([t["boundingVolume"]["region"] for t in tiles])
        error = max([t["geometricError"] for t in tiles] + [0.0])
        children.append(
            {
                "boundingVolume": {"region": region},
                "geometricError": error,
                "children": tiles,
                "extras": {"district": code, "name": names.get(code or "", "no district")},
            }
        )
    if children:
        root_region = _union([c["boundingVolume"]["region"] for c in children])
        root_error = max(c["geometricError"] for c in children) * 2 + 100.0
    else:
        root_region, root_error = _region(*CITY_BOUNDS, *CITY_HEIGHTS), 0.0
    return {
        "asset": {"version": "1.1", "generator": "cim-platform city tileset"},
        "geometricError": root_error * 2,
        "root": {
            "boundingVolume": {"region": root_region},
            "geometricError": root_error,
            "refine": "ADD",
            "children": children,
        },
    }
