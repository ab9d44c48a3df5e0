"""Telling shared suffixes apart (converters.sniff) imports no converter package: start-up cost."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from converters.api import detect_kind
from converters.errors import ConversionError

HEAVY = ("numpy", "pyproj", "rasterio", "shapely", "trimesh", "ifcopenshell", "converters.tilesets.convert",
         "converters.oblique.convert", "converters.terrain.convert", "converters.imagery.convert")


def _zip(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return path


def _modules_after_detect(path: Path) -> tuple[str, list[str]]:
    code = (
        "import sys; from pathlib import Path; from converters.api import detect_kind; "
        f"kind = detect_kind(Path({str(path)!r})); "
        f"print(kind); print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.splitlines()
    return out[0], out[1].split() if len(out) > 1 else []


def test_zips_are_told_apart_without_importing_any_converter(tmp_path: Path) -> None:
    tileset = _zip(tmp_path / "city.zip", {"city/tileset.json": "{}", "city/a.glb": ""})
    kind, loaded = _modules_after_detect(tileset)
    assert kind == "tileset" and loaded == []
    osgb = _zip(
        tmp_path / "oblique.zip",
        {"metadata.xml": "<ModelMetadata/>", "Data/Tile_1/Tile_1.osgb": "", "Data/Tile_2/Tile_2.osgb": ""},
    )
    kind, loaded = _modules_after_detect(osgb)
    assert kind == "oblique" and loaded == []


def test_an_osgb_delivery_without_metadata_is_refused_while_sniffing(tmp_path: Path) -> None:
    bare = _zip(tmp_path / "bare.zip", {"Data/Tile_1/Tile_1.osgb": ""})
    with pytest.raises(ConversionError, match=r"no metadata\.xml"):
        detect_kind(bare)


def test_a_tiff_loads_rasterio_only_and_bands_decide_the_kind(tmp_path: Path) -> None:
    grid = from_origin(389_500, 4_385_200, 1, 1)
    profile = {"driver": "GTiff", "width": 4, "height": 4, "crs": "EPSG:4546", "transform": grid}
    dem, photo = tmp_path / "dem.tif", tmp_path / "photo.tif"
    with rasterio.open(dem, "w", count=1, dtype="float32", **profile) as out:
        out.write(np.zeros((1, 4, 4), dtype=np.float32))
    with rasterio.open(photo, "w", count=3, dtype="uint8", **profile) as out:
        out.write(np.zeros((3, 4, 4), dtype=np.uint8))
    kind, loaded = _modules_after_detect(dem)
    assert kind == "terrain" and "converters.terrain.convert" not in loaded and "shapely" not in loaded
    kind, loaded = _modules_after_detect(photo)
    assert kind == "imagery" and "converters.imagery.convert" not in loaded and "pyproj" not in loaded
