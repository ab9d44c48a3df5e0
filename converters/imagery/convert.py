"""An orthophoto GeoTIFF or COG → one Cloud-Optimized GeoTIFF with overviews (GDAL's COG driver
builds them when the input has none), kept as the revision's output; tiles are cut from it on demand
(:mod:`converters.imagery.tiles`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import rasterio
from rasterio.shutil import copy as copy_raster
from shapely.geometry import mapping

from converters.errors import ConversionError
from converters.options import ConvertOptions
from converters.terrain.convert import CONTENTS_NAME
from converters.terrain.raster_input import footprint_wgs84, open_raster, raster_crs

COG_NAME = "imagery.tif"

COG_MEDIA_TYPE = "image/tiff; application=geotiff; profile=cloud-optimized"
WHAT = "orthophoto"


def check_bands(dataset: Any, name: str) -> None:
    if dataset.count not in (1, 3, 4) or dataset.dtypes[0] != "uint8":
        raise ConversionError(
            f"{name}: an orthophoto has 1, 3 or 4 bands of 8-bit colour; this GeoTIFF has {dataset.count} "
            f"band(s) of {dataset.dtypes[0]} (a DEM? upload it as terrain)"
        )


def convert(input_path: Path, out_dir: Path, options: ConvertOptions) -> dict[str, Any]:
    target = out_dir / COG_NAME
    with open_raster(input_path, WHAT) as source:
        check_bands(source, input_path.name)
        crs = raster_crs(source, options.crs, input_path.name, WHAT)
        footprint = footprint_wgs84(source, crs)
        had_overviews = bool(source.overviews(1))
        options.report_progress(0.1, "writing the cloud-optimized GeoTIFF")
        creation = {
            "driver": "COG",
            "BLOCKSIZE": 512,
            "OVERVIEWS": "IGNORE_EXISTING",
            "RESAMPLING": "AVERAGE",
            "BIGTIFF": "IF_SAFER",
            "NUM_THREADS": "2",
        }
        if source.count >= 3 and source.count == 3:
            creation.update({"COMPRESS": "JPEG", "QUALITY": 90})
        else:
            creation.update({"COMPRESS": "DEFLATE"})
        if options.crs:
            creation["crs"] = crs.to_wkt()
        try:
            copy_raster(source, target, **creation)
        except rasterio.errors.RasterioError as error:
            raise ConversionError(f"{input_path.name}: the orthophoto cannot be rewritten ({error})") from None
        info = {
            "width": source.width,
            "height": source.height,
            "bands": source.count,
            "resolution": list(source.res),
            "nodata": source.nodata,
        }
    with rasterio.open(target) as cog:
        overviews = cog.overviews(1)
    bounds = footprint.bounds
    (out_dir / CONTENTS_NAME).write_text(
        json.dumps(
            {
                "entry": COG_NAME,
                "files": [
                    {
                        "path": COG_NAME,
                        "media_type": COG_MEDIA_TYPE,
                        "bounds_wkt": footprint.wkt,
                    }
                ],
            }
        ),
        encoding="utf-8",
    )
    options.report_progress(1.0, "imagery ready")
    return {
        "kind": "imagery",
        "entry": COG_NAME,
        "crs": (crs.to_epsg() and f"EPSG:{crs.to_epsg()}") or crs.name,
        "georeferencing": {"source": "upload" if options.crs else "geotiff"},
        "footprint_wgs84": mapping(footprint),
        "imagery": {
            **info,
            "overviews": overviews,
            "overviews_built": not had_overviews,
            "bounds_wgs84": list(bounds),
            "bytes": target.stat().st_size,
        },
    }
