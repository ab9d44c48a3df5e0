"""Errors of the coverage domain (part of the one hierarchy in ``cim_platform.core.errors``)."""

from __future__ import annotations

from cim_platform.core.errors import InvalidInput, NotFound


class UnknownUnit(NotFound):
    code = "coverage_unknown_unit"


class BadGeometryFile(InvalidInput):
    """A built-up area, boundary or inventory file that cannot be read as polygons."""

    code = "coverage_bad_geometry_file"


class NoSnapshot(NotFound):
    """No stored snapshot answers the question (e.g. ``at`` before the first one)."""

    code = "coverage_no_snapshot"
