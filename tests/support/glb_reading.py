"""Reading converter output back: corpus location, tileset contents as ECEF positions, instancing."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyproj

from converters.georef import geoid_undulation
from tiles.glb import read_accessor, read_glb

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("CIM_SHARED_DIR", Path(__file__).resolve().parents[3] / "shared"))
SURVEY = SHARED / "corpus" / "survey"
SAMPLES = REPO / "sample_models" / "survey"

Y_UP_TO_Z_UP = np.array([[1, 0, 0, 0], [0, 0, -1, 0], [0, 1, 0, 0], [0, 0, 0, 1]], dtype=np.float64)


def _matrix(values: list[float] | None) -> np.ndarray:
    return np.eye(4) if values is None else np.array(values, dtype=np.float64).reshape(4, 4, order="F")


def _node_matrix(node: dict[str, Any]) -> np.ndarray:
    if "matrix" in node:
        return _matrix(node["matrix"])
    m = np.eye(4)
    m[:3, 3] = node.get("translation", [0.0, 0.0, 0.0])
    return m


def _decode(gltf: dict[str, Any], binary: bytes, index: int) -> np.ndarray:
    values = read_accessor(gltf, binary, index)
    accessor = gltf["accessors"][index]
    if accessor.get("normalized") and values.dtype == np.int16:
        return np.maximum(values.astype(np.float64) / 32767.0, -1.0)
    if accessor.get("normalized") and values.dtype == np.uint8:
        return values.astype(np.float64) / 255.0
    return values.astype(np.float64)


def glb_positions(data: bytes) -> np.ndarray:
    """All POSITION values of a glb in the tile's (z-up) frame: node matrix, then glTF y-up → z-up."""
    gltf, binary = read_glb(data)
    out = []
    for node in gltf.get("nodes", []):
        if "mesh" not in node:
            continue
        to_tile = Y_UP_TO_Z_UP @ _node_matrix(node)
        for primitive in gltf["meshes"][node["mesh"]]["primitives"]:
            p = _decode(gltf, binary, primitive["attributes"]["POSITION"])
            out.append(p @ to_tile[:3, :3].T + to_tile[:3, 3])
    return np.concatenate(out) if out else np.zeros((0, 3))


def iter_contents(out_dir: Path) -> Iterator[tuple[Path, np.ndarray]]:
    """(glb path, tile-to-ECEF matrix) of every content in ``out_dir/tileset.json``."""
    tileset = json.loads((out_dir / "tileset.json").read_text())

    def walk(tile: dict[str, Any], parent: np.ndarray) -> Iterator[tuple[Path, np.ndarray]]:
        world = parent @ _matrix(tile.get("transform"))
        if "content" in tile:
            yield out_dir / tile["content"]["uri"], world
        for child in tile.get("children", []):
            yield from walk(child, world)

    yield from walk(tileset["root"], np.eye(4))


def ecef_positions(out_dir: Path) -> np.ndarray:
    parts = []
    for path, world in iter_contents(out_dir):
        local = glb_positions(path.read_bytes())
        parts.append(local @ world[:3, :3].T + world[:3, 3])
    return np.concatenate(parts)


def expected_ecef(crs: Any, xyz: np.ndarray, z_to_metre: float = 1.0) -> np.ndarray:
    """Independent pyproj chain: map CRS → lon/lat; height = z·unit + EGM96 N; lon/lat/h → ECEF (EPSG:4978)."""
    xyz = np.atleast_2d(np.asarray(xyz, dtype=np.float64))
    crs = pyproj.CRS.from_user_input(crs)
    horizontal = crs.sub_crs_list[0] if crs.is_compound else crs
    lon, lat = pyproj.Transformer.from_crs(horizontal, "EPSG:4326", always_xy=True).transform(xyz[:, 0], xyz[:, 1])
    h = xyz[:, 2] * z_to_metre + geoid_undulation(lon, lat)
    x, y, z = pyproj.Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True).transform(lon, lat, h)
    return np.column_stack([x, y, z])


def nearest_distances(points: np.ndarray, targets: np.ndarray) -> np.ndarray:
    return np.array([np.linalg.norm(points - t, axis=1).min() for t in targets])


def quaternion_matrix(q: np.ndarray) -> np.ndarray:
    x, y, z, w = q
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


def node_instances(gltf: dict, binary: bytes, node: dict) -> list[np.ndarray]:
    """EXT_mesh_gpu_instancing: one 4×4 per instance (identity when the node is not instanced)."""
    extension = node.get("extensions", {}).get("EXT_mesh_gpu_instancing")
    if extension is None:
        return [np.eye(4)]
    attributes = extension["attributes"]
    translations = read_accessor(gltf, binary, attributes["TRANSLATION"]).astype(np.float64)
    rotations = read_accessor(gltf, binary, attributes["ROTATION"]).astype(np.float64)
    scales = read_accessor(gltf, binary, attributes["SCALE"]).astype(np.float64)
    out = []
    for t, q, s in zip(translations, rotations, scales, strict=True):
        m = np.eye(4)
        m[:3, :3] = quaternion_matrix(q) * s
        m[:3, 3] = t
        out.append(m)
    return out
