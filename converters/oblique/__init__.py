"""Oblique photogrammetry delivered as OSGB (zip) → 3D Tiles 1.1 (issue 14). ``sniff(path)``: a zip with
``.osgb`` files and a ``metadata.xml`` (a delivery without it is still this kind, and is refused with a
clear message by :func:`convert`); see :mod:`converters.oblique.convert`."""

from __future__ import annotations

from pathlib import Path

from converters.oblique.convert import convert, find_delivery
from converters.tilesets.archive import inspect_zip, member_names


def sniff(path: Path) -> bool:
    """A zip holding ``.osgb`` files. A hostile archive or a delivery without ``metadata.xml`` is refused
    here already (ConversionError), before it is stored."""
    if not any(name.lower().endswith(".osgb") for name in member_names(Path(path))):
        return False
    find_delivery(inspect_zip(Path(path)), Path(path).name)
    return True


__all__ = ["convert", "sniff"]
