"""Opening a GeoTIFF given by a user (DEM or orthophoto): a clear one-line error for what cannot be
read, has no coordinate reference system or holds no data; shared by the terrain and imagery converters."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import rasterio
from pyproj import CRS, Transformer
from pyproj.exceptions import ProjError
from rasterio.errors import RasterioIOError
from rasterio.io import DatasetReader
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry
from shapely.ops import transform

from converters.errors import ConversionError, GeoreferencingError
from converters.georef import parse_crs
from converters.sniff import looks_like_tiff


@contextmanager
def open_raster(path: Path, what: str) -> Iterator[DatasetReader]:
    """The dataset, or a ConversionError naming the file and what to do."""
    if not looks_like_tiff(path):
        raise ConversionError(f"{path.name}: not a TIFF file (expected a GeoTIFF {what})")
    try:
        dataset = rasterio.open(path)
    except (RasterioIOError, OSError, ValueError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else "unreadable"
        raise ConversionError(f"{path.name}: the GeoTIFF cannot be read ({first_line[:160]})") from None
    try:
        if dataset.width < 2 or dataset.height < 2:
            raise ConversionError(f"{path.name}: the {what} has {dataset.width} × {dataset.height} pixels; too small")
        yield dataset
    finally:
        dataset.close()


def raster_crs(dataset: DatasetReader, override: str | None, name: str, what: str) -> CRS:
    """The CRS of the raster (the upload's ``crs`` field wins); a raster without one is refused."""
    if override:
        return parse_crs(override)
    if dataset.crs is None or not dataset.crs.to_wkt():
        raise GeoreferencingError(
            f"{name}: the {what} has no coordinate reference system; give its CRS "
            "(e.g. EPSG:4546 for Kangbashi, CGCS2000 Gauss-Krüger 111°E) in the upload's crs field, "
            "or write it into the GeoTIFF"
        )
    if dataset.transform.is_identity:
        raise GeoreferencingError(f"{name}: the {what} has a CRS but no geotransform; its position is unknown")
    return parse_crs(dataset.crs.to_wkt())


def horizontal_of(crs: CRS) -> CRS:
    if crs.is_compound:
        return next(part for part in crs.sub_crs_list if not part.is_vertical)
    return crs


def footprint_wgs84(dataset: DatasetReader, crs: CRS) -> BaseGeometry:
    """The raster's extent as a polygon in EPSG:4326 (edges densified, so a projected grid bends right)."""
    left, bottom, right, top = dataset.bounds
    outline = box(left, bottom, right, top).segmentize(max(right - left, top - bottom) / 16)
    to_wgs84 = Transformer.from_crs(horizontal_of(crs), "EPSG:4326", always_xy=True)
    try:
        polygon: BaseGeometry = transform(to_wgs84.transform, outline)
    except ProjError:
        raise GeoreferencingError("the raster's extent does not map to WGS84 coordinates; check its CRS") from None
    if not all(math.isfinite(v) for v in polygon.bounds):
        raise GeoreferencingError("the raster's extent does not map to WGS84 coordinates; check its CRS")
    if not polygon.is_valid or polygon.is_empty:
        raise GeoreferencingError("the raster's extent does not map to valid WGS84 coordinates; check its CRS")
    minx, miny, maxx, maxy = polygon.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise GeoreferencingError(
            f"the raster's extent ({minx:.3f}, {miny:.3f}, {maxx:.3f}, {maxy:.3f}) falls outside WGS84 longitudes "
            "and latitudes; check its CRS"
        )
    return polygon
