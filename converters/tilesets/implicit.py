"""Implicit tiling (3D Tiles 1.1, quadtree/octree with subtree files) expanded into explicit tiles.

The platform stores every file a tileset references by its path, so template URIs
(``content/{level}/{x}/{y}.glb``) become one explicit tile per available tile: availability read from
the subtree files (binary ``subt`` or JSON, bitstreams or constants), bounding volumes subdivided
(region or box), geometric error halved per level.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from converters.errors import ConversionError

MAX_TILES = 500_000


@dataclass(slots=True)
class Availability:
    constant: int | None
    bits: bytes

    def __call__(self, index: int) -> bool:
        if self.constant is not None:
            return bool(self.constant)
        byte = index >> 3
        return byte < len(self.bits) and bool(self.bits[byte] >> (index & 7) & 1)


@dataclass(slots=True)
class Subtree:
    tiles: Availability
    contents: list[Availability]
    children: Availability


def _morton(x: int, y: int, z: int, dims: int) -> int:
    index, bit = 0, 0
    while (x >> bit) or (y >> bit) or (z >> bit):
        index |= ((x >> bit) & 1) << (dims * bit)
        index |= ((y >> bit) & 1) << (dims * bit + 1)
        if dims == 3:
            index |= ((z >> bit) & 1) << (dims * bit + 2)
        bit += 1
    return index


def parse_subtree(data: bytes, uri: str, read: Callable[[str], bytes]) -> Subtree:
    if data[:4] == b"subt":
        if len(data) < 24:
            raise ConversionError(f"{uri}: subtree header too short")
        json_length, binary_length = struct.unpack_from("<QQ", data, 8)
        document = json.loads(data[24 : 24 + json_length])
        start = 24 + json_length
        internal = data[start : start + binary_length]
    else:
        document, internal = json.loads(data), b""
    buffers: list[bytes] = []
    for buffer in document.get("buffers", []):
        buffers.append(read(buffer["uri"]) if "uri" in buffer else internal)

    def availability(spec: dict[str, Any] | None) -> Availability:
        if spec is None:
            return Availability(0, b"")
        if "constant" in spec:
            return Availability(int(spec["constant"]), b"")
        view = document["bufferViews"][spec["bitstream"]]
        buffer = buffers[view.get("buffer", 0)]
        offset = view.get("byteOffset", 0)
        return Availability(None, buffer[offset : offset + view["byteLength"]])

    if "tileAvailability" not in document or "childSubtreeAvailability" not in document:
        raise ConversionError(f"{uri}: a subtree needs tileAvailability and childSubtreeAvailability")
    return Subtree(
        availability(document["tileAvailability"]),
        [availability(spec) for spec in document.get("contentAvailability", [])],
        availability(document["childSubtreeAvailability"]),
    )


def _volume(root: dict[str, Any], level: int, x: int, y: int, z: int, octree: bool) -> dict[str, Any]:
    n = 2**level
    if "region" in root:
        w, s, e, north, lo, hi = root["region"]
        dx, dy = (e - w) / n, (north - s) / n
        if octree:
            dz = (hi - lo) / n
            lo, hi = lo + z * dz, lo + (z + 1) * dz
        return {"region": [w + x * dx, s + y * dy, w + (x + 1) * dx, s + (y + 1) * dy, lo, hi]}
    if "box" in root:
        b = root["box"]
        centre, u, v, w3 = b[:3], b[3:6], b[6:9], b[9:12]
        fu, fv = (2 * x + 1) / n - 1, (2 * y + 1) / n - 1
        fw = (2 * z + 1) / n - 1 if octree else 0.0
        wscale = 1 / n if octree else 1.0
        new_centre = [centre[i] + u[i] * fu + v[i] * fv + w3[i] * fw for i in range(3)]
        return {"box": [*new_centre, *[c / n for c in u], *[c / n for c in v], *[c * wscale for c in w3]]}
    raise ConversionError("implicit tiling needs a region or box bounding volume on its root")


def _fill(template: str, level: int, x: int, y: int, z: int) -> str:
    return template.replace("{level}", str(level)).replace("{x}", str(x)).replace("{y}", str(y)).replace("{z}", str(z))


def expand(tile: dict[str, Any], read: Callable[[str], bytes]) -> dict[str, Any]:
    """The implicit root ``tile`` as an explicit tree (``read(uri)`` gives a file of the tileset)."""
    implicit = tile["implicitTiling"]
    octree = implicit.get("subdivisionScheme") == "OCTREE"
    dims = 3 if octree else 2
    branching = 2**dims
    subtree_levels = int(implicit["subtreeLevels"])
    available_levels = int(implicit["availableLevels"])
    subtree_template = implicit["subtrees"]["uri"]
    templates = [c["uri"] for c in ([tile["content"]] if "content" in tile else tile.get("contents", []))]
    root_volume, root_error = tile["boundingVolume"], float(tile["geometricError"])
    cache: dict[str, Subtree] = {}
    count = 0

    def subtree_at(level: int, x: int, y: int, z: int) -> Subtree:
        uri = _fill(subtree_template, level, x, y, z)
        if uri not in cache:
            cache[uri] = parse_subtree(read(uri), uri, read)
        return cache[uri]

    def build(level: int, x: int, y: int, z: int, root: tuple[int, int, int, int]) -> dict[str, Any] | None:
        nonlocal count
        r_level, rx, ry, rz = root
        subtree = subtree_at(*root)
        local = level - r_level
        lx, ly, lz = x - (rx << local), y - (ry << local), z - (rz << local)
        index = (branching**local - 1) // (branching - 1) + _morton(lx, ly, lz, dims)
        if not subtree.tiles(index):
            return None
        count += 1
        if count > MAX_TILES:
            raise ConversionError(f"the implicit tileset has more than {MAX_TILES} tiles")
        out: dict[str, Any] = {"boundingVolume": _volume(root_volume, level, x, y, z, octree),
                               "geometricError": root_error / 2**level}
        contents = [{"uri": _fill(t, level, x, y, z)} for i, t in enumerate(templates)
                    if i < len(subtree.contents) and subtree.contents[i](index)]
        if len(contents) == 1:
            out["content"] = contents[0]
        elif contents:
            out["contents"] = contents
        children = []
        if level + 1 < available_levels:
            for child in range(branching):
                cx, cy, cz = 2 * x + (child & 1), 2 * y + (child >> 1 & 1), 2 * z + (child >> 2 & 1)
                if local + 1 < subtree_levels:
                    built = build(level + 1, cx, cy, cz, root)
                else:
                    clx, cly, clz = cx - (rx << (local + 1)), cy - (ry << (local + 1)), cz - (rz << (local + 1))
                    if not subtree.children(_morton(clx, cly, clz, dims)):
                        continue
                    built = build(level + 1, cx, cy, cz, (level + 1, cx, cy, cz))
                if built is not None:
                    children.append(built)
        if children:
            out["children"] = children
        return out

    expanded = build(0, 0, 0, 0, (0, 0, 0, 0))
    if expanded is None:
        raise ConversionError("the implicit tileset's root subtree marks its root tile unavailable")
    for key in ("transform", "refine"):
        if key in tile:
            expanded[key] = tile[key]
    expanded["boundingVolume"] = root_volume
    return expanded
