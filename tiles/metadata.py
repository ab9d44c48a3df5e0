"""``EXT_structural_metadata`` encoding: a schema class plus property tables or property attributes.

Column types are inferred from the Python values:

- all ``bool`` (no missing) → ``BOOLEAN`` (bit-packed)
- ``int`` (and missing) → ``SCALAR INT32``/``INT64``, missing as ``noData``
- ``float``/``int`` mixed → ``SCALAR FLOAT64``, missing as ``noData``
- anything else (``str``, booleans with gaps, mixed types) → ``ENUM`` (UINT8/UINT16 codes) when
  values repeat (at least two rows per distinct value; missing = ``"(no value)"``, the noData),
  else ``STRING`` with a UINT16/UINT32 offset buffer; ``None`` is written as ``""`` (noData).

A text column whose values are all empty (or missing) has no bytes to store, and glTF forbids a
0-byte buffer view (a 1-byte one breaks ``EXT_structural_metadata``'s rule that the last string offset
equals the values' byte length). Such a column is written as ``"(no value)"`` in every row, declared
as the property's ``noData``, so runtimes see "no value" and the binary layout stays consistent. (Leaving
the property out of the table is legal too, but the CesiumGS validator's binary checks walk every
property of the class and expect it in the table.)

Large tables can pass columns as arrays instead of lists (same encoding, byte for byte, as the equivalent
list): :class:`NumberColumn` (floats with NaN for "no value", or integers with a missing mask) and
:class:`TextColumn` (texts as codes into a list of labels, ``None`` among them for "no value"). Their
``take`` picks a tile's rows with one array index, and they are encoded without a pass over Python values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tiles.glb import GlbBuilder

STRUCTURAL_METADATA = "EXT_structural_metadata"
MESH_FEATURES = "EXT_mesh_features"
FLOAT_NO_DATA = -1.7976931348623157e308
INT32_NO_DATA = -(2**31)
INT64_NO_DATA = -(2**63)

_ID = re.compile(r"[^A-Za-z0-9_]")


def property_id(name: str, taken: set[str]) -> str:
    """A schema-legal identifier (``^[a-zA-Z_][a-zA-Z0-9_]*$``) for ``name``, unique within ``taken``."""
    ident = _ID.sub("_", name) or "_"
    if ident[0].isdigit():
        ident = "_" + ident
    base, n = ident, 1
    while ident in taken:
        n += 1
        ident = f"{base}_{n}"
    taken.add(ident)
    return ident


@dataclass(frozen=True, slots=True)
class NumberColumn:
    """A numeric column: ``float64`` values with NaN as "no value", or integer values with an optional
    ``missing`` mask. Encoded as the list of Python floats (None for NaN) or ints (None where missing)."""

    values: NDArray[Any]
    missing: NDArray[np.bool_] | None = None

    def __len__(self) -> int:
        return len(self.values)

    def take(self, keys: NDArray[np.integer]) -> NumberColumn:
        return NumberColumn(self.values[keys], None if self.missing is None else self.missing[keys])

    def absent(self) -> NDArray[np.bool_]:
        """Per row: no value."""
        if self.values.dtype.kind == "f":
            nan: NDArray[np.bool_] = np.isnan(self.values)
            return nan
        return self.missing if self.missing is not None else np.zeros(len(self.values), dtype=bool)

    def to_list(self) -> list[Any]:
        absent = self.absent().tolist()
        return [None if a else v for v, a in zip(self.values.tolist(), absent, strict=True)]


class TextColumn:
    """A text column as ``codes`` into ``labels`` (``None`` among them for "no value"). Encoded as the list
    ``[labels[c] for c in codes]``. The labels' texts and UTF-8 byte lengths are worked out once and shared
    by the columns :meth:`take` makes."""

    __slots__ = ("_byte_lengths", "_none", "_texts", "codes", "labels")

    def __init__(self, codes: NDArray[np.int32], labels: list[str | None],
                 _shared: tuple[list[str], NDArray[np.uint64], int] | None = None) -> None:
        self.codes = codes
        self.labels = labels
        if _shared is None:
            texts = ["" if label is None else label for label in labels]
            joined = "".join(texts)
            if len(joined.encode("utf-8")) == len(joined):  # ASCII: bytes are characters
                byte_lengths = np.fromiter(map(len, texts), dtype=np.uint64, count=len(texts))
            else:
                byte_lengths = np.fromiter((len(t.encode("utf-8")) for t in texts), dtype=np.uint64, count=len(texts))
            _shared = (texts, byte_lengths, labels.index(None) if None in labels else -1)
        self._texts, self._byte_lengths, self._none = _shared

    @staticmethod
    def of(values: Sequence[str | None]) -> TextColumn:
        labels = list(dict.fromkeys(values))
        if len(labels) == len(values):  # every value distinct (ids): each row is its own label
            return TextColumn(np.arange(len(values), dtype=np.int32), labels)
        index = dict(zip(labels, range(len(labels)), strict=True))
        return TextColumn(np.fromiter(map(index.__getitem__, values), dtype=np.int32, count=len(values)), labels)

    def __len__(self) -> int:
        return len(self.codes)

    def take(self, keys: NDArray[np.integer]) -> TextColumn:
        return TextColumn(self.codes[keys], self.labels, (self._texts, self._byte_lengths, self._none))

    def present(self) -> NDArray[np.bool_]:
        """Per label: whether it occurs."""
        present: NDArray[np.bool_] = np.bincount(self.codes, minlength=len(self.labels)) > 0
        return present

    def all_absent(self) -> bool:
        present = self.present()
        count = int(present.sum())
        return count == 0 or (count == 1 and self._none >= 0 and bool(present[self._none]))

    def to_list(self) -> list[str | None]:
        return list(map(self.labels.__getitem__, self.codes.tolist()))

    def utf8(self) -> tuple[bytes, NDArray[np.uint64]]:
        """The rows' texts joined as UTF-8 (``None`` as ``""``), and each one's byte length."""
        data = "".join(map(self._texts.__getitem__, self.codes.tolist())).encode("utf-8")
        return data, self._byte_lengths[self.codes]

    def has_none(self, present: NDArray[np.bool_]) -> bool:
        return self._none >= 0 and bool(present[self._none])


ArrayColumn = NumberColumn | TextColumn


_NONE = type(None)
_PLAIN_TYPES = frozenset({bool, int, float, str, _NONE})


def _plain_types(values: Sequence[Any]) -> set[type] | None:
    """The exact Python types of ``values`` when all are plain (bool, int, float, str, None), else None.

    One C-level pass: lets the common columns skip per-value ``isinstance`` checks."""
    types = set(map(type, values))
    return types if types <= _PLAIN_TYPES else None


def _column_kind(values: Sequence[Any]) -> str:
    types = _plain_types(values)
    if types is not None:
        return _plain_kind(values, types)
    present = [v for v in values if v is not None]
    if not present:
        return "STRING"
    if all(isinstance(v, bool | np.bool_) for v in present):
        return "BOOLEAN" if len(present) == len(values) else "STRING"
    if all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in present):
        small = all(INT32_NO_DATA < int(v) < 2**31 for v in present)
        return "INT32" if small else "INT64"
    if all(isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool) for v in present):
        return "FLOAT64"
    return "STRING"


def _plain_kind(values: Sequence[Any], types: set[type]) -> str:
    """:func:`_column_kind` for columns of plain Python values (same result, no per-value checks)."""
    present_types = types - {_NONE}
    if not present_types:
        return "STRING"
    if present_types == {bool}:
        return "BOOLEAN" if _NONE not in types else "STRING"
    if present_types == {int}:
        present = [v for v in values if v is not None] if _NONE in types else values
        small = INT32_NO_DATA < min(present) and max(present) < 2**31
        return "INT32" if small else "INT64"
    if present_types <= {int, float}:
        return "FLOAT64"
    return "STRING"


def _string_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    return str(value)


ENUM_NO_VALUE = "(no value)"
MAX_ENUM_VALUES = 65535


def _enum_layout(
    seen: set[str | None], count: int
) -> tuple[list[str], bool, dict[str | None, int]] | None:
    """ENUM members (sorted texts), whether "no value" is one, and each text's code; None when the
    column does not repeat enough (at least two rows per member) or has too many members."""
    distinct = sorted(text for text in seen if text is not None and text not in (ENUM_NO_VALUE, ""))
    missing = None in seen or "" in seen
    size = len(distinct) + int(missing)
    if size == 0 or size > MAX_ENUM_VALUES or count < 2 * size:
        return None
    codes: dict[str | None, int] = {text: i for i, text in enumerate(distinct)}
    codes.update(dict.fromkeys(seen - set(distinct), len(distinct)))  # None, "" and ENUM_NO_VALUE itself
    return distinct, missing, codes


def _enum_property(
    builder: GlbBuilder, array: NDArray[np.integer], distinct: list[str], missing: bool, enums: dict[str, Any],
    name: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    members = [{"name": text, "value": i} for i, text in enumerate(distinct)]
    if missing:
        members.append({"name": ENUM_NO_VALUE, "value": len(distinct)})
    enum_id = f"{name}_values"
    enums[enum_id] = {"valueType": "UINT8" if array.dtype == np.uint8 else "UINT16", "values": members}
    schema: dict[str, Any] = {"type": "ENUM", "enumType": enum_id}
    if missing:
        schema["noData"] = ENUM_NO_VALUE
    return schema, {"values": builder.add_buffer_view(array.tobytes())}


def _enum_dtype(distinct: list[str], missing: bool) -> type[np.unsignedinteger[Any]]:
    return np.uint8 if len(distinct) + int(missing) <= 255 else np.uint16


def _enum_column(
    builder: GlbBuilder, values: Sequence[Any], enums: dict[str, Any], name: str
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Repetitive text columns (class, storey, material, type names, mostly-empty property-set values)
    as ENUM: one or two bytes per row instead of a string and its offset."""
    types = _plain_types(values)
    if types is not None and types <= {str, _NONE}:
        texts: Sequence[str | None] = values
    else:
        texts = [None if v is None else _string_value(v) for v in values]
    layout = _enum_layout(set(texts), len(texts))
    if layout is None:
        return None
    distinct, missing, codes = layout
    array = np.fromiter(map(codes.__getitem__, texts), dtype=_enum_dtype(distinct, missing), count=len(texts))
    return _enum_property(builder, array, distinct, missing, enums, name)


def _text_enum_column(
    builder: GlbBuilder, column: TextColumn, present: NDArray[np.bool_], enums: dict[str, Any], name: str
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """:func:`_enum_column` of a :class:`TextColumn` (``present``: which labels occur): the codes mapped
    through one lookup array."""
    used = np.flatnonzero(present).tolist()
    if len(column) < 2 * (len(used) - 2):  # None, "" and ENUM_NO_VALUE share one member: too many members
        return None
    layout = _enum_layout({column.labels[i] for i in used}, len(column))
    if layout is None:
        return None
    distinct, missing, codes = layout
    dtype = _enum_dtype(distinct, missing)
    lookup = np.zeros(len(column.labels), dtype=dtype)
    lookup[used] = [codes[column.labels[i]] for i in used]
    return _enum_property(builder, lookup[column.codes], distinct, missing, enums, name)


_NO_DATA: dict[str, float] = {"INT32": INT32_NO_DATA, "INT64": INT64_NO_DATA, "FLOAT64": FLOAT_NO_DATA}
_SCALAR_DTYPES: dict[str, type[np.generic]] = {"INT32": np.int32, "INT64": np.int64, "FLOAT64": np.float64}


def _number_column(builder: GlbBuilder, column: NumberColumn) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """A :class:`NumberColumn` as SCALAR FLOAT64/INT32/INT64 (None when no row has a value: such a column
    is encoded like its list of Nones)."""
    values = column.values
    absent = column.absent()
    missing = bool(absent.any())
    if missing and bool(absent.all()):
        return None
    if values.dtype.kind == "f":
        kind = "FLOAT64"
    elif values.dtype.kind in "iu":
        present = values[~absent] if missing else values
        kind = "INT32" if INT32_NO_DATA < int(present.min()) and int(present.max()) < 2**31 else "INT64"
    else:
        raise TypeError(f"NumberColumn of {values.dtype}: expected floats or integers")
    dtype = _SCALAR_DTYPES[kind]
    if missing:
        array = np.where(absent, _NO_DATA[kind], values).astype(dtype)
    else:
        array = values.astype(dtype, copy=False)
    return _scalar_property(builder, kind, array, missing)


def _scalar_property(
    builder: GlbBuilder, kind: str, array: NDArray[Any], missing: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    schema: dict[str, Any] = {"type": "SCALAR", "componentType": kind}
    if missing:
        schema["noData"] = _NO_DATA[kind]
    return schema, {"values": builder.add_buffer_view(array.tobytes())}


def encode_column(
    builder: GlbBuilder, values: Sequence[Any] | ArrayColumn, enums: dict[str, Any] | None = None,
    name: str = "column"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Write one property-table column; returns (schema property, property-table property).

    With ``enums`` (the schema's enum dictionary), repetitive text columns become ENUMs. A text
    column without a single byte of text is written as ``ENUM_NO_VALUE`` rows, its noData.
    ``values`` may be a :class:`NumberColumn` or :class:`TextColumn` (the same bytes as its list)."""
    if isinstance(values, NumberColumn):
        encoded = _number_column(builder, values)
        if encoded is not None:
            return encoded
        values = values.to_list()
    if isinstance(values, TextColumn):
        return _text_column(builder, values, enums, name)
    kind = _column_kind(values)
    if kind == "BOOLEAN":
        bits = np.packbits(np.array([bool(v) for v in values], dtype=np.uint8), bitorder="little")
        return {"type": "BOOLEAN"}, {"values": builder.add_buffer_view(bits.tobytes())}
    if kind in ("INT32", "INT64", "FLOAT64"):
        missing = _has_none(values)
        no_data = _NO_DATA[kind]
        array = np.array([no_data if v is None else v for v in values] if missing else values,
                         dtype=_SCALAR_DTYPES[kind])
        return _scalar_property(builder, kind, array, missing)
    if enums is not None:
        enum = _enum_column(builder, values, enums, name)
        if enum is not None:
            return enum
    data, lengths = _utf8_strings(values)
    return _string_property(builder, data, lengths, len(values), _has_none(values))


def _text_column(
    builder: GlbBuilder, column: TextColumn, enums: dict[str, Any] | None, name: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A :class:`TextColumn`: ENUM when repetitive, else one join of the rows' texts and offsets from the
    labels' byte lengths."""
    present = column.present()
    if enums is not None:
        enum = _text_enum_column(builder, column, present, enums, name)
        if enum is not None:
            return enum
    data, lengths = column.utf8()
    return _string_property(builder, data, lengths, len(column), column.has_none(present))


def _string_property(
    builder: GlbBuilder, data: bytes, lengths: Sequence[int] | NDArray[np.uint64], count: int, has_none: bool
) -> tuple[dict[str, Any], dict[str, Any]]:
    text_no_data = ""
    if not data and count:  # nothing but empty texts: a 0-byte values view is impossible
        text_no_data = ENUM_NO_VALUE
        data, lengths = _utf8_strings([ENUM_NO_VALUE] * count)
    total = len(data)
    offset_type, offset_dtype = ("UINT16", np.uint16) if total < 65536 else ("UINT32", np.uint32)
    offsets = np.zeros(len(lengths) + 1, dtype=np.uint64)
    offsets[1:] = np.cumsum(lengths, dtype=np.uint64)
    schema: dict[str, Any] = {"type": "STRING"}
    if text_no_data or has_none:
        schema["noData"] = text_no_data
    table = {
        "values": builder.add_buffer_view(data),
        "stringOffsets": builder.add_buffer_view(offsets.astype(offset_dtype).tobytes()),
        "stringOffsetType": offset_type,
    }
    return schema, table


def _has_none(values: Sequence[Any]) -> bool:
    return any(v is None for v in values) if _plain_types(values) is None else None in values


def _utf8_strings(values: Sequence[Any]) -> tuple[bytes, list[int]]:
    """The concatenated UTF-8 texts of ``values`` (``None`` as ``""``) and each one's byte length."""
    types = _plain_types(values)
    if types is not None and types <= {str, _NONE}:
        texts = [v if v is not None else "" for v in values] if _NONE in types else values
        joined = "".join(texts)
        data = joined.encode("utf-8")
        if len(data) == len(joined):  # ASCII: byte lengths are character lengths
            return data, list(map(len, texts))
    encoded = [_string_value(v).encode("utf-8") for v in values]
    return b"".join(encoded), [len(e) for e in encoded]


class StructuralMetadata:
    """Accumulates one schema and its property tables/attributes for one glb."""

    def __init__(self, builder: GlbBuilder, schema_id: str = "cim") -> None:
        self.builder = builder
        self.schema: dict[str, Any] = {"id": schema_id, "classes": {}}
        self.tables: list[dict[str, Any]] = []
        self.attributes: list[dict[str, Any]] = []

    def add_property_table(
        self,
        class_name: str,
        columns: Mapping[str, Sequence[Any] | ArrayColumn],
        descriptions: Mapping[str, str] | None = None,
    ) -> int:
        """One row per feature; ``columns`` maps display names to equal-length value lists (or array
        columns, :class:`NumberColumn`/:class:`TextColumn`)."""
        counts = {len(v) for v in columns.values()}
        if len(counts) > 1:
            raise ValueError("property table columns differ in length")
        count = counts.pop() if counts else 0
        taken: set[str] = set()
        schema_props: dict[str, Any] = {}
        table_props: dict[str, Any] = {}
        enums = self.schema.setdefault("enums", {})
        for name, values in columns.items():
            ident = property_id(name, taken)
            schema_prop, table_prop = encode_column(self.builder, values, enums, f"{class_name}_{ident}")
            if ident != name:
                schema_prop["name"] = name
            if descriptions and name in descriptions:
                schema_prop["description"] = descriptions[name]
            schema_props[ident] = schema_prop
            table_props[ident] = table_prop
        self.schema["classes"][class_name] = {"properties": schema_props}
        table: dict[str, Any] = {"class": class_name, "count": count}
        if table_props:  # the schema wants at least one property when the key is present
            table["properties"] = table_props
        self.tables.append(table)
        return len(self.tables) - 1

    def add_property_attribute(self, class_name: str, properties: Mapping[str, tuple[str, dict[str, Any]]]) -> int:
        """``properties``: id → (glTF attribute name like ``_INTENSITY``, schema property)."""
        self.schema["classes"][class_name] = {"properties": {k: v[1] for k, v in properties.items()}}
        self.attributes.append(
            {"class": class_name, "properties": {k: {"attribute": v[0]} for k, v in properties.items()}}
        )
        return len(self.attributes) - 1

    def finish(self) -> None:
        """Attach the extension to the glTF root (call once, before ``to_bytes``)."""
        if not self.schema["classes"]:
            return
        if not self.schema.get("enums"):
            self.schema.pop("enums", None)
        extension: dict[str, Any] = {"schema": self.schema}
        if self.tables:
            extension["propertyTables"] = self.tables
        if self.attributes:
            extension["propertyAttributes"] = self.attributes
        self.builder.gltf.setdefault("extensions", {})[STRUCTURAL_METADATA] = extension
        self.builder.use_extension(STRUCTURAL_METADATA)


def feature_id_attribute(builder: GlbBuilder, ids: NDArray[np.integer]) -> int:
    """The ``_FEATURE_ID_n`` accessor: FLOAT (exact below 2**24; 4-byte aligned, validator-clean)."""
    if ids.size and int(ids.max()) >= 2**24:
        raise ValueError("too many features for a float feature-ID attribute")
    return builder.add_accessor(ids.astype(np.float32))


def mesh_features(feature_count: int, attribute: int, property_table: int | None, label: str) -> dict[str, Any]:
    entry: dict[str, Any] = {"featureCount": max(1, feature_count), "attribute": attribute, "label": label}
    if property_table is not None:
        entry["propertyTable"] = property_table
    return {"featureIds": [entry]}
