"""IFC (.ifc, .ifczip; IFC2X3, IFC4, IFC4X3) → georeferenced 3D Tiles 1.1 with per-element metadata.

``convert(input_path, out_dir, options) -> report`` — see :mod:`converters.api`. Steps: open safely
(:mod:`.source`), find the georeferencing (:mod:`.georeference`), tessellate in a watched child
process (:mod:`.geometry`), georeference vertices (:mod:`.elements`), gather attributes
(:mod:`.properties`), write tiles and the footprint (:mod:`.tiling`).
"""

from __future__ import annotations

import itertools
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from converters.errors import ConversionError
from converters.ifc.georef_service import SMALL_MODEL_ELEMENTS, GeorefService, worth_starting
from converters.options import ConvertOptions

if TYPE_CHECKING:
    from converters.ifc.georeference import IfcGeoreference

__all__ = ["convert"]


def convert(input_path: Path, out_dir: Path, options: ConvertOptions) -> dict[str, Any]:
    jobs = options.jobs or os.cpu_count() or 1
    # Forked before ifcopenshell is imported (in _convert): with a core to spare, the helper readies
    # pyproj meanwhile, for a small model's map georeference (see .georef_service).
    helper = GeorefService.start() if jobs > 1 and worth_starting(Path(input_path)) else None
    try:
        return _convert(Path(input_path), Path(out_dir), options, jobs, helper)
    finally:
        if helper is not None:
            helper.close()


def _convert(
    input_path: Path, out_dir: Path, options: ConvertOptions, jobs: int, helper: GeorefService | None
) -> dict[str, Any]:
    from converters.ifc.geometry import expected_elements, tessellate
    from converters.ifc.source import cleanup, header_fields, open_model

    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        clock = now

    out_dir.mkdir(parents=True, exist_ok=True)
    work_dir = out_dir / ".work"
    try:
        options.report_progress(0.0, "reading IFC")
        model, schema, application, _ = open_model(Path(input_path), work_dir)
        lap("read_s")
        expected = expected_elements(model, options.include_spaces)
        if not expected:
            raise ConversionError(f"{Path(input_path).name}: the model has no elements with geometry")
        total = len(expected)
        remote = False
        if helper is not None:
            from converters.ifc.georeference import map_conversion

            conversion = map_conversion(model, options) if total <= SMALL_MODEL_ELEMENTS else None
            if conversion is None:
                helper.close()  # before the children are forked: not in memory beside them
            else:
                helper.submit(conversion)
                remote = True
        lap("prepare_s")

        def progress(done: int) -> None:
            options.report_progress(0.05 + 0.75 * done / total, f"tessellated {done}/{total} elements")

        resolved: list[IfcGeoreference] = []

        def beside_the_tessellators() -> None:
            """The georeferencing (pyproj's import and CRS set-up for a projected CRS) and the modules
            of the later steps (tiles, shapely, meshoptimizer), while the forked children tessellate:
            a small model's start-up cost overlaps its tessellation."""
            from converters.ifc import tiling  # noqa: F401  # imported now, used below
            from converters.ifc.georeference import resolve

            resolved.append(helper.georeference() if remote and helper is not None else resolve(model, options))

        kernels: dict[str, Any] = {}
        shapes = tessellate(
            model, jobs, options.element_timeout_s, options.include_spaces, kernels, expected, beside_the_tessellators
        )
        first = next(shapes)  # forks the children, runs the above, waits for the first shape
        from converters.ifc import elements as element_module  # imported by the above: no cost now
        from converters.ifc.properties import ElementProperties
        from converters.ifc.tiling import write_tileset

        georef = resolved[0]
        collected = element_module.collect(itertools.chain([first], shapes), georef, progress)
        if helper is not None:
            helper.close()  # the vertices are georeferenced
        del shapes, expected  # 50 000 entity wrappers on the large model: not needed any more
        # The feature rows, once, after the tessellation: the lookup tables (~27 MB of entity wrappers
        # on a 20 000-element model) are not in the heap of the forked tessellators, and are freed
        # before the tile writers start (which then never call ifcopenshell).
        properties = ElementProperties(model)
        rows = [properties.of(model.by_id(element.step_id)) for element in collected.elements]
        del properties
        lap("geometry_s")
        if not collected.elements:
            raise ConversionError(f"{Path(input_path).name}: no element produced any geometry")
        georef = collected.georef or georef
        frame, moved = collected.frame or georef.frame, collected.frame_moved
        options.report_progress(0.85, "writing tiles")
        georef_report = georef.report()
        georef_report["origin"] = frame.as_report()
        if moved:
            georef_report["frame_note"] = (
                "local frame moved to the model's centre (geometry far from the reference point)"
            )
        metadata: dict[str, str | float | int | bool] = {
            "georeferencingSource": georef.source,
            "georeferencingConfidence": georef.confidence,
            "crs": str(georef.details.get("crs", "")),
            "originLongitude": frame.lon,
            "originLatitude": frame.lat,
            "originHeight": frame.height,
            "ifcSchema": schema,
        }
        written = write_tileset(
            collected.elements,
            collected.materials,
            rows,
            frame,
            out_dir,
            options.compress,
            metadata,
            jobs,
        )
        outline = written.pop("footprint")
        lap("write_s")
        options.report_progress(1.0, "done")
        return {
            "kind": "ifc",
            "schema": schema,
            "authoring_application": application,
            "ifc_header": header_fields(model),
            "kernel": kernels,
            "jobs": jobs,
            "elements": {
                "expected": total,
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
            "compression": "KHR_mesh_quantization" if options.compress else "none",
            "timings": timings,
        }
    finally:
        cleanup(work_dir)
