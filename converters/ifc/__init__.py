"""IFC (.ifc, .ifczip; IFC2X3, IFC4, IFC4X3) → georeferenced 3D Tiles 1.1 with per-element metadata.

``convert(input_path, out_dir, options) -> report`` — see :mod:`converters.api`. Steps: open safely
(:mod:`.source`), find the georeferencing (:mod:`.georeference`), tessellate in a watched child
process (:mod:`.geometry`), georeference vertices (:mod:`.elements`), gather attributes
(:mod:`.properties`), write tiles and the footprint (:mod:`.tiling`; these last steps: :mod:`.finish`).
A small model with a map conversion is georeferenced and written by a helper process forked before
ifcopenshell is imported, which imports pyproj and the tile writers meanwhile (:mod:`.georef_service`).
"""

from __future__ import annotations

import itertools
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from converters.errors import ConversionError
from converters.ifc.georef_service import SMALL_MODEL_ELEMENTS, GeorefService, worth_starting
from converters.options import ConvertOptions

if TYPE_CHECKING:
    from converters.ifc.elements import Element
    from converters.ifc.map_conversion import IfcGeoreference

__all__ = ["convert"]


def convert(input_path: Path, out_dir: Path, options: ConvertOptions) -> dict[str, Any]:
    jobs = options.jobs or os.cpu_count() or 1
    # Forked before ifcopenshell is imported (in _convert): with a core to spare, the helper imports
    # pyproj and the tile writers meanwhile, for a small model with a map conversion (.georef_service).
    # Not in a process that has pyproj already: nothing to gain, and a forked child should not use
    # the PROJ database connection it would inherit.
    fresh = "pyproj" not in sys.modules
    helper = GeorefService.start() if jobs > 1 and fresh and worth_starting(Path(input_path)) else None
    try:
        return _convert(Path(input_path), Path(out_dir), options, jobs, helper)
    finally:
        if helper is not None:
            helper.close()


def _convert(
    input_path: Path, out_dir: Path, options: ConvertOptions, jobs: int, helper: GeorefService | None
) -> dict[str, Any]:
    from converters.ifc.geometry import expected_elements, tessellate
    from converters.ifc.properties import ElementProperties
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
        if helper is not None:
            from converters.ifc.georeference import map_conversion

            conversion = map_conversion(model, options) if total <= SMALL_MODEL_ELEMENTS else None
            if conversion is None:
                helper.close()  # before the children are forked: not in memory beside them
                helper = None
            else:
                helper.submit(conversion)  # built while the model is tessellated
        small = list(expected) if helper is not None else []  # step ids of the elements of a small model
        lap("prepare_s")

        def progress(done: int) -> None:
            options.report_progress(0.05 + 0.75 * done / total, f"tessellated {done}/{total} elements")

        def writing() -> None:
            options.report_progress(0.85, "writing tiles")

        arguments: dict[str, Any] = {
            "out_dir": out_dir,
            "name": input_path.name,
            "schema": schema,
            "compress": options.compress,
            "jobs": jobs,
        }
        kernels: dict[str, Any] = {}
        resolved: list[IfcGeoreference] = []
        rows: dict[int, dict[str, Any]] = {}

        def beside_the_tessellators() -> None:
            """While the forked children tessellate: a small model's feature rows when the helper
            georeferences and writes it; otherwise the georeferencing (pyproj's import and CRS set-up
            for a projected CRS) and the modules of the later steps (tiles, shapely, meshoptimizer): a
            model's start-up cost overlaps its tessellation."""
            if helper is not None:
                properties = ElementProperties(model)
                rows.update((step_id, properties.of(model.by_id(step_id))) for step_id in small)
                return
            from converters.ifc import finish  # noqa: F401  # imported now, used below
            from converters.ifc.georeference import resolve

            resolved.append(resolve(model, options))

        shapes = tessellate(
            model, jobs, options.element_timeout_s, options.include_spaces, kernels, expected, beside_the_tessellators
        )
        del expected  # 50 000 entity wrappers on the large model: the generator's reference ends with it
        first = next(shapes)  # forks the children, runs the above, waits for the first shape
        if helper is not None:  # a small model: georeferenced and written by the helper
            tessellated = [first, *shapes]
            writing()
            result = helper.finish(tessellated, rows, **arguments)
            helper.stop()  # it exits while this process reports (convert() reaps it)
        else:
            from converters.ifc.finish import finish  # imported by the above: no cost now

            def feature_rows(elements: list[Element]) -> list[dict[str, Any]]:
                # The feature rows, once, after the tessellation: the lookup tables (~27 MB of entity
                # wrappers on a 20 000-element model) are not in the heap of the forked tessellators,
                # and are freed before the tile writers start (which then never call ifcopenshell).
                properties = ElementProperties(model)
                return [properties.of(model.by_id(element.step_id)) for element in elements]

            stream = itertools.chain([first], shapes)
            result = finish(stream, resolved[0], feature_rows, progress=progress, writing=writing, **arguments)
        finished = result.pop("timings")
        timings["geometry_s"] = round(time.perf_counter() - clock - finished["write_s"], 3)
        timings["write_s"] = round(finished["write_s"], 3)
        options.report_progress(1.0, "done")
        result["elements"] = {"expected": total, **result["elements"]}
        return {
            "kind": "ifc",
            "schema": schema,
            "authoring_application": application,
            "ifc_header": header_fields(model),
            "kernel": kernels,
            "jobs": jobs,
            **result,
            "timings": timings,
        }
    finally:
        cleanup(work_dir)

