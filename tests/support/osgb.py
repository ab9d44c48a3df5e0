"""Test data for the tileset and oblique converters: small OSGB deliveries (built with osgconv by
``sample_models/oblique``), the synthetic 3D Tiles 1.0 tileset, hostile archives, and readers of the
output written independently of the converters (contents with their world matrices across external
tilesets and ``contents`` arrays; ``EXT_structural_metadata`` property tables decoded to Python values)."""

from __future__ import annotations

import io
import json
import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from sample_models.oblique.make_oblique_samples import Layout, make_zip
from sample_models.tilesets.make_tileset_samples import tilesets, write_zip
from tiles.glb import read_accessor, read_glb

SMALL = Layout(blocks=(2, 1), levels=2, block_size=120.0, grid=8, texture_px=32)


def oblique_zip(folder: Path, layout: Layout = SMALL, skip: tuple[str, ...] = ()) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return make_zip(folder / "kangbashi_oblique_osgb.zip", layout, skip=skip)


def legacy_tileset_zip(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return write_zip(folder / "kangbashi_legacy_tileset.zip", tilesets())


def corrupt_member(archive: Path, target: Path, member_suffix: str) -> Path:
    """A copy of ``archive`` whose first member ending in ``member_suffix`` has garbage in its middle."""
    with zipfile.ZipFile(archive) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        done = False
        for info in source.infolist():
            data = source.read(info)
            if not done and info.filename.endswith(member_suffix):
                data = data[:40] + b"\xde\xad\xbe\xef" * 64 + data[300:]
                done = True
            out.writestr(info, data)
    return target


def hostile_zip(path: Path, kind: str) -> Path:
    """``traversal``, ``absolute``, ``symlink`` or ``bomb``, each beside a plausible tileset.json."""
    tileset = json.dumps({"asset": {"version": "1.1"}, "geometricError": 1,
                          "root": {"boundingVolume": {"sphere": [0, 0, 0, 1]}, "geometricError": 0}})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("tiles/tileset.json", tileset)
        if kind == "traversal":
            zf.writestr("tiles/../../evil.txt", b"x")
        elif kind == "absolute":
            zf.writestr("/etc/evil.txt", b"x")
        elif kind == "symlink":
            link = zipfile.ZipInfo("tiles/content.glb")
            link.create_system = 3
            link.external_attr = (0o120777 << 16)
            zf.writestr(link, "/etc/passwd")
        elif kind == "bomb":
            zf.writestr("tiles/zeros.bin", b"\x00" * (64 * 1024 * 1024))
        else:
            raise ValueError(kind)
    path.write_bytes(buffer.getvalue())
    return path


def _matrix(values: list[float] | None) -> np.ndarray:
    return np.eye(4) if not values else np.array(values, dtype=np.float64).reshape(4, 4, order="F")


def contents(tileset_path: Path) -> Iterator[tuple[Path, np.ndarray, dict[str, Any]]]:
    """(glb path, tile→ECEF matrix, tile) of every glb content, following external tilesets."""
    document = json.loads(tileset_path.read_text(encoding="utf-8"))
    yield from _walk_doc(tileset_path, document["root"], np.eye(4))


def _walk_doc(path: Path, tile: dict[str, Any], parent: np.ndarray) -> Iterator[tuple[Path, np.ndarray, Any]]:
    world = parent @ _matrix(tile.get("transform"))
    for content in ([tile["content"]] if "content" in tile else []) + tile.get("contents", []):
        target = path.parent / content["uri"]
        if target.suffix == ".json":
            yield from _walk_doc(target, json.loads(target.read_text(encoding="utf-8"))["root"], world)
        else:
            yield target, world, tile
    for child in tile.get("children", []):
        yield from _walk_doc(path, child, world)


Y_UP_TO_Z_UP = np.array([[1, 0, 0, 0], [0, 0, -1, 0], [0, 1, 0, 0], [0, 0, 0, 1]], dtype=np.float64)


def node_world_matrices(gltf: dict[str, Any]) -> list[tuple[dict[str, Any], np.ndarray]]:
    """(node, matrix to the glTF scene root) of every node of the default scene."""
    nodes = gltf.get("nodes", [])
    out: list[tuple[dict[str, Any], np.ndarray]] = []

    def local(node: dict[str, Any]) -> np.ndarray:
        if "matrix" in node:
            return _matrix(node["matrix"])
        m = np.eye(4)
        m[:3, 3] = node.get("translation", [0, 0, 0])
        if "rotation" in node or "scale" in node:
            raise AssertionError("test reader: TRS nodes with rotation/scale not expected here")
        return m

    def visit(index: int, parent: np.ndarray) -> None:
        matrix = parent @ local(nodes[index])
        out.append((nodes[index], matrix))
        for child in nodes[index].get("children", []):
            visit(child, matrix)

    for root in gltf["scenes"][gltf.get("scene", 0)]["nodes"]:
        visit(root, np.eye(4))
    return out


def ecef_positions(glb: bytes, tile_world: np.ndarray) -> np.ndarray:
    """Every (non-instanced) vertex in ECEF: node matrices, y-up → z-up, the tile's world matrix."""
    gltf, binary = read_glb(glb)
    parts = []
    for node, matrix in node_world_matrices(gltf):
        if "mesh" not in node:
            continue
        to_ecef = tile_world @ Y_UP_TO_Z_UP @ matrix
        for primitive in gltf["meshes"][node["mesh"]]["primitives"]:
            p = read_accessor(gltf, binary, primitive["attributes"]["POSITION"]).astype(np.float64)
            parts.append(p @ to_ecef[:3, :3].T + to_ecef[:3, 3])
    return np.concatenate(parts) if parts else np.zeros((0, 3))


def property_table(glb: bytes, index: int = 0) -> dict[str, list[Any]]:
    """An ``EXT_structural_metadata`` property table decoded to lists (SCALAR, STRING, ENUM, BOOLEAN)."""
    gltf, binary = read_glb(glb)
    extension = gltf["extensions"]["EXT_structural_metadata"]
    schema, table = extension["schema"], extension["propertyTables"][index]
    count = table["count"]
    klass = schema["classes"][table["class"]]["properties"]

    def view(i: int) -> bytes:
        v = gltf["bufferViews"][i]
        return binary[v.get("byteOffset", 0) : v.get("byteOffset", 0) + v["byteLength"]]

    out: dict[str, list[Any]] = {}
    for key, spec in table.get("properties", {}).items():
        declared = klass[key]
        name = declared.get("name", key)
        data = view(spec["values"])
        if declared["type"] == "STRING":
            kind = {"UINT8": "<u1", "UINT16": "<u2", "UINT32": "<u4"}[spec.get("stringOffsetType", "UINT32")]
            offsets = np.frombuffer(view(spec["stringOffsets"]), dtype=kind)
            out[name] = [data[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(count)]
        elif declared["type"] == "ENUM":
            enum = schema["enums"][declared["enumType"]]
            kind = {"UINT8": "<u1", "UINT16": "<u2"}[enum.get("valueType", "UINT16")]
            names = {v["value"]: v["name"] for v in enum["values"]}
            out[name] = [names[int(v)] for v in np.frombuffer(data, dtype=kind)[:count]]
        elif declared["type"] == "BOOLEAN":
            bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8), bitorder="little")
            out[name] = [bool(b) for b in bits[:count]]
        else:
            kind = {"INT32": "<i4", "INT64": "<i8", "FLOAT32": "<f4", "FLOAT64": "<f8", "UINT8": "<u1",
                    "UINT16": "<u2", "INT16": "<i2", "UINT32": "<u4"}[declared["componentType"]]
            out[name] = np.frombuffer(data, dtype=kind)[:count].tolist()
    return out


def subtree_bytes(document: dict[str, Any], binary: bytes) -> bytes:
    """A binary subtree file (magic ``subt``)."""
    text = json.dumps(document).encode()
    text += b" " * (-len(text) % 8)
    binary += b"\x00" * (-len(binary) % 8)
    return struct.pack("<4sIQQ", b"subt", 1, len(text), len(binary)) + text + binary
