"""A DEM GeoTIFF → quantized-mesh terrain: ``layer.json`` and ``{z}/{x}/{y}.terrain`` tiles (Cesium's
geographic tiling scheme, TMS rows, oct-encoded vertex normals), every level from 0 to the one
matching the DEM's resolution, each with a bounded mesh error (:func:`tiling.level_error`).

Beside them ``contents.json`` lists the files the platform stores, each tile with its level error,
the part of the tile the DEM covers (WKT, EPSG:4326) and its height range."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import rasterio
from shapely.geometry import box, mapping
from shapely.geometry.base import BaseGeometry

from converters.errors import ConversionError
from converters.options import ConvertOptions
from converters.terrain.grid import build_grid
from converters.terrain.mesh import encode_tile
from converters.terrain.raster_input import footprint_wgs84, open_raster, raster_crs
from converters.terrain.tiling import TileRange, level_error, max_level_for, tiles_covering

LAYER_NAME = "layer.json"
CONTENTS_NAME = "contents.json"
TERRAIN_MEDIA_TYPE = "application/vnd.quantized-mesh"
WHAT = "DEM"


def _coverage(tile_bounds: tuple[float, float, float, float], footprint: BaseGeometry) -> BaseGeometry:
    part = box(*tile_bounds).intersection(footprint)
    return part if not part.is_empty and part.area > 0 else box(*tile_bounds).intersection(footprint.envelope)


def layer_json(name: str, bounds: tuple[float, float, float, float], ranges: list[TileRange]) -> dict[str, Any]:
    return {
        "tilejson": "2.1.0",
        "name": name,
        "version": "1.0.0",
        "format": "quantized-mesh-1.0",
        "scheme": "tms",
        "projection": "EPSG:4326",
        "tiles": ["{z}/{x}/{y}.terrain"],
        "extensions": ["octvertexnormals"],
        "bounds": list(bounds),
        "minzoom": 0,
        "maxzoom": ranges[-1].level,
        "available": [[r.as_layer()] for r in ranges],
    }


def convert(input_path: Path, out_dir: Path, options: ConvertOptions) -> dict[str, Any]:
    with open_raster(input_path, WHAT) as source, tempfile.TemporaryDirectory(prefix="terrain-") as work:
        if source.count != 1:
            raise ConversionError(
                f"{input_path.name}: a DEM has one band of heights, this GeoTIFF has {source.count} "
                "(an orthophoto? upload it as imagery)"
            )
        crs = raster_crs(source, options.crs, input_path.name, WHAT)
        footprint = footprint_wgs84(source, crs)
        west, south, east, north = footprint.bounds
        native = (east - west) / source.width
        dem = {
            "width": source.width,
            "height": source.height,
            "resolution_deg": native,
            "nodata": source.nodata,
            "dtype": source.dtypes[0],
        }
        top = max_level_for(native)
        options.report_progress(0.02, "resampling the DEM")
        grid = build_grid(source, crs, (west, south, east, north), top, Path(work))
        ranges = [tiles_covering(level, (west, south, east, north)) for level in range(top + 1)]
        total = sum(len(r) for r in ranges)
        contents: list[dict[str, Any]] = []
        levels: list[dict[str, Any]] = []
        done = 0
        low, high = float("inf"), float("-inf")
        with rasterio.open(grid.path) as heights_4326:
            for tile_range in ranges:
                error = level_error(tile_range.level, top)
                vertices = 0
                for key in tile_range:
                    heights = grid.to_ellipsoidal(key, grid.sample(heights_4326, key))
                    tile = encode_tile(key, heights, error)
                    target = out_dir / key.path
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(tile.data)
                    vertices += tile.vertices
                    low, high = min(low, tile.min_height), max(high, tile.max_height)
                    contents.append(
                        {
                            "path": key.path,
                            "media_type": TERRAIN_MEDIA_TYPE,
                            "geometric_error": error,
                            "bounds_wkt": _coverage(key.bounds, footprint).wkt,
                            "min_height": tile.min_height,
                            "max_height": tile.max_height,
                        }
                    )
                    done += 1
                    if done % 16 == 0:
                        options.report_progress(0.05 + 0.9 * done / total, f"terrain tiles {done}/{total}")
                levels.append(
                    {
                        "level": tile_range.level,
                        "tiles": len(tile_range),
                        "max_error_m": error,
                        "vertices": vertices,
                        **tile_range.as_layer(),
                    }
                )
        shutil.rmtree(work, ignore_errors=True)
    layer = layer_json(input_path.stem, (west, south, east, north), ranges)
    (out_dir / LAYER_NAME).write_text(json.dumps(layer, indent=1), encoding="utf-8")
    contents.insert(0, {"path": LAYER_NAME, "media_type": "application/json"})
    (out_dir / CONTENTS_NAME).write_text(json.dumps({"entry": LAYER_NAME, "files": contents}), encoding="utf-8")
    return {
        "kind": "terrain",
        "entry": LAYER_NAME,
        "crs": grid.to_map.report()["crs"],
        "georeferencing": {"source": "geotiff" if not options.crs else "upload", **grid.to_map.report()},
        "footprint_wgs84": mapping(footprint),
        "dem": dem,
        "terrain": {
            "max_level": top,
            "bounds_wgs84": [west, south, east, north],
            "levels": levels,
            "tiles": total,
            "heights": {"min_m": low, "max_m": high, "datum": "WGS84 ellipsoid"},
        },
        "min_height": low,
        "max_height": high,
        "nodata": "holes interpolated linearly along rows then columns; outside the DEM its edge heights extended",
    }
