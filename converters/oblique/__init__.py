"""Oblique photogrammetry delivered as OSGB (zip) → 3D Tiles 1.1 (issue 14). ``sniff(path)``: a zip with
``.osgb`` files and a ``metadata.xml`` (a delivery without it is still this kind, and is refused with a
clear message by :func:`convert`); see :mod:`converters.oblique.convert`."""

from __future__ import annotations

from converters.oblique.convert import convert
from converters.sniff import oblique as sniff

__all__ = ["convert", "sniff"]
