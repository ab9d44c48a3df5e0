"""A small, strict glb (binary glTF 2.0) builder.

Every bufferView starts on an 8-byte boundary, vertex attributes are 4-byte aligned (1- and 2-byte
scalars get a 4-byte stride), accessors carry min/max where glTF requires them (POSITION) and
normalized flags where colours need them.
"""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np
from numpy.typing import NDArray

ARRAY_BUFFER = 34962
ELEMENT_ARRAY_BUFFER = 34963

COMPONENT_TYPES: dict[np.dtype, int] = {
    np.dtype(np.int8): 5120,
    np.dtype(np.uint8): 5121,
    np.dtype(np.int16): 5122,
    np.dtype(np.uint16): 5123,
    np.dtype(np.uint32): 5125,
    np.dtype(np.float32): 5126,
}
ACCESSOR_TYPES: dict[int, str] = {1: "SCALAR", 2: "VEC2", 3: "VEC3", 4: "VEC4", 16: "MAT4"}

POINTS = 0
TRIANGLES = 4
MESHOPT = "EXT_meshopt_compression"


def _pad(data: bytes, alignment: int, fill: bytes = b"\x00") -> bytes:
    remainder = len(data) % alignment
    return data if remainder == 0 else data + fill * (alignment - remainder)


class GlbBuilder:
    """Collects JSON and binary data, then :meth:`to_bytes` writes one glb with one buffer."""

    def __init__(self, generator: str = "cim-platform tiles") -> None:
        self.gltf: dict[str, Any] = {"asset": {"version": "2.0", "generator": generator}}
        self._chunks: list[bytes] = []
        self._length = 0
        self._used: set[str] = set()
        self._required: set[str] = set()
        self._fallback_length = 0  # the EXT_meshopt_compression fallback buffer (no data stored)

    def _list(self, key: str) -> list[Any]:
        items = self.gltf.setdefault(key, [])
        assert isinstance(items, list), f"glTF {key!r} must be a list"
        return items

    def use_extension(self, name: str, required: bool = False) -> None:
        self._used.add(name)
        if required:
            self._required.add(name)

    def add_buffer_view(self, data: bytes, target: int | None = None, byte_stride: int | None = None) -> int:
        """Append raw bytes (8-byte aligned start); returns the bufferView index.

        glTF forbids empty bufferViews: empty data gets one zero byte. (Property-table columns must not
        rely on this: their byte lengths are checked against offsets and counts; ``tiles.metadata``
        never writes an empty column.)
        """
        data = data or b"\x00"
        view: dict[str, Any] = {"buffer": 0, "byteOffset": self._length, "byteLength": len(data)}
        if target is not None:
            view["target"] = target
        if byte_stride is not None:
            view["byteStride"] = byte_stride
        padded = _pad(data, 8)
        self._chunks.append(padded)
        self._length += len(padded)
        views = self._list("bufferViews")
        views.append(view)
        return len(views) - 1

    def add_meshopt_view(self, compressed: bytes, count: int, stride: int, mode: str, target: int) -> int:
        """A bufferView whose data is meshopt-compressed (``mode`` ATTRIBUTES or TRIANGLES): the bytes go
        to buffer 0, the view itself points into the data-less fallback buffer 1."""
        offset = self._length
        padded = _pad(compressed, 8)
        self._chunks.append(padded)
        self._length += len(padded)
        fallback_offset = self._fallback_length
        self._fallback_length += count * stride + (-(count * stride) % 8)
        extension = {
            "buffer": 0,
            "byteOffset": offset,
            "byteLength": len(compressed),
            "byteStride": stride,
            "count": count,
            "mode": mode,
        }
        view: dict[str, Any] = {
            "buffer": 1,
            "byteOffset": fallback_offset,
            "byteLength": count * stride,
            "target": target,
            "extensions": {MESHOPT: extension},
        }
        if mode == "ATTRIBUTES":
            view["byteStride"] = stride
        self.use_extension(MESHOPT, required=True)
        views = self._list("bufferViews")
        views.append(view)
        return len(views) - 1

    def add_view_accessor(
        self,
        view: int,
        component_type: int,
        count: int,
        accessor_type: str,
        byte_offset: int = 0,
        normalized: bool = False,
        bounds: tuple[list[Any], list[Any]] | None = None,
    ) -> int:
        """An accessor on an existing bufferView (interleaved or compressed data)."""
        accessor: dict[str, Any] = {
            "bufferView": view,
            "byteOffset": byte_offset,
            "componentType": component_type,
            "count": count,
            "type": accessor_type,
        }
        if normalized:
            accessor["normalized"] = True
        if bounds is not None:
            accessor["min"], accessor["max"] = bounds
        accessors = self._list("accessors")
        accessors.append(accessor)
        return len(accessors) - 1

    def add_accessor(
        self,
        array: np.ndarray,
        target: int | None = ARRAY_BUFFER,
        normalized: bool = False,
        with_bounds: bool = False,
    ) -> int:
        """Add ``array`` (N or N×k) as an accessor with its own bufferView; returns its index."""
        array = np.ascontiguousarray(array)
        if array.dtype not in COMPONENT_TYPES:
            raise TypeError(f"glTF has no component type for {array.dtype}")
        count = array.shape[0]
        width = 1 if array.ndim == 1 else int(np.prod(array.shape[1:]))
        flat = array.reshape(count, width)
        element = flat.dtype.itemsize * width
        stride = None
        data = flat.tobytes()
        if target == ARRAY_BUFFER and element % 4:
            stride = element + (4 - element % 4)
            padded = np.zeros((count, stride), dtype=np.uint8)
            padded[:, :element] = flat.view(np.uint8).reshape(count, element)
            data = padded.tobytes()
        view = self.add_buffer_view(data, target, stride)
        accessor: dict[str, Any] = {
            "bufferView": view,
            "componentType": COMPONENT_TYPES[array.dtype],
            "count": count,
            "type": ACCESSOR_TYPES[width],
        }
        if normalized:
            accessor["normalized"] = True
        if with_bounds and count:
            columns = np.ascontiguousarray(flat.T)  # reducing contiguous rows: several times faster than axis 0
            accessor["min"] = [_json_number(v) for v in columns.min(axis=1)]
            accessor["max"] = [_json_number(v) for v in columns.max(axis=1)]
        accessors = self._list("accessors")
        accessors.append(accessor)
        return len(accessors) - 1

    def add_indices(self, indices: NDArray[np.integer], vertex_count: int) -> int:
        dtype = np.uint16 if vertex_count < 65535 else np.uint32
        return self.add_accessor(indices.astype(dtype).ravel(), target=ELEMENT_ARRAY_BUFFER)

    def add_material(self, material: dict[str, Any]) -> int:
        materials = self._list("materials")
        materials.append(material)
        return len(materials) - 1

    def add_mesh(self, primitives: list[dict[str, Any]], name: str | None = None) -> int:
        mesh: dict[str, Any] = {"primitives": primitives}
        if name:
            mesh["name"] = name
        meshes = self._list("meshes")
        meshes.append(mesh)
        return len(meshes) - 1

    def add_node(self, node: dict[str, Any], root: bool = True) -> int:
        nodes = self._list("nodes")
        nodes.append(node)
        index = len(nodes) - 1
        if root:
            scenes = self.gltf.setdefault("scenes", [{"nodes": []}])
            scenes[0]["nodes"].append(index)
            self.gltf["scene"] = 0
        return index

    def to_bytes(self) -> bytes:
        gltf = dict(self.gltf)
        if self._length:
            gltf["buffers"] = [{"byteLength": self._length}]
        if self._fallback_length:
            gltf["buffers"].append({"byteLength": self._fallback_length, "extensions": {MESHOPT: {"fallback": True}}})
        if self._used:
            gltf["extensionsUsed"] = sorted(self._used)
        if self._required:
            gltf["extensionsRequired"] = sorted(self._required)
        json_chunk = _pad(json.dumps(gltf, separators=(",", ":")).encode("utf-8"), 4, b" ")
        binary = b"".join(self._chunks)
        total = 12 + 8 + len(json_chunk) + (8 + len(binary) if binary else 0)
        parts = [struct.pack("<4sII", b"glTF", 2, total), struct.pack("<I4s", len(json_chunk), b"JSON"), json_chunk]
        if binary:
            parts += [struct.pack("<I4s", len(binary), b"BIN\x00"), binary]
        return b"".join(parts)


def _json_number(value: Any) -> float | int:
    return int(value) if np.issubdtype(type(value), np.integer) else float(value)


def read_glb(data: bytes) -> tuple[dict[str, Any], bytes]:
    """Split a glb into its JSON and binary chunk (for tests and tools)."""
    magic, version, _length = struct.unpack_from("<4sII", data, 0)
    if magic != b"glTF" or version != 2:
        raise ValueError("not a glb 2.0 file")
    json_length, _ = struct.unpack_from("<I4s", data, 12)
    gltf = json.loads(data[20 : 20 + json_length])
    offset = 20 + json_length
    binary = b""
    if offset < len(data):
        bin_length, _ = struct.unpack_from("<I4s", data, offset)
        binary = data[offset + 8 : offset + 8 + bin_length]
    return gltf, binary


def view_bytes(gltf: dict[str, Any], binary: bytes, view_index: int) -> bytes:
    """A bufferView's bytes, decoding ``EXT_meshopt_compression`` data when present."""
    view = gltf["bufferViews"][view_index]
    meshopt = view.get("extensions", {}).get(MESHOPT)
    if meshopt is None:
        start = view.get("byteOffset", 0)
        return binary[start : start + view["byteLength"]]
    import meshoptimizer  # only needed to read compressed contents

    data = binary[meshopt.get("byteOffset", 0) : meshopt.get("byteOffset", 0) + meshopt["byteLength"]]
    count, stride = meshopt["count"], meshopt["byteStride"]
    if meshopt["mode"] == "ATTRIBUTES":
        decoded = meshoptimizer.decode_vertex_buffer(count, stride, data)
    elif meshopt["mode"] == "TRIANGLES":
        decoded = meshoptimizer.decode_index_buffer(count, stride, data)
    else:
        decoded = meshoptimizer.decode_index_sequence(count, stride, data)
    return np.asarray(decoded).tobytes()[: count * stride]


def read_accessor(gltf: dict[str, Any], binary: bytes, index: int) -> np.ndarray:
    """Decode one accessor to a NumPy array, honouring byteStride and meshopt compression."""
    accessor = gltf["accessors"][index]
    view = gltf["bufferViews"][accessor["bufferView"]]
    data = view_bytes(gltf, binary, accessor["bufferView"])
    dtype = next(d for d, code in COMPONENT_TYPES.items() if code == accessor["componentType"])
    width = next(w for w, name in ACCESSOR_TYPES.items() if name == accessor["type"])
    count = accessor["count"]
    element = dtype.itemsize * width
    stride = view.get("byteStride", element)
    start = accessor.get("byteOffset", 0)
    raw = np.frombuffer(data, dtype=np.uint8, count=stride * (count - 1) + element, offset=start)
    rows = np.lib.stride_tricks.as_strided(raw, shape=(count, element), strides=(stride, 1))
    values = np.ascontiguousarray(rows).view(dtype).reshape(count, width)
    return values[:, 0] if width == 1 else values
