"""Synthetic 3D Tiles 1.0 tileset (zip) near Kangbashi, as older tilers wrote them: b3dm with a batch
table and RTC_CENTER, pnts with colours and a per-point batch table, i3dm instances, a cmpt, an
external tileset. ``python sample_models/tilesets/make_tileset_samples.py [OUT.zip]``.

Every position is known: ``expected_positions()`` gives the ECEF corners the upgrade must keep.
"""

from __future__ import annotations

import io
import json
import struct
import sys
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from converters.georef import LocalFrame
from tiles.glb import GlbBuilder

HERE = Path(__file__).resolve().parent
FRAME = LocalFrame(109.790, 39.608, 1290.0)  # Kangbashi (synthetic)
SAMPLE = HERE / "kangbashi_legacy_tileset.zip"
BUILDINGS = [  # name, ENU centre (E, N), size (E, N, U), use
    ("示例 图书馆 · Library", (-30.0, 10.0), (20.0, 14.0, 18.0), "public"),
    ("示例 住宅 · Housing A", (10.0, -20.0), (12.0, 30.0, 45.0), "residential"),
    ("示例 住宅 · Housing B", (35.0, 25.0), (12.0, 12.0, 30.0), "residential"),
]
RTC = np.array([5.0, 3.0, 0.0])


def _pad(data: bytes, n: int = 8, fill: bytes = b" ") -> bytes:
    return data + fill * (-len(data) % n)


def _json_bin(table: dict[str, Any], binary: bytes = b"") -> tuple[bytes, bytes]:
    return _pad(json.dumps(table).encode()), _pad(binary, 8, b"\x00")


def _box(centre: tuple[float, float], size: tuple[float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    (e, n), (se, sn, su) = centre, size
    corners = np.array([[e + dx * se / 2, n + dy * sn / 2, dz * su] for dz in (0, 1) for dy in (-1, 1)
                        for dx in (-1, 1)], dtype=np.float64)
    faces = np.array([[0, 2, 1], [1, 2, 3], [4, 5, 6], [5, 7, 6], [0, 1, 4], [1, 5, 4], [2, 6, 3], [3, 6, 7],
                      [0, 4, 2], [2, 4, 6], [1, 3, 5], [3, 7, 5]])
    return corners, faces


def _yup(points: np.ndarray) -> np.ndarray:
    return np.stack([points[:, 0], points[:, 2], -points[:, 1]], axis=1).astype(np.float32)


def _mesh_glb(parts: list[tuple[np.ndarray, np.ndarray]], batch_ids: bool = True) -> bytes:
    builder = GlbBuilder(generator="cim-platform sample (1.0 style)")
    positions = np.concatenate([p for p, _ in parts])
    faces = np.concatenate([f + sum(len(p) for p, _ in parts[:i]) for i, (_, f) in enumerate(parts)])
    attributes = {"POSITION": builder.add_accessor(_yup(positions), with_bounds=True)}
    if batch_ids:
        ids = np.concatenate([np.full(len(p), i, dtype=np.float32) for i, (p, _) in enumerate(parts)])
        attributes["_BATCHID"] = builder.add_accessor(ids)
    material = builder.add_material({"pbrMetallicRoughness": {"baseColorFactor": [0.8, 0.78, 0.7, 1.0]}})
    mesh = builder.add_mesh([{"attributes": attributes, "indices": builder.add_indices(faces, len(positions)),
                              "material": material, "mode": 4}])
    builder.add_node({"mesh": mesh})
    return builder.to_bytes()


def b3dm() -> bytes:
    parts = [_box((c[0] - RTC[0], c[1] - RTC[1]), s) for _, c, s, _ in BUILDINGS]
    glb = _mesh_glb(parts)
    heights = struct.pack("<3f", *[s[2] for _, _, s, _ in BUILDINGS])
    ft_json, ft_bin = _json_bin({"BATCH_LENGTH": len(BUILDINGS), "RTC_CENTER": [float(v) for v in RTC]})
    bt_json, bt_bin = _json_bin(
        {"name": [b[0] for b in BUILDINGS], "use": [b[3] for b in BUILDINGS], "floors": [6, 15, 10],
         "height_m": {"byteOffset": 0, "componentType": "FLOAT", "type": "SCALAR"}},
        heights,
    )
    return _container(b"b3dm", ft_json, ft_bin, bt_json, bt_bin, glb)


def _container(magic: bytes, ft_json: bytes, ft_bin: bytes, bt_json: bytes, bt_bin: bytes, body: bytes,
               extra: bytes = b"") -> bytes:
    header = 28 + len(extra)
    total = header + len(ft_json) + len(ft_bin) + len(bt_json) + len(bt_bin) + len(body)
    total_padded = total + (-total % 8)
    body = body + b"\x00" * (total_padded - total)
    head = struct.pack("<4s6I", magic, 1, total_padded, len(ft_json), len(ft_bin), len(bt_json), len(bt_bin))
    return head + extra + ft_json + ft_bin + bt_json + bt_bin + body


def point_positions() -> np.ndarray:
    rng = np.random.default_rng(14)
    points: np.ndarray = np.c_[rng.uniform(-60, 60, 400), rng.uniform(-60, 60, 400), rng.uniform(0, 2, 400)]
    return points


def pnts() -> bytes:
    points = point_positions()
    rtc = np.array([0.0, 0.0, 1.0])
    rgb = np.clip(np.c_[points[:, 2] * 100, 120 + points[:, 0], 90 + points[:, 1]], 0, 255).astype(np.uint8)
    intensity = (np.arange(len(points)) % 1000).astype(np.uint16)
    positions = (points - rtc).astype(np.float32).tobytes()
    ft_json, ft_bin = _json_bin({"POINTS_LENGTH": len(points), "RTC_CENTER": list(rtc),
                                 "POSITION": {"byteOffset": 0}, "RGB": {"byteOffset": len(positions)}},
                                positions + rgb.tobytes())
    bt_json, bt_bin = _json_bin({"intensity": {"byteOffset": 0, "componentType": "UNSIGNED_SHORT", "type": "SCALAR"}},
                                intensity.tobytes())
    return _container(b"pnts", ft_json, ft_bin, bt_json, bt_bin, b"")


TREES = np.array([[-50.0, -50.0, 0.0], [-40.0, -50.0, 0.0], [-30.0, -50.0, 0.0], [-20.0, -50.0, 0.0]])


def i3dm() -> bytes:
    glb = _mesh_glb([_box((0.0, 0.0), (2.0, 2.0, 6.0))], batch_ids=False)
    positions = TREES.astype(np.float32).tobytes()
    scale = np.array([1.0, 1.5, 2.0, 1.0], dtype=np.float32).tobytes()
    ft_json, ft_bin = _json_bin({"INSTANCES_LENGTH": len(TREES), "POSITION": {"byteOffset": 0},
                                 "SCALE": {"byteOffset": len(positions)}}, positions + scale)
    bt_json, bt_bin = _json_bin({"species": ["示例 杨树 · poplar", "示例 柳树 · willow", "示例 杨树 · poplar", "pine"]})
    return _container(b"i3dm", ft_json, ft_bin, bt_json, bt_bin, glb, extra=struct.pack("<I", 1))


def cmpt(inner: list[bytes]) -> bytes:
    total = 16 + sum(len(i) for i in inner)
    return struct.pack("<4s3I", b"cmpt", 1, total, len(inner)) + b"".join(inner)


def _box_volume(lo: list[float], hi: list[float]) -> dict[str, Any]:
    c = [(a + b) / 2 for a, b in zip(lo, hi, strict=True)]
    h = [(b - a) / 2 for a, b in zip(lo, hi, strict=True)]
    return {"box": [*c, h[0], 0, 0, 0, h[1], 0, 0, 0, h[2]]}


def tilesets() -> dict[str, bytes]:
    everything = _box_volume([-70, -70, -1], [70, 70, 50])
    external = {
        "asset": {"version": "1.0"},
        "geometricError": 10,
        "root": {"boundingVolume": _box_volume([-52, -52, -1], [-18, -48, 13]), "geometricError": 0,
                 "refine": "ADD", "content": {"uri": "trees.i3dm"}},
    }
    main = {
        "asset": {"version": "1.0", "tilesetVersion": "synthetic-example"},
        "geometricError": 200,
        "root": {
            "transform": FRAME.tileset_transform(),
            "boundingVolume": everything,
            "geometricError": 100,
            "refine": "ADD",
            "children": [
                {"boundingVolume": _box_volume([-41, -36, -1], [42, 32, 46]), "geometricError": 0,
                 "content": {"uri": "buildings/block.b3dm"}},
                {"boundingVolume": _box_volume([-61, -61, 0], [61, 61, 4]), "geometricError": 0,
                 "content": {"uri": "points/ground.pnts"}},
                {"boundingVolume": _box_volume([-61, -61, -1], [61, 61, 46]), "geometricError": 0,
                 "content": {"uri": "mixed.cmpt"}},
                {"boundingVolume": _box_volume([-52, -52, -1], [-18, -48, 13]), "geometricError": 10,
                 "content": {"uri": "vegetation/tileset.json"}},
            ],
        },
    }
    return {
        "kangbashi_legacy/tileset.json": json.dumps(main, indent=1).encode(),
        "kangbashi_legacy/buildings/block.b3dm": b3dm(),
        "kangbashi_legacy/points/ground.pnts": pnts(),
        "kangbashi_legacy/mixed.cmpt": cmpt([b3dm(), pnts()]),
        "kangbashi_legacy/vegetation/tileset.json": json.dumps(external, indent=1).encode(),
        "kangbashi_legacy/vegetation/trees.i3dm": i3dm(),
        "kangbashi_legacy/README.txt": "合成示例数据 · synthetic example made by this project\n".encode(),
    }


def write_zip(path: Path, files: dict[str, bytes]) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in sorted(files.items()):
            info = zipfile.ZipInfo(name, date_time=(2026, 12, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    path.write_bytes(buffer.getvalue())
    return path


def main(argv: list[str]) -> None:
    target = Path(argv[0]) if argv else SAMPLE
    write_zip(target, tilesets())
    print(target)


if __name__ == "__main__":
    main(sys.argv[1:])
