"""A small model's georeferencing and tile writing, in a helper forked before ifcopenshell is imported.

A projected CRS needs pyproj (its import ~60 ms: its package also loads its network, sync and
version-report modules; PROJ's database and transformer set-up ~15 ms), and the tiles need shapely,
meshoptimizer and the tile writers (~50 ms to import); none of which ifcopenshell's own serializer
loads. A model of a few elements has no tessellation to hide them behind, so :meth:`GeorefService.start`
forks a helper at the start of an IFC conversion, before ifcopenshell is imported: the helper imports
all of that (and opens PROJ's database) while the converting process imports ifcopenshell and reads
the model. The converting process then sends the model's :class:`~.map_conversion.MapConversion`
(:meth:`~GeorefService.submit`: the helper builds the georeference while the model is tessellated),
and the shapes with their feature rows (:meth:`~GeorefService.finish`): the helper runs
:func:`.finish.finish`, the same code as in-process (same bytes), and answers with the report. The
converting process imports neither pyproj nor shapely.

Only for small models: the helper is forked for an ``.ifc`` file of at most :data:`SMALL_FILE_BYTES`
whose text names a map conversion (:func:`worth_starting`; others would pay for pyproj's import in
vain), by a process that has not imported pyproj yet, and used when the model has at most
:data:`SMALL_MODEL_ELEMENTS` elements (one tessellation child); otherwise the converting process
closes it before forking the children and does the work itself, as for any large model (whose shapes
would be copied through the pipe, and the helper would hold memory while the children tessellate).
"""

from __future__ import annotations

import multiprocessing
import os
from functools import partial
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from converters.errors import ConversionError
from converters.georef import note_geoids_used
from converters.process_guard import die_with_parent

if TYPE_CHECKING:
    from converters.ifc.elements import Element
    from converters.ifc.map_conversion import IfcGeoreference, MapConversion
    from converters.ifc.shapes import ElementShape, Skipped

SMALL_MODEL_ELEMENTS = 100  # geometry.MIN_WEIGHT_PER_CHILD: below it, one tessellation child and a free core
SMALL_FILE_BYTES = 1 << 20
_JOIN_S = 5.0
_MAP_CONVERSION_NAMES = (b"IFCMAPCONVERSION", b"EPSET_MAPCONVERSION")  # IFC4 entity, IFC2X3 property set


def worth_starting(path: Path) -> bool:
    """True for a small ``.ifc`` file that names a map conversion (read whole: at most 1 MiB)."""
    try:
        if path.suffix.lower() != ".ifc" or path.stat().st_size > SMALL_FILE_BYTES:
            return False
        text = path.read_bytes().upper()
    except OSError:
        return False
    return any(name in text for name in _MAP_CONVERSION_NAMES)


def _rows(rows: dict[int, dict[str, Any]], elements: list[Element]) -> list[dict[str, Any]]:
    return [rows[element.step_id] for element in elements]


def _serve(conn: Connection, parent: int) -> None:
    """The helper: import what it will run, then take ``("build", MapConversion)`` (no answer) and
    answer ``("finish", shapes, rows by step id, arguments of finish)`` with ``("ok", (report, geoids
    used))`` or ``("error", exception)``; ends on ``("close",)`` or when the pipe closes."""
    die_with_parent(parent)
    try:
        from converters.georef import geoids_used, open_proj_database
        from converters.ifc.finish import finish

        open_proj_database()
        georef: IfcGeoreference | Exception | None = None
        while True:
            try:
                request = conn.recv()
            except EOFError:
                break
            if request[0] == "close":
                break
            if request[0] == "build":
                try:
                    georef = request[1].georeference()
                except Exception as error:  # raised in the converting process by the finish request
                    georef = error
                continue
            try:
                if isinstance(georef, Exception):
                    raise georef
                if georef is None:
                    raise RuntimeError("finish requested before a map conversion was sent")
                _, shapes, rows, arguments = request
                report = finish(shapes, georef, partial(_rows, rows), **arguments)
                answer: Any = (report, geoids_used())
            except Exception as error:  # raised again in the converting process
                _send_error(conn, error)
            else:
                conn.send(("ok", answer))
    finally:
        conn.close()
        os._exit(0)  # a forked child: no interpreter teardown


def _send_error(conn: Connection, error: Exception) -> None:
    """Send ``error`` to the converting process; if it cannot be pickled, its message in the same kind
    of error (ConversionError: the model's fault, else RuntimeError)."""
    try:
        conn.send(("error", error))
    except Exception:  # unpicklable (a lock, a file, a C object in its arguments)
        kind = ConversionError if isinstance(error, ConversionError) else RuntimeError
        conn.send(("error", kind(f"{type(error).__name__}: {error}")))


class GeorefService:
    """The converting process's end of the helper (see the module docstring)."""

    def __init__(self, process: Any, conn: Connection) -> None:
        self._process = process
        self._conn = conn
        self._open = True

    @classmethod
    def start(cls) -> GeorefService:
        context = multiprocessing.get_context("fork")
        ours, theirs = context.Pipe()
        process = context.Process(target=_serve, args=(theirs, os.getpid()), daemon=True, name="ifc-georef")
        process.start()
        theirs.close()
        return cls(process, ours)

    def submit(self, conversion: MapConversion) -> None:
        """Have the helper build the georeference of ``conversion`` now, for :meth:`finish`."""
        self._conn.send(("build", conversion))

    def finish(
        self, shapes: list[ElementShape | Skipped], rows: dict[int, dict[str, Any]], **arguments: Any
    ) -> dict[str, Any]:
        """:func:`.finish.finish` in the helper, with the submitted conversion's georeference and the
        feature rows of ``rows`` (step id → row); raises what it (or building the georeference) raised."""
        self._conn.send(("finish", shapes, rows, arguments))
        try:
            status, value = self._conn.recv()
        except (EOFError, OSError):  # killed (out of memory…) or crashed: not the model's fault
            raise RuntimeError("the helper process writing the tiles ended unexpectedly") from None
        except Exception as error:  # an answer that could not be rebuilt here
            raise RuntimeError(f"the helper process writing the tiles answered what cannot be read: {error}") from None
        if status == "error":
            raise value
        report, geoids = value
        note_geoids_used(geoids)  # for the conversion report (converters.api)
        result: dict[str, Any] = report
        return result

    def stop(self) -> None:
        """Let the helper end (it exits at once; :meth:`close` reaps it)."""
        if self._open:
            self._open = False
            try:
                self._conn.send(("close",))
            except OSError:
                pass  # already gone
            self._conn.close()

    def close(self) -> None:
        """End the helper and wait for it (idempotent)."""
        self.stop()
        self._process.join(_JOIN_S)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(_JOIN_S)
