"""Small pipeline survey tables for tests, and the sample generator of ``sample_models/pipelines``."""

from __future__ import annotations

import importlib.util
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[2]
CRS = "EPSG:4546+5737"
E0, N0 = 480_000.0, 4_385_000.0  # Kangbashi, CGCS2000 zone 37 (EPSG:4546)


def generator() -> ModuleType:
    """``sample_models/pipelines/generate.py`` as a module."""
    spec = importlib.util.spec_from_file_location("pipelines_generate", REPO / "sample_models/pipelines/generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def point(ident: str, category: str, e: float, n: float, ground: float | None = 1300.0, depth: Any = None,
          feature: str = "直线点", size: Any = None) -> dict[str, Any]:
    """A point row in the Chinese layout (X = northing, Y = easting, offsets from E0/N0)."""
    return {"管线点号": ident, "类别": category, "特征": feature, "X": N0 + n, "Y": E0 + e, "地面高程": ground,
            "埋深": depth, "井径": size}


def line(start: str, end: str, category: str, depth0: Any = None, depth1: Any = None, diameter: Any = None,
         section: Any = None, **more: Any) -> dict[str, Any]:
    row = {"起点点号": start, "终点点号": end, "类别": category, "起点埋深": depth0, "终点埋深": depth1,
           "管径": diameter, "断面尺寸": section, "材质": "PE", "权属单位": "测试单位"}
    row.update(more)
    return row


def write_zip(path: Path, points: list[dict[str, Any]], lines: list[dict[str, Any]], encoding: str = "utf-8",
              point_columns: list[str] | None = None, line_columns: list[str] | None = None) -> Path:
    gen = generator()
    point_columns = point_columns or list(dict.fromkeys(k for row in points for k in row))
    line_columns = line_columns or list(dict.fromkeys(k for row in lines for k in row))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("points.csv", gen.csv_bytes(points, point_columns, encoding))
        archive.writestr("lines.csv", gen.csv_bytes(lines, line_columns, encoding))
    return path
