"""The pipeline registry: segments (``LINESTRING Z``) and points (``POINT Z``) of each published pipelines
dataset in PostGIS, EPSG:4490 with Yellow Sea 1985 heights; queries by category, district, owner, material,
age and bbox limited to the datasets the caller can see; GeoPackage export.

Filled from the original upload, read again with the converter's reader (``converters.pipelines``), when a
revision is published (``cim_platform.pipelines.jobs``).
"""

from __future__ import annotations

import json
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from psycopg import sql
from pyproj import CRS, Transformer
from sqlalchemy import Select, delete, func, or_, select, text
from sqlalchemy.orm import Session

from cim_platform.core.access import Caller
from cim_platform.core.errors import InvalidInput
from cim_platform.datasets.models import Dataset, DatasetRevision, Visibility
from cim_platform.pipelines import PipelineScope
from cim_platform.pipelines.models import STORAGE_SRID, Point, Segment
from converters.options import ConvertOptions
from converters.pipelines import CATEGORY_BY_CODE, Network, read_network

MAX_LIMIT = 5000


@dataclass(frozen=True)
class Filters:
    category: str | None = None
    district: str | None = None
    owner: str | None = None
    material: str | None = None
    min_age: int | None = None  # years since construction
    max_age: int | None = None
    bbox: tuple[float, float, float, float] | None = None  # lon/lat (EPSG:4490 ≈ WGS84)
    dataset: uuid.UUID | None = None
    code: str | None = None


def _lonlat(network: Network) -> tuple[np.ndarray, np.ndarray]:
    crs = CRS.from_user_input(network.crs)
    horizontal = crs.sub_crs_list[0] if crs.is_compound else crs
    to_4490 = Transformer.from_crs(horizontal, f"EPSG:{STORAGE_SRID}", always_xy=True)
    xy = np.array([[p.x, p.y] for p in network.points], dtype=np.float64).reshape(-1, 2)
    lon, lat = to_4490.transform(xy[:, 0], xy[:, 1])
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def _ewkb_hex(kind: int, coordinates: np.ndarray) -> list[str]:
    """Hex EWKB (little-endian, Z, SRID 4490) of ``kind`` 1 (points: rows of x, y, z) or 2 (two-point lines:
    rows of x0, y0, z0, x1, y1, z1), built for all rows at once."""
    count = len(coordinates)
    doubles = coordinates.shape[1] if count else (3 if kind == 1 else 6)
    fields: list[tuple[Any, ...]] = [("order", "u1"), ("type", "<u4"), ("srid", "<u4")]
    if kind == 2:
        fields.append(("points", "<u4"))
    fields.append(("xyz", "<f8", (doubles,)))
    rows = np.zeros(count, dtype=np.dtype(fields))
    rows["order"] = 1
    rows["type"] = kind | 0x80000000 | 0x20000000  # Z and SRID flags
    rows["srid"] = STORAGE_SRID
    if kind == 2:
        rows["points"] = 2
    rows["xyz"] = coordinates
    width = rows.dtype.itemsize * 2
    text = rows.tobytes().hex()
    return [text[k * width: (k + 1) * width] for k in range(count)]


POINT_COLUMNS = ("id", "dataset_id", "revision_id", "code", "category", "feature", "ground_elevation", "depth",
                 "manhole_size_m", "owner", "district_code", "attributes", "geom")
SEGMENT_COLUMNS = ("id", "dataset_id", "revision_id", "code", "start_code", "end_code", "category", "round",
                   "diameter_mm", "width_mm", "height_mm", "material", "pressure", "voltage", "laying", "ducts",
                   "owner", "construction_year", "survey_date", "start_depth", "end_depth", "length_m",
                   "district_code", "attributes", "geom")


def _copy(session: Session, table: str, columns: tuple[str, ...], rows: Iterable[tuple[Any, ...]]) -> None:
    """Rows streamed into ``table`` with PostgreSQL ``COPY`` on the session's connection (its transaction)."""
    connection = session.connection().connection.driver_connection
    assert isinstance(connection, psycopg.Connection)
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns))
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def row_id(dataset_id: uuid.UUID, kind: str, code: str) -> uuid.UUID:
    """The stable id of a registry row: the same dataset, kind and code give the same id in every refill."""
    return uuid.uuid5(dataset_id, f"{kind}:{code}")


def fill(session: Session, dataset: Dataset, revision: DatasetRevision, source: Path) -> tuple[int, int]:
    """Replace the dataset's registry rows by the revision's network; (segments, points) stored.

    Rows go in with ``COPY`` (geometry as hex EWKB computed for all rows at once), in the caller's transaction."""
    params = dict(revision.convert_params or {})
    options = ConvertOptions(crs=params.get("crs"), column_map=params.get("column_map"))
    network = read_network(source, options)
    lon, lat = _lonlat(network)
    ground = np.array([0.0 if p.ground is None else p.ground for p in network.points], dtype=np.float64)
    x = np.array([p.x for p in network.points], dtype=np.float64)
    y = np.array([p.y for p in network.points], dtype=np.float64)
    at = network.point_index()
    start = np.array([at[s.start] for s in network.segments], dtype=np.int64)
    end = np.array([at[s.end] for s in network.segments], dtype=np.int64)
    z0 = np.array([s.z_start for s in network.segments], dtype=np.float64)
    z1 = np.array([s.z_end for s in network.segments], dtype=np.float64)
    lengths = np.round(np.sqrt((x[end] - x[start]) ** 2 + (y[end] - y[start]) ** 2 + (z1 - z0) ** 2), 3).tolist()
    point_geoms = _ewkb_hex(1, np.column_stack([lon, lat, ground]))
    segment_geoms = _ewkb_hex(2, np.column_stack([lon[start], lat[start], z0, lon[end], lat[end], z1]))
    # one fill of a dataset at a time (a publication's refresh and an owner's may overlap), and rows keep their
    # ids across refills: a segment's or point's id is derived from the dataset and its code, so a link or a
    # page that read the registry before a refill still finds the same pipe after it
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"pipelines-fill:{dataset.id}"})
    session.execute(delete(Segment).where(Segment.dataset_id == dataset.id))
    session.execute(delete(Point).where(Point.dataset_id == dataset.id))
    district = dataset.district_code
    _copy(session, Point.__tablename__, POINT_COLUMNS, (
        (row_id(dataset.id, "point", p.id[:100]), dataset.id, revision.id, p.id[:100], p.category, p.feature,
         p.ground, p.depth, p.manhole_m, p.owner, district, json.dumps(p.extras, ensure_ascii=False), point_geoms[i])
        for i, p in enumerate(network.points)))
    _copy(session, Segment.__tablename__, SEGMENT_COLUMNS, (
        (row_id(dataset.id, "segment", s.id[:200]), dataset.id, revision.id, s.id[:200], s.start[:100],
         s.end[:100], s.category, s.round,
         s.diameter_mm, s.width_mm, s.height_mm, s.material, s.pressure, s.voltage, s.laying, s.ducts, s.owner,
         s.construction_year, s.survey_date, s.start_depth, s.end_depth, lengths[k], district,
         json.dumps(s.extras, ensure_ascii=False), segment_geoms[k])
        for k, s in enumerate(network.segments)))
    return len(network.segments), len(network.points)


def clear(session: Session, dataset_id: uuid.UUID) -> None:
    session.execute(delete(Segment).where(Segment.dataset_id == dataset_id))
    session.execute(delete(Point).where(Point.dataset_id == dataset_id))


def visible(query: Select[Any], caller: Caller, dataset_column: Any) -> Select[Any]:
    """Rows of datasets the caller can see (public ones, their organisation's, everything for officials)."""
    caller.require(PipelineScope.read)
    query = query.join(Dataset, Dataset.id == dataset_column)
    if caller.reads_everything():
        return query
    return query.where(or_(Dataset.visibility == Visibility.public.value,
                           Dataset.organization_id == caller.organization_id))


def _filtered(query: Select[Any], model: type[Segment] | type[Point], filters: Filters) -> Select[Any]:
    if filters.category is not None:
        if filters.category not in CATEGORY_BY_CODE and filters.category != "drainage":
            raise InvalidInput(f"unknown category {filters.category!r}", params={"category": filters.category})
        if filters.category == "drainage":
            query = query.where(model.category.like("drainage%"))
        else:
            query = query.where(model.category == filters.category)
    if filters.district is not None:
        query = query.where(model.district_code == filters.district)
    if filters.owner is not None:
        query = query.where(model.owner.ilike(f"%{filters.owner}%"))
    if filters.dataset is not None:
        query = query.where(model.dataset_id == filters.dataset)
    if filters.code is not None:
        query = query.where(model.code == filters.code)
    if model is Segment:
        this_year = date.today().year
        if filters.material is not None:
            query = query.where(Segment.material.ilike(f"%{filters.material}%"))
        if filters.min_age is not None:
            query = query.where(Segment.construction_year <= this_year - filters.min_age)
        if filters.max_age is not None:
            query = query.where(Segment.construction_year >= this_year - filters.max_age)
    if filters.bbox is not None:
        west, south, east, north = filters.bbox
        if not (west < east and south < north):
            raise InvalidInput("bbox must be west,south,east,north with west < east and south < north")
        query = query.where(model.geom.intersects(func.ST_MakeEnvelope(west, south, east, north, STORAGE_SRID)))
    return query


def segments(session: Session, caller: Caller, filters: Filters, limit: int = 500, offset: int = 0
             ) -> tuple[list[Segment], int, float]:
    """Matching segments (newest datasets first, then by code), their count and total length."""
    limit = max(1, min(limit, MAX_LIMIT))
    base = _filtered(visible(select(Segment), caller, Segment.dataset_id), Segment, filters)
    count, length = session.execute(
        base.with_only_columns(func.count(), func.coalesce(func.sum(Segment.length_m), 0.0))).one()
    rows = session.scalars(base.order_by(Segment.dataset_id, Segment.code).limit(limit).offset(offset)).all()
    return list(rows), int(count), float(length)


def points(session: Session, caller: Caller, filters: Filters, limit: int = 500, offset: int = 0
           ) -> tuple[list[Point], int]:
    limit = max(1, min(limit, MAX_LIMIT))
    base = _filtered(visible(select(Point), caller, Point.dataset_id), Point, filters)
    count = session.scalar(base.with_only_columns(func.count())) or 0
    rows = session.scalars(base.order_by(Point.dataset_id, Point.code).limit(limit).offset(offset)).all()
    return list(rows), int(count)


def coordinates(session: Session, rows: list[Segment] | list[Point]) -> list[list[list[float]]]:
    """[[lon, lat, z], …] of each row's stored geometry, in order."""
    if not rows:
        return []
    model = type(rows[0])
    pairs = session.execute(select(model.id, func.ST_AsGeoJSON(model.geom)).where(model.id.in_([r.id for r in rows])))
    found: dict[uuid.UUID, str] = {row_id: text for row_id, text in pairs}
    out = []
    for row in rows:
        geometry = json.loads(found[row.id])
        coords = geometry["coordinates"]
        out.append([coords] if geometry["type"] == "Point" else coords)
    return out


SEGMENT_FIELDS = ("code", "start_code", "end_code", "category", "diameter_mm", "width_mm", "height_mm", "material",
                  "pressure", "voltage", "laying", "ducts", "owner", "construction_year", "survey_date",
                  "start_depth", "end_depth", "length_m", "district_code")
POINT_FIELDS = ("code", "category", "feature", "ground_elevation", "depth", "manhole_size_m", "owner", "district_code")


def export_geopackage(session: Session, caller: Caller, filters: Filters) -> bytes:
    """The matching segments and points as a GeoPackage (layers ``segments`` and ``points``, EPSG:4490, Z)."""
    from pyogrio import raw  # type: ignore[import-untyped]

    with tempfile.TemporaryDirectory(prefix="pipelines-export-") as tmp:
        path = Path(tmp) / "pipelines.gpkg"
        wrote = False
        for layer, model, fields, kind in (("segments", Segment, SEGMENT_FIELDS, "LineString Z"),
                                           ("points", Point, POINT_FIELDS, "Point Z")):
            base = _filtered(visible(select(model), caller, model.dataset_id), model, filters)
            columns = [getattr(model, f) for f in fields]
            rows = session.execute(base.with_only_columns(func.ST_AsBinary(model.geom), *columns)
                                   .order_by(model.code).limit(1_000_000)).all()
            geometry = np.array([bytes(r[0]) for r in rows], dtype=object)
            data = []
            for k, name in enumerate(fields):
                values = [r[k + 1] for r in rows]
                if name in ("diameter_mm", "width_mm", "height_mm", "start_depth", "end_depth", "length_m",
                            "ground_elevation", "depth", "manhole_size_m", "ducts", "construction_year"):
                    data.append(np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64))
                else:
                    data.append(np.array(["" if v is None else str(v) for v in values], dtype=object))
            raw.write(path, geometry, data, list(fields), layer=layer, driver="GPKG", geometry_type=kind,
                      crs=f"EPSG:{STORAGE_SRID}", append=wrote)
            wrote = True
        return path.read_bytes()
