"""Synthetic ground data around Kangbashi, Ordos (示例 / synthetic example, not a survey):

- ``kangbashi_base_dem.tif``: a 30 m DEM over about 15 km × 15 km (Yellow Sea 1985 heights, EPSG:4546+5737),
- ``kangbashi_fine_dem.tif``: a 5 m DEM over about 2 km × 2 km around the demo's exhibition hall, the same
  surface in detail,
- ``kangbashi_orthophoto.tif``: a 2 m RGB orthophoto over about 3 km × 3 km around the hall, labelled
  SYNTHETIC EXAMPLE.

The surface is a function (:func:`surface_height`) so tests can compare terrain with it. Heights are
around 1 300 m (the Ordos plateau), with hills, a valley and a nodata hole in the fine DEM.

    python sample_models/ground/make_ground_samples.py [OUT_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import rasterio
from numpy.typing import NDArray
from PIL import Image, ImageDraw
from pyproj import Transformer
from rasterio.transform import from_origin

HERE = Path(__file__).resolve().parent
CRS_2D = "EPSG:4546"  # CGCS2000 / 3-degree Gauss-Krüger CM 111E
CRS_1985 = "EPSG:4546+5737"  # with Yellow Sea 1985 heights
CENTRE_LONLAT = (109.790, 39.608)  # Kangbashi district seat (approximate)
NODATA = -9999.0
HALL_SITE = (389500.0, 4385200.0, 1300.0)  # E, N (EPSG:4546), Yellow Sea 1985 height of the sample IFC hall


def centre_en() -> tuple[float, float]:
    east, north = Transformer.from_crs("EPSG:4490", CRS_2D, always_xy=True).transform(*CENTRE_LONLAT)
    return round(float(east), -1), round(float(north), -1)


def surface_height(east: NDArray[np.float64], north: NDArray[np.float64]) -> NDArray[np.float64]:
    """Orthometric height (m) of the synthetic ground at map coordinates of EPSG:4546."""
    e0, n0 = centre_en()
    x, y = (east - e0) / 1000.0, (north - n0) / 1000.0  # km from the centre
    hills = 35 * np.sin(x / 1.3) * np.cos(y / 1.7) + 12 * np.sin((x + 2 * y) / 0.6)
    valley = -25 * np.exp(-(((y - 0.4 * x) / 0.8) ** 2))
    natural = 1300 + hills + valley + 4 * x
    # the demo's exhibition hall (sample_models/ifc, IfcMapConversion at 389500, 4385200, 1300 m) stands on a
    # levelled site at 1300 m, so the model meets the ground in the 3D city
    site = np.exp(-((np.hypot(east - HALL_SITE[0], north - HALL_SITE[1]) / 250.0) ** 4))
    return natural * (1 - site) + HALL_SITE[2] * site


def write_dem(
    path: Path,
    size: int,
    resolution: float,
    hole: bool = False,
    crs: str | None = CRS_1985,
    centre: tuple[float, float] | None = None,
) -> Path:
    e0, n0 = centre or centre_en()
    west, north = e0 - size * resolution / 2, n0 + size * resolution / 2
    columns, rows = np.meshgrid(np.arange(size), np.arange(size))
    heights = surface_height(west + (columns + 0.5) * resolution, north - (rows + 0.5) * resolution).astype("float32")
    if hole:
        heights[size // 3 : size // 3 + size // 20, size // 2 : size // 2 + size // 10] = NODATA
    profile = {
        "driver": "GTiff",
        "width": size,
        "height": size,
        "count": 1,
        "dtype": "float32",
        "nodata": NODATA,
        "transform": from_origin(west, north, resolution, resolution),
        "compress": "deflate",
        "predictor": 3,
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    if crs:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as dem:
        dem.write(heights, 1)
        dem.update_tags(DESCRIPTION="synthetic example DEM (示例), not a survey")
    return path


def orthophoto_colours(size: int, resolution: float, west: float, north: float) -> NDArray[np.uint8]:
    """(3, size, size) colours: fields shaded by height, a street grid, the words SYNTHETIC EXAMPLE."""
    columns, rows = np.meshgrid(np.arange(size), np.arange(size))
    east, northing = west + (columns + 0.5) * resolution, north - (rows + 0.5) * resolution
    shade = (surface_height(east, northing) - 1240) / 120
    red = 150 + 60 * shade
    green = 130 + 50 * shade + 20 * ((columns // 40 + rows // 40) % 2)
    blue = 90 + 30 * shade
    streets = (columns % 150 < 6) | (rows % 150 < 6)
    rgb = np.stack([np.where(streets, 90, red), np.where(streets, 90, green), np.where(streets, 95, blue)])
    image = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8).transpose(1, 2, 0))
    draw = ImageDraw.Draw(image)
    for row in range(40, size, 400):
        draw.text((40, row), "SYNTHETIC EXAMPLE", fill=(255, 255, 255))
    return np.asarray(image).transpose(2, 0, 1).copy()


def write_orthophoto(
    path: Path,
    size: int = 1500,
    resolution: float = 2.0,
    crs: str | None = CRS_2D,
    centre: tuple[float, float] | None = None,
) -> Path:
    e0, n0 = centre or centre_en()
    west, north = e0 - size * resolution / 2, n0 + size * resolution / 2
    profile = {
        "driver": "GTiff",
        "width": size,
        "height": size,
        "count": 3,
        "dtype": "uint8",
        "photometric": "RGB",
        "transform": from_origin(west, north, resolution, resolution),
        "compress": "deflate",
        "tiled": True,
        "blockxsize": 256,
        "blockysize": 256,
    }
    if crs:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as ortho:
        ortho.write(orthophoto_colours(size, resolution, west, north))
        ortho.update_tags(DESCRIPTION="synthetic example orthophoto (示例), not an aerial survey")
    return path


def make_all(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    return [
        write_dem(out / "kangbashi_base_dem.tif", size=500, resolution=30.0),
        write_dem(out / "kangbashi_fine_dem.tif", size=400, resolution=5.0, hole=True, centre=HALL_SITE[:2]),
        write_orthophoto(out / "kangbashi_orthophoto.tif", centre=HALL_SITE[:2]),
    ]


if __name__ == "__main__":
    for written in make_all(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "files"):
        print(written)
