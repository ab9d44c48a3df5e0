"""From the tessellated shapes to the written tileset: georeferenced elements (:mod:`.elements`), their
feature rows, the tiles and the footprint (:mod:`.tiling`), and that part of the conversion report.

Imports no ifcopenshell (the feature rows come from the caller): a small model's is run by the helper
process that imported these modules while the converting process imported ifcopenshell
(:mod:`.georef_service`); other models' in the converting process.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from converters.errors import ConversionError
from converters.ifc.elements import Element, collect
from converters.ifc.map_conversion import IfcGeoreference
from converters.ifc.shapes import ElementShape, Skipped
from converters.ifc.tiling import write_tileset

FeatureRows = Callable[[list[Element]], list[dict[str, Any]]]


def finish(
    shapes: Iterable[ElementShape | Skipped],
    georef: IfcGeoreference,
    feature_rows: FeatureRows,
    out_dir: Path,
    name: str,
    schema: str,
    compress: bool,
    jobs: int,
    progress: Callable[[int], None] | None = None,
    writing: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Georeference ``shapes``, take their ``feature_rows`` (once all are georeferenced) and write the
    tileset under ``out_dir``; returns the report's element, geometry, georeferencing and tile entries,
    with ``timings`` (``collect_s``, ``write_s``). ``progress(shapes seen)`` while collecting,
    ``writing()`` before the tiles are written; ``name`` (the input's) for the error message."""
    clock = time.perf_counter()
    collected = collect(shapes, georef, progress)
    rows = feature_rows(collected.elements)
    collect_s = time.perf_counter() - clock
    if not collected.elements:
        raise ConversionError(f"{name}: no element produced any geometry")
    georef = collected.georef or georef
    frame, moved = collected.frame or georef.frame, collected.frame_moved
    if writing is not None:
        writing()
    georef_report = georef.report()
    georef_report["origin"] = frame.as_report()
    if moved:
        georef_report["frame_note"] = "local frame moved to the model's centre (geometry far from the reference point)"
    metadata: dict[str, str | float | int | bool] = {
        "georeferencingSource": georef.source,
        "georeferencingConfidence": georef.confidence,
        "crs": str(georef.details.get("crs", "")),
        "originLongitude": frame.lon,
        "originLatitude": frame.lat,
        "originHeight": frame.height,
        "ifcSchema": schema,
    }
    clock = time.perf_counter()
    written = write_tileset(collected.elements, collected.materials, rows, frame, out_dir, compress, metadata, jobs)
    outline = written.pop("footprint")
    return {
        "elements": {
            "converted": len(collected.elements),
            "by_class": dict(sorted(collected.counts.items())),
            "skipped": [
                {"GlobalId": s.guid, "class": s.ifc_class, "step_id": s.step_id, "reason": s.reason}
                for s in collected.skipped
            ],
        },
        "triangles": collected.triangles,
        "vertices": collected.vertices,
        "materials": len(collected.materials),
        "instancing": {
            "geometries": collected.instanced_geometries,
            "instances": collected.instances,
            "extension": "EXT_mesh_gpu_instancing" if collected.instances else None,
        },
        "georeferencing": georef_report,
        "footprint": outline,
        "tiles": written,
        "bytes_written": written["bytes"],
        "compression": "KHR_mesh_quantization" if compress else "none",
        "timings": {"collect_s": collect_s, "write_s": time.perf_counter() - clock},
    }
