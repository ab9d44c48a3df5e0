"""Reading 3D Tiles 1.0 contents: b3dm, i3dm, pnts and cmpt headers, feature tables and batch tables."""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from converters.errors import ConversionError

COMPONENTS: dict[str, str] = {
    "BYTE": "<i1", "UNSIGNED_BYTE": "<u1", "SHORT": "<i2", "UNSIGNED_SHORT": "<u2", "INT": "<i4",
    "UNSIGNED_INT": "<u4", "FLOAT": "<f4", "DOUBLE": "<f8",
}
WIDTHS: dict[str, int] = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4}
HEADER_BYTES = {b"b3dm": 28, b"pnts": 28, b"i3dm": 32}


@dataclass(slots=True)
class Table:
    """A feature or batch table: its JSON header and binary body."""

    json: dict[str, Any] = field(default_factory=dict)
    binary: bytes = b""

    def array(self, name: str, component: str, width: int, count: int) -> NDArray[Any] | None:
        """A property as an (count, width) array: a binary reference or a JSON array; None when absent."""
        value = self.json.get(name)
        if value is None:
            return None
        if isinstance(value, dict) and "byteOffset" in value:
            component = str(value.get("componentType", component))
            dtype = np.dtype(COMPONENTS.get(component, component))
            offset = int(value["byteOffset"])
            needed = offset + dtype.itemsize * width * count
            if offset < 0 or needed > len(self.binary):
                raise ConversionError(f"feature table property {name} lies outside the binary body")
            return np.frombuffer(self.binary, dtype=dtype, count=width * count, offset=offset).reshape(count, width)
        array = np.asarray(value, dtype=np.float64)
        if array.size != width * count:
            raise ConversionError(f"feature table property {name} has {array.size} values, expected {width * count}")
        return array.reshape(count, width)


@dataclass(slots=True)
class Legacy:
    magic: bytes
    features: Table
    batch: Table
    body: bytes  # the glb (b3dm, i3dm), or nothing
    gltf_format: int = 1  # i3dm: 1 embedded glb, 0 a URI


def _table(data: bytes, offset: int, json_length: int, binary_length: int, what: str) -> tuple[Table, int]:
    end = offset + json_length + binary_length
    if json_length < 0 or binary_length < 0 or end > len(data):
        raise ConversionError(f"the {what} is longer than the content")
    table = Table()
    if json_length:
        text = data[offset : offset + json_length].rstrip(b" \x00")
        try:
            table.json = json.loads(text) if text else {}
        except (ValueError, UnicodeDecodeError) as error:
            raise ConversionError(f"the {what} JSON is not valid ({error})") from error
        if not isinstance(table.json, dict):
            raise ConversionError(f"the {what} JSON is not an object")
    table.binary = data[offset + json_length : end]
    return table, end


def read_legacy(data: bytes, name: str) -> Legacy:
    """Split a b3dm/i3dm/pnts content into its tables and body (header checked against the data)."""
    magic = data[:4]
    size = HEADER_BYTES.get(magic)
    if size is None or len(data) < size:
        raise ConversionError(f"{name}: not a b3dm, i3dm or pnts content (bad header)")
    version, length, ft_json, ft_bin, bt_json, bt_bin = struct.unpack_from("<6I", data, 4)
    if version != 1:
        raise ConversionError(f"{name}: {magic.decode()} version {version} is not supported (expected 1)")
    if length != len(data):
        raise ConversionError(f"{name}: the header says {length} bytes, the file has {len(data)}")
    if magic == b"b3dm" and bt_json >= 0x22000000:  # the pre-1.0 header (batchLength, batchTableByteLength)
        raise ConversionError(f"{name}: a pre-1.0 b3dm header; re-export the tileset with 3D Tiles 1.0 or later")
    gltf_format = struct.unpack_from("<I", data, 28)[0] if magic == b"i3dm" else 1
    features, offset = _table(data, size, ft_json, ft_bin, f"{name} feature table")
    batch, offset = _table(data, offset, bt_json, bt_bin, f"{name} batch table")
    return Legacy(magic, features, batch, data[offset:], gltf_format)


def split_cmpt(data: bytes, name: str) -> list[bytes]:
    """The inner contents of a composite (nested composites flattened)."""
    if len(data) < 16 or data[:4] != b"cmpt":
        raise ConversionError(f"{name}: not a cmpt content")
    version, length, count = struct.unpack_from("<3I", data, 4)
    if version != 1 or length != len(data):
        raise ConversionError(f"{name}: bad cmpt header (version {version}, {length} bytes declared)")
    inner, offset = [], 16
    for index in range(count):
        if offset + 12 > len(data):
            raise ConversionError(f"{name}: inner content {index} lies outside the composite")
        size = struct.unpack_from("<I", data, offset + 8)[0]
        if size < 12 or offset + size > len(data):
            raise ConversionError(f"{name}: inner content {index} has a bad length")
        piece = data[offset : offset + size]
        inner.extend(split_cmpt(piece, name) if piece[:4] == b"cmpt" else [piece])
        offset += size
    return inner


def batch_columns(batch: Table, count: int) -> tuple[dict[str, list[Any]], list[str]]:
    """Batch-table properties as columns of ``count`` plain values; skipped property names too."""
    columns: dict[str, list[Any]] = {}
    skipped: list[str] = []
    for name, value in batch.json.items():
        if name in ("extensions", "extras"):
            if name == "extensions" and value:
                skipped.extend(f"batch table extension {key}" for key in value)
            continue
        if isinstance(value, list):
            if len(value) != count:
                skipped.append(f"{name} ({len(value)} values for {count} features)")
                continue
            columns[name] = [_plain(v) for v in value]
        elif isinstance(value, dict) and "byteOffset" in value:
            width = WIDTHS.get(str(value.get("type", "SCALAR")), 0)
            if not width or str(value.get("componentType")) not in COMPONENTS:
                skipped.append(f"{name} (type {value.get('type')}/{value.get('componentType')})")
                continue
            array = batch.array(name, str(value["componentType"]), width, count)
            assert array is not None
            if width == 1:
                columns[name] = array[:, 0].tolist()
            else:
                for axis in range(width):
                    columns[f"{name}[{axis}]"] = array[:, axis].tolist()
        else:
            skipped.append(name)
    return columns, skipped


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return json.dumps(value, ensure_ascii=False)
