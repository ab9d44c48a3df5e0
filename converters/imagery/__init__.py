"""Orthophoto GeoTIFF/COG → a cloud-optimized GeoTIFF with overviews, tiled on demand (issue 14)."""

from __future__ import annotations

from pathlib import Path

from converters.imagery.convert import COG_MEDIA_TYPE, COG_NAME, check_bands, convert
from converters.options import ConvertOptions
from converters.sniff import imagery as sniff
from converters.terrain.raster_input import open_raster, raster_crs

__all__ = ["COG_MEDIA_TYPE", "COG_NAME", "check_input", "convert", "sniff"]


def check_input(path: Path, options: ConvertOptions) -> None:
    """Refuse at upload what the conversion would refuse: unreadable, not 8-bit colour, no CRS."""
    with open_raster(path, "orthophoto") as source:
        check_bands(source, path.name)
        raster_crs(source, options.crs, path.name, "orthophoto")
