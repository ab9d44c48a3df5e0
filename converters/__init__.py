"""Input formats to georeferenced meshes and points, written as 3D Tiles by :mod:`tiles`.

Knows nothing of HTTP or databases: ``cim convert`` works offline.
"""

from converters.api import convert, detect_kind
from converters.errors import ConversionError, GeoreferencingError, UnsupportedFormatError
from converters.options import ConvertOptions

__all__ = [
    "ConversionError",
    "ConvertOptions",
    "GeoreferencingError",
    "UnsupportedFormatError",
    "convert",
    "detect_kind",
]
