"""Synthetic pipeline survey tables (示例 / synthetic example): the network under two demo streets in Kangbashi,
and large grids for the benchmark.

Tables follow the common CJJ 61 layout with Chinese column names: a point table (管线点号, 类别, 特征, X, Y,
地面高程, 埋深, 井径) and a line table (起点点号, 终点点号, 起点埋深, 终点埋深, 管径 or 断面尺寸, 材质, …).
X is the northing and Y the easting (the surveying convention), CGCS2000 3-degree zone 37 (EPSG:4546) with
Yellow Sea 1985 heights.

The demo network: street A runs east-west, street B north-south and meets A at a junction. Along A: storm,
sewage, water supply, gas, a power duct bank and telecom ducts; along B the same, its storm sewer joining A's
at the junction manhole (crossing A's water main and duct bank with enough clearance), the others ending short
of A. A 20 m gas service line laid
0.45 m beside A's water main is the one clearance violation (GB 50289: 0.5 m outer wall to outer wall).

``python sample_models/pipelines/generate.py OUT_DIR`` writes the demo as Excel (two sheets).
"""

from __future__ import annotations

import csv
import io
import math
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
from pyproj import Transformer

CRS = "EPSG:4546+5737"
ORIGIN_LONLAT = (109.7845, 39.6065)  # street A's west end, Kangbashi (synthetic)
STREET_LENGTH_M = 400.0
SEGMENT_M = 50.0
POINT_COLUMNS = ["管线点号", "类别", "特征", "X", "Y", "地面高程", "埋深", "井径", "权属单位"]
LINE_COLUMNS = ["起点点号", "终点点号", "类别", "起点埋深", "终点埋深", "管径", "断面尺寸", "材质", "压力", "电压",
                "埋设方式", "孔数", "权属单位", "建设年代", "探测日期"]

# category, prefix, offset from the street centreline (m), depth (m), size (mm: diameter or "W×H"), material,
# owner, year, manholes, reaches the junction (street B)
LAYERS: list[dict[str, Any]] = [
    {"category": "雨水", "prefix": "YS", "offset": 0.0, "depth": 2.5, "size": 600, "material": "钢筋混凝土",
     "owner": "康巴什区市政排水公司（示例）", "year": 2012, "manholes": True, "joins": True},
    {"category": "污水", "prefix": "WS", "offset": -4.0, "depth": 3.5, "size": 400, "material": "HDPE",
     "owner": "康巴什区市政排水公司（示例）", "year": 2012, "manholes": True, "joins": False},
    {"category": "给水", "prefix": "JS", "offset": 6.0, "depth": 1.8, "size": 300, "material": "球墨铸铁",
     "owner": "鄂尔多斯市供水公司（示例）", "year": 2011, "manholes": False, "joins": False, "pressure": "0.4MPa"},
    {"category": "燃气", "prefix": "RQ", "offset": -8.0, "depth": 1.2, "size": 200, "material": "PE",
     "owner": "鄂尔多斯市燃气公司（示例）", "year": 2013, "manholes": False, "joins": False, "pressure": "中压"},
    {"category": "电力", "prefix": "DL", "offset": 10.0, "depth": 0.8, "size": "800×600", "material": "砼",
     "owner": "国网鄂尔多斯供电公司（示例）", "year": 2014, "manholes": True, "joins": False, "voltage": "10kV",
     "laying": "排管", "ducts": 12},
    {"category": "通信", "prefix": "TX", "offset": -11.0, "depth": 0.7, "size": "400×300", "material": "PVC",
     "owner": "康巴什区通信管道公司（示例）", "year": 2015, "manholes": True, "joins": False, "laying": "管块",
     "ducts": 6},
]


def _to_map() -> Transformer:
    return Transformer.from_crs("EPSG:4490", "EPSG:4546", always_xy=True)


_ORIGIN_MAP = Transformer.from_crs("EPSG:4490", "EPSG:4546", always_xy=True).transform(*ORIGIN_LONLAT)


def _ground(e: float, n: float) -> float:
    """A gently sloping synthetic ground (Yellow Sea 1985 heights, Kangbashi ~1300 m)."""
    de, dn = e - _ORIGIN_MAP[0], n - _ORIGIN_MAP[1]
    return round(1302.0 - 0.002 * de + 0.003 * dn + 0.3 * math.sin(de / 40.0), 3)


class _Builder:
    def __init__(self) -> None:
        self.points: list[dict[str, Any]] = []
        self.lines: list[dict[str, Any]] = []
        self.ids: set[str] = set()

    def point(self, ident: str, layer: dict[str, Any], feature: str, e: float, n: float, depth: float) -> str:
        if ident in self.ids:
            return ident
        self.ids.add(ident)
        self.points.append({"管线点号": ident, "类别": layer["category"], "特征": feature, "X": round(n, 3),
                            "Y": round(e, 3), "地面高程": _ground(e, n), "埋深": depth,
                            "井径": 1000 if feature == "检查井" else None, "权属单位": layer["owner"]})
        return ident

    def line(self, start: str, end: str, layer: dict[str, Any], depth: float, depth_end: float | None = None) -> None:
        size = layer["size"]
        self.lines.append({
            "起点点号": start, "终点点号": end, "类别": layer["category"], "起点埋深": depth,
            "终点埋深": depth if depth_end is None else depth_end,
            "管径": size if isinstance(size, int) else None, "断面尺寸": size if isinstance(size, str) else None,
            "材质": layer["material"], "压力": layer.get("pressure"), "电压": layer.get("voltage"),
            "埋设方式": layer.get("laying", "直埋"), "孔数": layer.get("ducts"), "权属单位": layer["owner"],
            "建设年代": layer["year"], "探测日期": "2026-10-15",
        })


def demo_network() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(point rows, line rows) of the Kangbashi demo streets."""
    e0, n0 = _to_map().transform(*ORIGIN_LONLAT)
    junction_e = e0 + STREET_LENGTH_M / 2
    b = _Builder()
    steps = int(STREET_LENGTH_M / SEGMENT_M)
    for layer in LAYERS:  # street A, west to east; drainage falls eastwards
        feature = "检查井" if layer["manholes"] else "直线点"
        previous = None
        for i in range(steps + 1):
            e = e0 + i * SEGMENT_M
            slope = 0.004 * i * SEGMENT_M if layer["category"] in ("雨水", "污水") else 0.0
            here = b.point(f"A{layer['prefix']}{i:02d}", layer, feature if 0 < i < steps else "检查井"
                           if layer["manholes"] else "拐点" if i == 0 else "直线点", e, n0 + layer["offset"],
                           round(layer["depth"] + slope, 2))
            if previous is not None:
                b.line(previous[0], here, layer, previous[1], round(layer["depth"] + slope, 2))
            previous = (here, round(layer["depth"] + slope, 2))
    for layer in LAYERS:  # street B, from 300 m north down to street A
        feature = "检查井" if layer["manholes"] else "直线点"
        stop = 0.0 if layer["joins"] else 14.0
        norths = [300.0, 250.0, 200.0, 150.0, 100.0, 50.0, stop]
        previous = None
        for i, north in enumerate(norths):
            e = junction_e + layer["offset"]
            if layer["joins"] and i == len(norths) - 1:  # the junction: street A's point at this easting
                at = round((e - e0) / SEGMENT_M)
                here = f"A{layer['prefix']}{at:02d}"
                match = next(p for p in b.points if p["管线点号"] == here)
                depth = float(match["埋深"])  # B's last leg runs obliquely onto A's junction manhole
            else:
                depth = layer["depth"]
                here = b.point(f"B{layer['prefix']}{i:02d}", layer, feature if layer["manholes"] else
                               ("拐点" if i == 0 else "直线点"), e, n0 + north, depth)
            if previous is not None:
                b.line(previous[0], here, layer, previous[1], depth)
            previous = (here, depth)
    gas = next(layer for layer in LAYERS if layer["category"] == "燃气")
    service = {**gas, "size": 100}
    water = next(layer for layer in LAYERS if layer["category"] == "给水")
    side = n0 + water["offset"] + 0.45  # 0.45 m between axes: 0.2 m outer wall to outer wall
    start = b.point("ARQ-S1", gas, "三通", e0 + 65.0, side, 1.6)
    end = b.point("ARQ-S2", gas, "直线点", e0 + 85.0, side, 1.6)
    b.line(start, end, service, 1.6)
    return b.points, b.lines


def grid_network(segments: int, seed: int = 15) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """About ``segments`` segments on parallel streets (benchmark): each street carries six categories."""
    rng = np.random.default_rng(seed)
    e0, n0 = _to_map().transform(*ORIGIN_LONLAT)
    per_street = 40
    streets = max(1, math.ceil(segments / (per_street * len(LAYERS))))
    b = _Builder()
    count = 0
    for s in range(streets):
        north = n0 + s * 60.0
        for layer in LAYERS:
            previous = None
            for i in range(per_street + 1):
                if count >= segments and previous is None:
                    break
                e = e0 + i * 30.0 + float(rng.uniform(-2, 2))
                here = f"G{s}{layer['prefix']}{i}"
                b.point(here, layer, "检查井" if layer["manholes"] and i % 3 == 0 else "直线点", e,
                        north + layer["offset"], layer["depth"])
                if previous is not None:
                    if count >= segments:
                        break
                    b.line(previous, here, layer, layer["depth"])
                    count += 1
                previous = here
    return b.points, b.lines


def csv_bytes(rows: list[dict[str, Any]], columns: list[str], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in columns})
    return out.getvalue().encode(encoding)


def write_xlsx(path: Path, points: list[dict[str, Any]], lines: list[dict[str, Any]]) -> Path:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "管线点表"
    for sheet_rows, columns, sheet_name in ((points, POINT_COLUMNS, None), (lines, LINE_COLUMNS, "管线线表")):
        if sheet_name is not None:
            sheet = book.create_sheet(sheet_name)
        sheet.append(columns)
        for row in sheet_rows:
            sheet.append([row.get(c) for c in columns])
    book.save(path)
    return path


def write_csv_zip(path: Path, points: list[dict[str, Any]], lines: list[dict[str, Any]],
                  encoding: str = "utf-8") -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("管线点表.csv", csv_bytes(points, POINT_COLUMNS, encoding))
        archive.writestr("管线线表.csv", csv_bytes(lines, LINE_COLUMNS, encoding))
    return path


def _layer_fields(rows: list[dict[str, Any]], columns: list[str]) -> tuple[list[str], list[np.ndarray]]:
    fields, arrays = [], []
    for column in columns:
        values = [row.get(column) for row in rows]
        present = [v for v in values if v is not None]
        if present and all(isinstance(v, int | float) for v in present):
            arrays.append(np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64))
        else:
            arrays.append(np.array(["" if v is None else str(v) for v in values], dtype=object))
        fields.append(column)
    return fields, arrays


def write_layers(path: Path, points: list[dict[str, Any]], lines: list[dict[str, Any]], driver: str) -> list[Path]:
    """GeoPackage (two layers in one file) or Shapefile (two files next to ``path``): point geometries from
    X/Y, line geometries from their end points."""
    import shapely
    from pyogrio import raw

    by_id = {p["管线点号"]: (float(p["Y"]), float(p["X"])) for p in points}
    point_geoms = shapely.to_wkb(shapely.points([by_id[p["管线点号"]] for p in points]))
    line_geoms = shapely.to_wkb(shapely.linestrings([[by_id[r["起点点号"]], by_id[r["终点点号"]]] for r in lines]))
    written = []
    for name, rows, columns, geometry, kind in (("points", points, POINT_COLUMNS, point_geoms, "Point"),
                                                ("lines", lines, LINE_COLUMNS, line_geoms, "LineString")):
        fields, arrays = _layer_fields(rows, columns)
        target = path if driver == "GPKG" else path.with_name(f"{path.stem}_{name}.shp")
        raw.write(target, np.asarray(geometry, dtype=object), arrays, fields, layer=name, driver=driver,
                  geometry_type=kind, crs="EPSG:4546", encoding="GBK" if driver != "GPKG" else None,
                  append=driver == "GPKG" and name == "lines")
        written.append(target)
    return written


def write_shapefile_zip(path: Path, points: list[dict[str, Any]], lines: list[dict[str, Any]]) -> Path:
    folder = path.with_suffix("")
    folder.mkdir(parents=True, exist_ok=True)
    write_layers(folder / "network.shp", points, lines, "ESRI Shapefile")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.iterdir()):
            archive.write(file, file.name)
    return path


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    out.mkdir(parents=True, exist_ok=True)
    pts, lns = demo_network()
    print(write_xlsx(out / "kangbashi_pipelines_demo.xlsx", pts, lns), len(pts), "points", len(lns), "segments")
