"""DEM GeoTIFF → quantized-mesh terrain tiles with ``layer.json`` (issue 14)."""

from __future__ import annotations

from pathlib import Path

from converters.options import ConvertOptions
from converters.terrain.convert import CONTENTS_NAME, LAYER_NAME, TERRAIN_MEDIA_TYPE, convert
from converters.terrain.raster_input import HEIGHT_DTYPES, band_layout, open_raster, raster_crs

__all__ = ["CONTENTS_NAME", "LAYER_NAME", "TERRAIN_MEDIA_TYPE", "check_input", "convert", "sniff"]


def sniff(path: Path) -> bool:
    """One band of heights (integers wider than a byte, or floats); also a file that cannot be read as a
    raster at all, so that its refusal (``check_input``) says why rather than "not a supported format"."""
    layout = band_layout(path)
    return layout is None or (layout[0] == 1 and layout[1] in HEIGHT_DTYPES)


def check_input(path: Path, options: ConvertOptions) -> None:
    """Refuse at upload what the conversion would refuse: unreadable, several bands, no CRS."""
    with open_raster(path, "DEM") as source:
        raster_crs(source, options.crs, path.name, "DEM")
