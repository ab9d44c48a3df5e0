"""A small model's map georeference, built in a forked helper while the converting process imports ifcopenshell.

A projected CRS needs pyproj: its import (~60 ms; its package also loads its network, sync and
version-report modules), PROJ's database and transformer set-up (~15 ms) and its share of the
interpreter's teardown, none of which ifcopenshell's own serializer pays. A model of a few elements
has no tessellation to hide them behind, so :meth:`GeorefService.start` forks a helper at the start of
an IFC conversion, before ifcopenshell is imported: the helper imports pyproj and opens PROJ's
database while the converting process imports ifcopenshell and reads the model. The converting
process then sends the model's :class:`~.map_conversion.MapConversion` (:meth:`~GeorefService.submit`),
forks the tessellation and imports the tile writers, and takes the georeference
(:meth:`~GeorefService.georeference`): frame and report from the helper, and a ``to_enu`` that sends
the vertices to the helper, which runs the in-process code on them (same numbers). The converting
process never imports pyproj; the helper ends when the conversion has georeferenced its geometry.

Only for small models: the helper is forked for an ``.ifc`` file of at most :data:`SMALL_FILE_BYTES`
whose text names a map conversion (:func:`worth_starting`; others would pay for pyproj's import in
vain), and used when the model has at most :data:`SMALL_MODEL_ELEMENTS` elements (one tessellation
child); otherwise the converting process closes it before forking the children and georeferences
in-process beside them, as for any large model: millions of vertices
would cross the pipe, and the helper would hold its memory while the children tessellate.
"""

from __future__ import annotations

import multiprocessing
import os
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from converters.errors import ConversionError
from converters.georef import note_geoids_used
from converters.ifc.map_conversion import IfcGeoreference, MapConversion
from converters.process_guard import die_with_parent

if TYPE_CHECKING:
    import numpy as np

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


def _serve(conn: Connection, parent: int) -> None:
    """The helper: ready PROJ, then answer ``("build", MapConversion)`` and ``("to_enu", points)``
    with ``("ok", value)`` or ``("error", exception)`` until ``("close",)`` or the pipe closes."""
    die_with_parent(parent)
    try:
        from converters.georef import geoids_used, open_proj_database

        open_proj_database()
        georef: IfcGeoreference | None = None
        while True:
            try:
                request = conn.recv()
            except EOFError:
                break
            if request[0] == "close":
                break
            try:
                if request[0] == "build":
                    georef = request[1].georeference()
                    answer: Any = (
                        georef.source,
                        georef.confidence,
                        georef.frame,
                        georef.details,
                        georef.map_crs,
                        geoids_used(),
                    )
                elif georef is None:
                    raise RuntimeError(f"{request[0]!r} before the georeference was built")
                else:
                    answer = georef.to_enu(request[1])
            except Exception as error:  # raised again in the converting process
                conn.send(("error", error))
            else:
                conn.send(("ok", answer))
    finally:
        conn.close()
        os._exit(0)  # a forked child: no interpreter teardown


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
        """Have the helper build the georeference of ``conversion`` (answered by :meth:`georeference`)."""
        self._conn.send(("build", conversion))

    def georeference(self) -> IfcGeoreference:
        """The submitted conversion's georeference, its ``to_enu`` answered by the helper; raises what
        building it raised (:class:`~converters.errors.GeoreferencingError`...)."""
        source, confidence, frame, details, map_crs, geoids = self._answer()
        note_geoids_used(geoids)  # for the conversion report (converters.api)
        return IfcGeoreference(source, confidence, frame, self._to_enu, details, map_crs=map_crs)

    def _to_enu(self, points: np.ndarray) -> np.ndarray:
        self._conn.send(("to_enu", points))  # as given: the same dtype arithmetic as in-process
        result: np.ndarray = self._answer()
        return result

    def _answer(self) -> Any:
        try:
            status, value = self._conn.recv()
        except (EOFError, OSError):
            raise ConversionError("the georeferencing helper process ended unexpectedly") from None
        if status == "error":
            raise value
        return value

    def close(self) -> None:
        """End the helper (idempotent); its georeference's ``to_enu`` is unusable afterwards."""
        if not self._open:
            return
        self._open = False
        try:
            self._conn.send(("close",))
        except OSError:
            pass  # already gone
        self._conn.close()
        self._process.join(_JOIN_S)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(_JOIN_S)
