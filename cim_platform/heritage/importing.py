"""Importing a listing as a city keeps it: CSV (UTF-8 or GB18030, Chinese or English column names),
Excel (.xlsx, the first sheet) or GeoJSON (a FeatureCollection; the geometry is the location, or the
outline for polygons).

Every row is created through the same service as the API (so the same checks apply, duplicates within
the file included), each in a savepoint, and every problem is reported with its row and field. A dry
run rolls everything back; a real import commits only when no row has a problem (all or nothing).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from cim_platform.core.access import Caller
from cim_platform.core.errors import CimError, InvalidInput
from cim_platform.heritage import service
from cim_platform.heritage.geometry import check_crs
from cim_platform.heritage.models import Category, Level, Ownership, Preservation, YearPrecision
from cim_platform.heritage.scopes import HeritageScope

COLUMNS: dict[str, str] = {
    "code": "code",
    "编号": "code",
    "代码": "code",
    "名录编号": "code",
    "name": "name",
    "名称": "name",
    "建筑名称": "name",
    "aliases": "aliases",
    "别名": "aliases",
    "listing_batch": "listing_batch",
    "公布批次": "listing_batch",
    "批次": "listing_batch",
    "announcement_number": "announcement_number",
    "公布文号": "announcement_number",
    "文号": "announcement_number",
    "announcement_date": "announcement_date",
    "公布日期": "announcement_date",
    "level": "level",
    "保护级别": "level",
    "级别": "level",
    "district": "district_code",
    "旗区": "district_code",
    "所在旗区": "district_code",
    "区县": "district_code",
    "town": "town",
    "乡镇": "town",
    "乡镇街道": "town",
    "街道": "town",
    "address": "address",
    "地址": "address",
    "lon": "lon",
    "经度": "lon",
    "x": "lon",
    "东坐标": "lon",
    "lat": "lat",
    "纬度": "lat",
    "y": "lat",
    "北坐标": "lat",
    "category": "category",
    "类别": "category",
    "construction_period": "construction_period",
    "年代": "construction_period",
    "建造年代": "construction_period",
    "construction_year": "construction_year",
    "建造年份": "construction_year",
    "year_precision": "year_precision",
    "年份精度": "year_precision",
    "structure_type": "structure_type",
    "结构类型": "structure_type",
    "结构形式": "structure_type",
    "storeys": "storeys",
    "层数": "storeys",
    "height_m": "height_m",
    "高度": "height_m",
    "建筑高度": "height_m",
    "floor_area_m2": "floor_area_m2",
    "建筑面积": "floor_area_m2",
    "ownership": "ownership",
    "产权性质": "ownership",
    "权属": "ownership",
    "owner": "owner",
    "产权人": "owner",
    "所有人": "owner",
    "occupant": "occupant",
    "使用人": "occupant",
    "current_use": "current_use",
    "现状用途": "current_use",
    "使用功能": "current_use",
    "preservation": "preservation",
    "保存状况": "preservation",
    "保存现状": "preservation",
    "value_features": "value_features",
    "价值特色": "value_features",
    "key_parts": "key_parts",
    "重点保护部位": "key_parts",
}
VALUES: dict[str, dict[str, str]] = {
    "level": {
        "全国重点文物保护单位": "national",
        "国家级": "national",
        "自治区级": "regional",
        "省级": "regional",
        "市级": "city",
        "旗县级": "county",
        "县级": "county",
        "旗区级": "county",
        "历史建筑": "historic_building",
        "未定级": "unclassified",
    },
    "category": {"建筑": "building", "建筑物": "building", "构筑物": "structure"},
    "year_precision": {"精确": "exact", "年": "exact", "年代": "decade", "时期": "period"},
    "ownership": {"国有": "state", "集体": "collective", "私有": "private", "个人": "private", "混合": "mixed"},
    "preservation": {"好": "good", "较好": "good", "一般": "fair", "较差": "poor", "差": "poor", "危险": "endangered"},
}
ENUMS = {
    "level": Level,
    "category": Category,
    "year_precision": YearPrecision,
    "ownership": Ownership,
    "preservation": Preservation,
}
INTEGERS = ("construction_year", "storeys")
FLOATS = ("height_m", "floor_area_m2", "lon", "lat")


@dataclass
class RowProblem:
    row: int
    field: str
    problem: str


@dataclass
class ImportReport:
    rows: int = 0
    valid_rows: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    imported: bool = False
    created_ids: list[str] = field(default_factory=list)


def read_rows(content: bytes, filename: str) -> list[tuple[int, dict[str, Any], dict[str, Any] | None]]:
    """(row number as the city sees it, column → value, GeoJSON geometry or None)."""
    name = filename.lower()
    if name.endswith((".geojson", ".json")):
        return _geojson_rows(content)
    if name.endswith((".xlsx", ".xlsm")):
        return _excel_rows(content)
    if name.endswith((".csv", ".txt")):
        return _csv_rows(content)
    raise InvalidInput("import a .csv (UTF-8 or GB18030), .xlsx or .geojson file", params={"filename": filename})


def _csv_rows(content: bytes) -> list[tuple[int, dict[str, Any], dict[str, Any] | None]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode("gb18030")
        except UnicodeDecodeError:
            raise InvalidInput("the CSV file is neither UTF-8 nor GB18030") from None
    reader = csv.DictReader(io.StringIO(text))
    return [(index + 2, dict(row), None) for index, row in enumerate(reader)]


def _excel_rows(content: bytes) -> list[tuple[int, dict[str, Any], dict[str, Any] | None]]:
    from openpyxl import load_workbook  # type: ignore[import-untyped]  # no stubs among the dev dependencies

    try:
        sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise InvalidInput(f"the Excel file cannot be read: {exc}") from None
    rows = list(sheet.iter_rows(values_only=True))
    if not rows:
        return []
    header = [str(cell).strip() if cell is not None else "" for cell in rows[0]]
    out: list[tuple[int, dict[str, Any], dict[str, Any] | None]] = []
    for index, values in enumerate(rows[1:]):
        if all(v is None or str(v).strip() == "" for v in values):
            continue
        out.append((index + 2, dict(zip(header, values, strict=False)), None))
    return out


def _geojson_rows(content: bytes) -> list[tuple[int, dict[str, Any], dict[str, Any] | None]]:
    try:
        document = json.loads(content.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"the GeoJSON file cannot be read: {exc}") from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise InvalidInput("the GeoJSON file must be a FeatureCollection")
    features = document.get("features") or []
    return [
        (index + 1, dict(f.get("properties") or {}), f.get("geometry"))
        for index, f in enumerate(features)
        if isinstance(f, dict)
    ]


def _convert(column: str, value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        if value == "":
            return None
    if value is None:
        return None
    if column in ENUMS:
        text = VALUES[column].get(str(value), str(value))
        if text not in ENUMS[column].__members__:
            raise ValueError(f"{value!r} is not one of {', '.join(ENUMS[column].__members__)}")
        return text
    if column in INTEGERS:
        number = float(value)
        if not number.is_integer():
            raise ValueError(f"{value!r} is not a whole number")
        return int(number)
    if column in FLOATS:
        return float(value)
    if column == "announcement_date":
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        return dt.date.fromisoformat(str(value).replace("/", "-").replace(".", "-"))
    if column == "aliases":
        return [a.strip() for a in str(value).replace("、", ";").replace(",", ";").split(";") if a.strip()]
    return str(value)


def _values(row: int, raw: dict[str, Any], geometry: dict[str, Any] | None, report: ImportReport) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for header, value in raw.items():
        column = COLUMNS.get(str(header).strip(), COLUMNS.get(str(header).strip().lower()))
        if column is None:
            continue
        try:
            values[column] = _convert(column, value)
        except (TypeError, ValueError) as exc:
            report.problems.append(RowProblem(row, column, str(exc)))
    lon, lat = values.pop("lon", None), values.pop("lat", None)
    if lon is not None and lat is not None:
        values["location"] = {"type": "Point", "coordinates": [lon, lat]}
    if geometry is not None:
        values["location" if geometry.get("type") == "Point" else "outline"] = geometry
    return {k: v for k, v in values.items() if v is not None}


def run_import(
    session: Session, caller: Caller, content: bytes, filename: str, *, crs: str, dry_run: bool
) -> ImportReport:
    """Check (and unless ``dry_run``, create) every row. The caller commits when ``report.imported``;
    otherwise it must roll back."""
    caller.require(HeritageScope.write)
    check_crs(crs)
    report = ImportReport()
    for row, raw, geometry in read_rows(content, filename):
        report.rows += 1
        before = len(report.problems)
        values = _values(row, raw, geometry, report)
        for required in ("code", "name", "district_code"):
            if required not in values:
                report.problems.append(RowProblem(row, required, "missing"))
        if len(report.problems) > before:
            continue
        savepoint = session.begin_nested()
        try:
            building = service.create_building(session, caller, values, crs)
            savepoint.commit()
            report.created_ids.append(str(building.id))
            report.valid_rows += 1
        except CimError as exc:
            savepoint.rollback()
            where = str(exc.params.get("field", "")) or ("code" if "code" in exc.message else "row")
            report.problems.append(RowProblem(row, where, exc.message))
        except (DataError, IntegrityError) as exc:
            savepoint.rollback()
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "invalid value"
            report.problems.append(RowProblem(row, "row", reason))
    report.imported = not dry_run and not report.problems and report.rows > 0
    if not report.imported:
        report.created_ids = []
    return report
