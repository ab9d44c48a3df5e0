"""The one entry point of the converters: ``convert(input, out_dir, options) -> report``.

Each input kind has a module exposing ``convert(input_path, out_dir, options) -> dict``: it writes
``tileset.json`` and its contents under ``out_dir`` and returns the conversion report (a JSON-able
dict), which this module also writes to ``out_dir / "report.json"``. Whatever a converter calls it,
the report leaves here with ``kind``, ``input``, ``timings.total_s`` and ``footprint_wgs84`` (a GeoJSON
Polygon/MultiPolygon in EPSG:4326, or null), the keys the platform relies on, and ``geoid`` (the geoid
grids used for orthometric heights, when any were: the city grid of ``options.geoid_grid`` for Yellow Sea
1985 heights, else EGM96 with its caveat).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import time
from pathlib import Path
from typing import Any

from converters.errors import ConversionError, UnsupportedFormatError
from converters.options import ConvertOptions

KIND_MODULES: dict[str, str] = {
    "ifc": "converters.ifc",
    "pointcloud": "converters.pointcloud",
    "mesh": "converters.mesh",
    "footprints": "converters.footprints",
    "terrain": "converters.terrain",
    "imagery": "converters.imagery",
    "tileset": "converters.tilesets",
    "oblique": "converters.oblique",
    "pipelines": "converters.pipelines",
}

SUFFIX_KINDS: dict[str, str] = {
    ".ifc": "ifc",
    ".ifczip": "ifc",
    ".las": "pointcloud",
    ".laz": "pointcloud",
    ".obj": "mesh",
    ".ply": "mesh",
    ".gltf": "mesh",
    ".glb": "mesh",
    ".geojson": "footprints",
    ".gpkg": "footprints",
    ".json": "footprints",  # CityJSON or GeoJSON, decided by the footprint converter
    ".city.json": "footprints",
}

# Suffixes several kinds share: each candidate decides with ``sniff(path) -> bool`` (a cheap look at the file), in
# this order: :data:`converters.sniff.SNIFFERS` (imports no converter package), else the kind's module's ``sniff``;
# a candidate whose module is not there is skipped.
SHARED_SUFFIXES: dict[str, tuple[str, ...]] = {
    ".tif": ("terrain", "imagery"),  # one band of heights, or colour bands
    ".tiff": ("terrain", "imagery"),
    ".zip": ("tileset", "oblique", "pipelines"),  # tileset.json, OSGB folders with metadata.xml, zipped Shapefiles
    ".gpkg": ("pipelines", "footprints"),  # pipeline point and line layers, else building footprints
    ".csv": ("pipelines",),
    ".xlsx": ("pipelines",),
}

REPORT_NAME = "report.json"
TILESET_NAME = "tileset.json"


def detect_kind(path: Path, declared: str | None = None, filename: str | None = None) -> str:
    """The converter kind for ``path``: the declared one if given, else by file name (``filename`` when the
    file's own name is not the user's, e.g. an upload being received), sniffing the file's bytes where
    several kinds share a suffix."""
    if declared:
        if declared not in KIND_MODULES:
            raise UnsupportedFormatError(
                f"unknown kind {declared!r}; expected one of: {', '.join(sorted(KIND_MODULES))}"
            )
        return declared
    name = (filename or path.name).lower()
    for suffix, candidates in SHARED_SUFFIXES.items():
        if name.endswith(suffix):
            kind = _sniffed_kind(path, candidates)
            if kind is not None:
                return kind
    for suffix, kind in sorted(SUFFIX_KINDS.items(), key=lambda item: -len(item[0])):
        if name.endswith(suffix):
            return kind
    suffixes = sorted(set(SUFFIX_KINDS) | set(SHARED_SUFFIXES))
    raise UnsupportedFormatError(
        f"{filename or path.name}: not a supported format (expected one of {', '.join(suffixes)})"
    )


def _sniffed_kind(path: Path, candidates: tuple[str, ...]) -> str | None:
    """The first candidate kind whose converter recognises the file (its module's ``sniff``)."""
    from converters.sniff import SNIFFERS

    for kind in candidates:
        if kind in SNIFFERS:
            if SNIFFERS[kind](path):
                return kind
            continue
        if importlib.util.find_spec(KIND_MODULES[kind]) is None:
            continue
        sniff = getattr(importlib.import_module(KIND_MODULES[kind]), "sniff", None)
        if sniff is not None and sniff(path):
            return kind
    return None


def check_input(path: Path, kind: str, options: ConvertOptions | None = None) -> None:
    """Refuse early (e.g. at upload) what the kind's converter would refuse: its module's optional
    ``check_input(path, options)`` raises ConversionError with the reason."""
    module = importlib.import_module(KIND_MODULES[kind])
    check = getattr(module, "check_input", None)
    if check is not None:
        check(path, options or ConvertOptions())


def footprint_geometry(report: dict[str, Any]) -> dict[str, Any] | None:
    """The dataset's 2D footprint as a GeoJSON geometry in EPSG:4326, whichever way a converter wrote it
    (``footprint_wgs84`` as a geometry, or ``footprint`` as a geometry or as ``{"crs", "geometry"}``)."""
    for key in ("footprint_wgs84", "footprint"):
        value = report.get(key)
        if isinstance(value, dict) and isinstance(value.get("geometry"), dict):
            value = value["geometry"]
        if isinstance(value, dict) and value.get("type") in ("Polygon", "MultiPolygon"):
            return value
    return None


def convert(input_path: Path, out_dir: Path, options: ConvertOptions | None = None) -> dict[str, Any]:
    """Convert one input file into a georeferenced 3D Tiles 1.1 tileset under ``out_dir``."""
    options = options or ConvertOptions()
    input_path = Path(input_path)
    out_dir = Path(out_dir)
    if not input_path.is_file():
        raise ConversionError(f"{input_path}: no such file")
    kind = detect_kind(input_path, options.kind)
    module = importlib.import_module(KIND_MODULES[kind])
    from converters.georef import use_geoid_grid  # NumPy: not needed to tell a kind or refuse a file

    started = time.perf_counter()
    with use_geoid_grid(options.geoid_grid) as geoids:  # a missing/unreadable grid fails here, before any work
        out_dir.mkdir(parents=True, exist_ok=True)
        report: dict[str, Any] = module.convert(input_path, out_dir, options)
    if geoids:  # orthometric heights were converted: which geoid grid(s), EGM96 with its caveat
        report["geoid"] = [model.report() for model in geoids.values()]
    report.setdefault("kind", kind)
    report["footprint_wgs84"] = footprint_geometry(report)
    report.setdefault("input", {"name": input_path.name, "bytes": input_path.stat().st_size})
    report.setdefault("timings", {})["total_s"] = round(time.perf_counter() - started, 3)
    (out_dir / REPORT_NAME).write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    return report
