"""The city's combined terrain: every visible published terrain dataset (a base DEM over the city,
finer local DEMs on top) answered as one quantized-mesh layer. ``layer.json`` unites their available
tile ranges; for each tile the finest published terrain that covers it wholly is chosen (in PostGIS:
the stored tile's coverage against the tile's rectangle), else the one covering most of it."""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Float, cast, func, literal
from sqlalchemy.orm import Session

from cim_platform.core.access import Caller
from cim_platform.datasets.models import Dataset, DatasetKind, DatasetRevision, TileContent
from cim_platform.datasets.service import visible_datasets, visible_published
from converters.terrain.tiling import TileKey

TILE_TEMPLATE = "{z}/{x}/{y}.terrain?v={version}"


@dataclass(frozen=True)
class TerrainSource:
    dataset_id: uuid.UUID
    revision_id: uuid.UUID
    name: str
    max_level: int
    bounds: tuple[float, float, float, float]
    ranges: list[list[dict[str, int]]]  # per level


@dataclass(frozen=True)
class TileChoice:
    dataset_id: uuid.UUID
    revision_id: uuid.UUID
    path: str


def terrain_sources(session: Session, caller: Caller) -> list[TerrainSource]:
    """The visible published terrain datasets, coarsest first."""
    query = (
        visible_published(caller)
        .where(Dataset.kind == DatasetKind.terrain.value)
        .order_by(Dataset.created_at, Dataset.id)
    )
    sources = []
    for dataset, revision in session.execute(query):
        report = revision.report or {}
        terrain = report.get("terrain") or {}
        levels = terrain.get("levels") or []
        bounds = tuple(terrain["bounds_wgs84"]) if len(terrain.get("bounds_wgs84") or []) == 4 else _bounds(levels)
        sources.append(
            TerrainSource(
                dataset.id,
                revision.id,
                dataset.name,
                int(terrain.get("max_level", 0)),
                (bounds[0], bounds[1], bounds[2], bounds[3]),
                [[{k: int(level[k]) for k in ("startX", "startY", "endX", "endY")}] for level in levels],
            )
        )
    return sorted(sources, key=lambda s: s.max_level)


def _bounds(levels: list[dict[str, Any]]) -> tuple[float, float, float, float]:
    if not levels:
        return (-180.0, -90.0, 180.0, 90.0)
    finest = levels[-1]
    west, south, _, _ = TileKey(finest["level"], finest["startX"], finest["startY"]).bounds
    _, _, east, north = TileKey(finest["level"], finest["endX"], finest["endY"]).bounds
    return (west, south, east, north)


def version_of(sources: list[TerrainSource]) -> str:
    """Changes whenever a terrain is published, withdrawn or its visibility changes for this caller."""
    text = ",".join(str(s.revision_id) for s in sources)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def combined_layer(sources: list[TerrainSource]) -> dict[str, Any]:
    """One ``layer.json`` over the sources: each level's ranges are the union of theirs."""
    max_level = max((s.max_level for s in sources), default=0)
    available: list[list[dict[str, int]]] = [[] for _ in range(max_level + 1)]
    for source in sources:
        for level, ranges in enumerate(source.ranges):
            for tile_range in ranges:
                if tile_range not in available[level]:
                    available[level].append(tile_range)
    if not available[0]:
        available[0] = [{"startX": 0, "startY": 0, "endX": 1, "endY": 0}]
    bounds = (
        [
            min(s.bounds[0] for s in sources),
            min(s.bounds[1] for s in sources),
            max(s.bounds[2] for s in sources),
            max(s.bounds[3] for s in sources),
        ]
        if sources
        else [-180.0, -90.0, 180.0, 90.0]
    )
    return {
        "tilejson": "2.1.0",
        "name": "city terrain",
        "description": "the city's published terrain datasets combined: the finest covering each tile",
        "version": version_of(sources),
        "format": "quantized-mesh-1.0",
        "scheme": "tms",
        "projection": "EPSG:4326",
        "tiles": [TILE_TEMPLATE],
        "extensions": ["octvertexnormals"],
        "bounds": bounds,
        "minzoom": 0,
        "maxzoom": max_level,
        "available": available,
        "attribution": ", ".join(s.name for s in sources),
    }


def choose_tile(session: Session, caller: Caller, key: TileKey) -> TileChoice | None:
    """The published terrain tile ``key`` of the finest visible terrain that covers the tile wholly,
    else of the one covering the largest part of it; None when no terrain has this tile. (Terrains
    covering a tile wholly have equal coverage areas, so the level decides between them.)"""
    west, south, east, north = key.bounds
    rectangle = func.ST_MakeEnvelope(west, south, east, north, 4326)
    covers = func.coalesce(func.ST_Covers(TileContent.bounds, rectangle), literal(False))
    covered_area = func.coalesce(func.ST_Area(TileContent.bounds), literal(0.0))
    max_level = cast(DatasetRevision.report["terrain"]["max_level"].astext, Float)
    query = (
        visible_datasets(caller)
        .with_only_columns(Dataset.id, TileContent.revision_id)
        .select_from(Dataset)
        .join(DatasetRevision, DatasetRevision.id == Dataset.published_revision_id)
        .join(TileContent, TileContent.revision_id == DatasetRevision.id)
        .where(Dataset.kind == DatasetKind.terrain.value, TileContent.path == key.path)
        .order_by(covers.desc(), covered_area.desc(), max_level.desc(), DatasetRevision.published_at.desc())
        .limit(1)
    )
    row = session.execute(query).first()
    return None if row is None else TileChoice(row[0], row[1], key.path)


class ChoiceCache:
    """Per-tile choices of the combined terrain, kept ``ttl_s`` seconds (the time a publication or a
    visibility change takes to reach viewers, as for datasets' access): a viewer asks for hundreds of
    tiles per view, most of them again and again. Keyed by what decides visibility for the caller."""

    def __init__(self, ttl_s: float, max_entries: int = 50_000) -> None:
        self.ttl_s, self.max_entries = ttl_s, max_entries
        self._entries: OrderedDict[tuple[Any, ...], tuple[float, TileChoice | None]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(caller: Caller, key: TileKey) -> tuple[Any, ...]:
        return (caller.reads_everything(), caller.organization_id, key.level, key.x, key.y)

    def choose(self, session: Session, caller: Caller, key: TileKey) -> TileChoice | None:
        cache_key, now = self._key(caller, key), time.monotonic()
        with self._lock:
            entry = self._entries.get(cache_key)
            if entry is not None and now - entry[0] < self.ttl_s:
                return entry[1]
        choice = choose_tile(session, caller, key)
        with self._lock:
            self._entries[cache_key] = (now, choice)
            self._entries.move_to_end(cache_key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return choice
