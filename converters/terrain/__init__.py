"""DEM GeoTIFF → quantized-mesh terrain tiles with ``layer.json`` (issue 14)."""

from __future__ import annotations

from pathlib import Path

from converters.options import ConvertOptions
from converters.sniff import terrain as sniff
from converters.terrain.convert import CONTENTS_NAME, LAYER_NAME, TERRAIN_MEDIA_TYPE, convert
from converters.terrain.raster_input import open_raster, raster_crs

__all__ = ["CONTENTS_NAME", "LAYER_NAME", "TERRAIN_MEDIA_TYPE", "check_input", "convert", "sniff"]


def check_input(path: Path, options: ConvertOptions) -> None:
    """Refuse at upload what the conversion would refuse: unreadable, several bands, no CRS."""
    with open_raster(path, "DEM") as source:
        raster_crs(source, options.crs, path.name, "DEM")
