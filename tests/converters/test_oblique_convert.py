"""Oblique photography in OSGB (built with osgconv by sample_models/oblique) → 3D Tiles 1.1: the level
structure kept, positions against pyproj (EPSG:4546 + EGM96 heights), textures kept and oriented,
deliveries without metadata.xml and damaged OSGB files refused."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from converters.api import convert, detect_kind
from converters.errors import ConversionError
from converters.options import ConvertOptions
from sample_models.oblique.make_oblique_samples import CRS, ORIGIN, _colours, tile_mesh
from tests.support.glb_reading import expected_ecef
from tests.support.osgb import SMALL, contents, corrupt_member, ecef_positions, oblique_zip
from tests.support.validators import assert_output_valid
from tiles.glb import read_accessor, read_glb


@pytest.fixture(scope="module")
def delivery(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return oblique_zip(tmp_path_factory.mktemp("osgb"))


@pytest.fixture(scope="module")
def converted(delivery: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("oblique") / "out"
    fractions: list[float] = []
    report = convert(delivery, out, ConvertOptions(jobs=2, progress=lambda f, _m: fractions.append(f)))
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    return out, report


def test_levels_kept_and_valid(delivery: Path, converted: tuple[Path, dict]) -> None:
    out, report = converted
    assert detect_kind(delivery) == "oblique"
    assert_output_valid(out)
    assert report["counts"]["osgb_files"] == 10 and report["counts"]["levels"] == 2
    assert report["counts"]["blocks"] == 2 and report["counts"]["textures"] == 10
    entry = json.loads((out / "tileset.json").read_text())
    assert entry["root"]["refine"] == "REPLACE" and len(entry["root"]["children"]) == 2
    block = json.loads((out / "t" / "Tile_+000_+000" / "tileset.json").read_text())["root"]
    assert block["content"]["uri"] == "Tile_+000_+000.glb" and len(block["children"]) == 4
    # PagedLOD: finer files once the sphere spans 64 px → error 32·r/64 for the coarse level, 0 for leaves
    assert 30 < block["geometricError"] < 60 and {c["geometricError"] for c in block["children"]} == {0.0}
    assert report["georeferencing"]["srs"] == "EPSG:4546" and report["crs"]["source"] == "metadata.xml"
    lon, lat = np.array(report["footprint_wgs84"]["coordinates"][0]).T
    assert 109.78 < lon.min() < lon.max() < 109.795 and 39.60 < lat.min() < lat.max() < 39.61


def _leaf(out: Path, name: str) -> tuple[bytes, np.ndarray]:
    for path, world, _ in contents(out / "tileset.json"):
        if path.name == name:
            return path.read_bytes(), world
    raise AssertionError(name)


def test_positions_match_pyproj(converted: tuple[Path, dict]) -> None:
    out, _ = converted
    size = SMALL.block_size / 2
    for name, west, south in (("Tile_+001_+000_L1_3.glb", ORIGIN[0] + 120 + size, ORIGIN[1] + size),
                              ("Tile_+000_+000.glb", ORIGIN[0], ORIGIN[1])):
        glb, world = _leaf(out, name)
        level_size = size if "_L1_" in name else SMALL.block_size
        vertices, _faces, _uv = tile_mesh(west, south, level_size, SMALL.grid)
        expected = expected_ecef(CRS, vertices + np.array(ORIGIN))
        got = ecef_positions(glb, world)
        assert len(got) == len(expected)
        distances = np.linalg.norm(got[:, None, :] - expected[None, :, :], axis=2).min(axis=0)
        assert distances.max() < 0.02, distances.max()  # float32 vertices in the OSGB, EGM96 both ways


def test_texture_kept_and_oriented(converted: tuple[Path, dict]) -> None:
    out, _ = converted
    glb, _world = _leaf(out, "Tile_+000_+000_L1_0.glb")
    gltf, binary = read_glb(glb)
    image = gltf["images"][0]
    assert image["mimeType"] == "image/jpeg"
    view = gltf["bufferViews"][image["bufferView"]]
    picture = np.asarray(Image.open(io.BytesIO(binary[view["byteOffset"]: view["byteOffset"] + view["byteLength"]]))
                         .convert("RGB"), dtype=np.float64)
    uv = read_accessor(gltf, binary, gltf["meshes"][0]["primitives"][0]["attributes"]["TEXCOORD_0"])
    size = SMALL.block_size / 2
    height, width = picture.shape[:2]
    errors = []
    for s, t in ((0.27, 0.22), (0.71, 0.33), (0.4, 0.83)):  # inside checker cells, away from edges
        assert uv[:, 0].min() <= s <= uv[:, 0].max() and uv[:, 1].min() <= t <= uv[:, 1].max()
        east, north = ORIGIN[0] + s * size, ORIGIN[1] + t * size  # OSG t runs north; glTF v = t
        pixel = picture[min(int(t * height), height - 1), min(int(s * width), width - 1)]
        errors.append(np.abs(pixel - _colours(np.array([east]), np.array([north]))[0]).max())
    assert max(errors) < 45, errors


def test_delivery_without_metadata_refused(tmp_path: Path) -> None:
    archive = oblique_zip(tmp_path, skip=("metadata.xml",))
    with pytest.raises(ConversionError, match=r"no metadata\.xml"):
        detect_kind(archive)
    with pytest.raises(ConversionError, match=r"no metadata\.xml"):
        convert(archive, tmp_path / "out", ConvertOptions(kind="oblique"))
    assert not (tmp_path / "out" / "tileset.json").exists()


def test_damaged_osgb_refused(delivery: Path, tmp_path: Path) -> None:
    archive = corrupt_member(delivery, tmp_path / "damaged.zip", "_L1_2.osgb")
    with pytest.raises(ConversionError, match="OpenSceneGraph cannot read"):
        convert(archive, tmp_path / "out", ConvertOptions(jobs=2))
    assert not (tmp_path / "out" / "tileset.json").exists()


def test_metadata_forms() -> None:
    from pyproj import CRS, Transformer

    from converters.errors import GeoreferencingError
    from converters.oblique.metadata import read_metadata

    def xml(srs: str, origin: str = "395780,4386290,1290") -> bytes:
        return f"<ModelMetadata><SRS>{srs}</SRS><SRSOrigin>{origin}</SRSOrigin></ModelMetadata>".encode()

    by_code = read_metadata(xml("EPSG:4546"))
    by_wkt = read_metadata(xml(CRS.from_epsg(4546).to_wkt()))
    point = np.array([[10.0, 20.0, 5.0]])
    assert np.abs(by_code.to_enu(point) - by_wkt.to_enu(point)).max() < 1e-6
    lon, lat = Transformer.from_crs("EPSG:4546", "EPSG:4326", always_xy=True).transform(395780, 4386290)
    assert abs(by_code.frame.lon - lon) < 1e-9 and abs(by_code.frame.lat - lat) < 1e-9
    enu = read_metadata(xml("ENU:39.6,109.79", "1,2,3"))
    assert (enu.frame.lat, enu.frame.lon) == (39.6, 109.79) and np.allclose(enu.to_enu(point), [[11, 22, 8]])
    with pytest.raises(GeoreferencingError, match="names no SRS"):
        read_metadata(b"<ModelMetadata><SRSOrigin>0,0,0</SRSOrigin></ModelMetadata>")
    with pytest.raises(GeoreferencingError, match="unknown coordinate reference system"):
        read_metadata(xml("EPSG:999999"))
    with pytest.raises(ConversionError, match="DTD"):
        read_metadata(b'<!DOCTYPE x [<!ENTITY e "boom">]><ModelMetadata><SRS>&e;</SRS></ModelMetadata>')


def test_range_modes_give_geometric_errors() -> None:
    from converters.oblique.osgt import PagedLevel
    from converters.oblique.tile_file import VIEW_PIXELS_PER_UNIT, _level_error

    pixels = PagedLevel("PIXEL_SIZE_ON_SCREEN", [(0, 400), (400, 1e30)], ["", "a.osgb"], None, 50.0)
    assert _level_error(pixels, 0.0) == pytest.approx(16 * 2 * 50.0 / 400)  # SSE 16 where OSG switches
    distance = PagedLevel("DISTANCE_FROM_EYE_POINT", [(300, 1e30), (0, 300)], ["", "a.osgb"], None, 50.0)
    assert _level_error(distance, 0.0) == pytest.approx(16 * 300 / VIEW_PIXELS_PER_UNIT)
    leaf = PagedLevel("PIXEL_SIZE_ON_SCREEN", [(0, 1e30)], [""], None, 50.0)
    assert _level_error(leaf, 10.0) == 0.0
