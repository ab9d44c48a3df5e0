"""Binary-layout checks of ``EXT_structural_metadata`` and ``EXT_mesh_features`` in a glb.

The Khronos glTF validator does not look inside these extensions; the CesiumGS 3D Tiles validator
does, but is not on the package registries. These are its rules that producers break (see
``../shared/notes/3d-tiles-pitfalls.md``), written independently of the code under test::

    layout_errors(glb_bytes) -> list[str]        # empty: the layout is consistent

Checked: the schema's classes and enums that tables, attributes and features refer to exist;
property-table ``count`` ≥ 1 and every table property belongs to its class (required ones present);
buffer views used by property tables are 8-byte aligned and inside their buffer; ``values`` byte
lengths match count × type size (booleans bit-packed); string/array offsets: count + 1 values of the
declared offset type, ascending, the last equal to the values' byte length (strings) or element
count (arrays); enum values among the enum's values; property attributes name existing accessors of
the declared component type; feature IDs (``EXT_mesh_features`` on primitives,
``EXT_instance_features`` on nodes) are whole numbers below the property table's count or equal to
``nullFeatureId``, with ``featureCount`` equal to the distinct IDs found.
"""

from __future__ import annotations

import json
import math
import struct
from typing import Any

import numpy as np

STRUCTURAL_METADATA = "EXT_structural_metadata"
MESH_FEATURES = "EXT_mesh_features"
INSTANCE_FEATURES = "EXT_instance_features"
INSTANCING = "EXT_mesh_gpu_instancing"
MESHOPT = "EXT_meshopt_compression"

COMPONENT_DTYPES: dict[str, str] = {
    "INT8": "<i1", "UINT8": "<u1", "INT16": "<i2", "UINT16": "<u2", "INT32": "<i4", "UINT32": "<u4",
    "INT64": "<i8", "UINT64": "<u8", "FLOAT32": "<f4", "FLOAT64": "<f8",
}
GLTF_COMPONENTS: dict[int, str] = {5120: "INT8", 5121: "UINT8", 5122: "INT16", 5123: "UINT16", 5125: "UINT32",
                                   5126: "FLOAT32"}
TYPE_COMPONENTS: dict[str, int] = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}
OFFSET_TYPES = ("UINT8", "UINT16", "UINT32", "UINT64")
ALIGNMENT = 8


def split_glb(data: bytes) -> tuple[dict[str, Any], bytes]:
    """The JSON and BIN chunks of a glb 2.0 file."""
    magic, version, _ = struct.unpack_from("<4sII", data, 0)
    if magic != b"glTF" or version != 2:
        raise ValueError("not a glb 2.0 file")
    json_length, _ = struct.unpack_from("<I4s", data, 12)
    gltf = json.loads(data[20 : 20 + json_length])
    rest = 20 + json_length
    binary = b""
    if rest + 8 <= len(data):
        bin_length, kind = struct.unpack_from("<I4s", data, rest)
        if kind == b"BIN\x00":
            binary = data[rest + 8 : rest + 8 + bin_length]
    return gltf, binary


def layout_errors(data: bytes) -> list[str]:
    """Every violated layout rule of the glb ``data``, one line each."""
    gltf, binary = split_glb(data)
    return _Checker(gltf, binary).run()


class _Checker:
    def __init__(self, gltf: dict[str, Any], binary: bytes) -> None:
        self.gltf = gltf
        self.binary = binary
        self.errors: list[str] = []
        self.extension: dict[str, Any] = gltf.get("extensions", {}).get(STRUCTURAL_METADATA) or {}
        self.schema: dict[str, Any] = self.extension.get("schema") or {}
        self.classes: dict[str, Any] = self.schema.get("classes") or {}
        self.enums: dict[str, Any] = self.schema.get("enums") or {}
        self.tables: list[dict[str, Any]] = self.extension.get("propertyTables") or []

    def error(self, message: str) -> None:
        self.errors.append(f"metadata: {message}")

    def run(self) -> list[str]:
        used = set(self.gltf.get("extensionsUsed", []))
        if self.extension and STRUCTURAL_METADATA not in used:
            self.error(f"{STRUCTURAL_METADATA} present but not in extensionsUsed")
        if "schemaUri" in self.extension:
            self.error("schemaUri is not supported by these checks (embed the schema)")
        self.check_schema()
        for index, table in enumerate(self.tables):
            self.check_table(f"propertyTables/{index}", table)
        for index, attribute in enumerate(self.extension.get("propertyAttributes") or []):
            self.check_attribute_definition(f"propertyAttributes/{index}", attribute)
        self.check_primitives(used)
        self.check_instances(used)
        return self.errors

    # ------------------------------------------------------------ schema

    def check_schema(self) -> None:
        for enum_id, enum in self.enums.items():
            values = [v.get("value") for v in enum.get("values", [])]
            names = [v.get("name") for v in enum.get("values", [])]
            value_type = enum.get("valueType", "UINT16")
            if value_type not in COMPONENT_DTYPES or value_type.startswith("FLOAT"):
                self.error(f"enum {enum_id}: valueType {value_type} is not an integer type")
            elif values and not all(_fits(v, value_type) for v in values):
                self.error(f"enum {enum_id}: a value does not fit {value_type}")
            if not values or len(set(values)) != len(values) or len(set(names)) != len(names):
                self.error(f"enum {enum_id}: values empty, or names/values not unique")
        for class_id, cls in self.classes.items():
            for prop_id, prop in (cls.get("properties") or {}).items():
                where = f"class {class_id} property {prop_id}"
                kind = prop.get("type")
                if kind == "ENUM":
                    enum = self.enums.get(prop.get("enumType", ""))
                    if enum is None:
                        self.error(f"{where}: enumType {prop.get('enumType')!r} is not in the schema's enums")
                    elif "noData" in prop and prop["noData"] not in {v.get("name") for v in enum["values"]}:
                        self.error(f"{where}: noData {prop['noData']!r} is not a name of enum {prop['enumType']}")
                elif kind in TYPE_COMPONENTS and prop.get("componentType") not in COMPONENT_DTYPES:
                    self.error(f"{where}: type {kind} needs a componentType, got {prop.get('componentType')!r}")
                elif kind not in TYPE_COMPONENTS and kind not in ("STRING", "BOOLEAN", "ENUM"):
                    self.error(f"{where}: unknown type {kind!r}")

    # ------------------------------------------------------------ buffer views

    def view(self, where: str, index: Any) -> bytes | None:
        """The bytes of buffer view ``index`` after checking it exists, is aligned and in its buffer."""
        views = self.gltf.get("bufferViews", [])
        if not isinstance(index, int) or not 0 <= index < len(views):
            self.error(f"{where}: buffer view {index!r} does not exist")
            return None
        view = views[index]
        start, length = view.get("byteOffset", 0), view.get("byteLength", 0)
        if start % ALIGNMENT:
            self.error(f"{where}: buffer view {index} byteOffset {start} is not a multiple of {ALIGNMENT}")
        if view.get("extensions", {}).get(MESHOPT) is not None or view.get("buffer", 0) != 0:
            self.error(f"{where}: buffer view {index} is not plain data in the glb's binary chunk")
            return None
        if start + length > len(self.binary):
            self.error(f"{where}: buffer view {index} ends at {start + length}, past the binary chunk")
            return None
        return self.binary[start : start + length]

    def offsets(self, where: str, index: Any, offset_type: str, count: int) -> np.ndarray | None:
        """count + 1 offsets of the declared type, ascending."""
        if offset_type not in OFFSET_TYPES:
            self.error(f"{where}: offset type {offset_type!r} is not one of {', '.join(OFFSET_TYPES)}")
            return None
        data = self.view(where, index)
        if data is None:
            return None
        size = np.dtype(COMPONENT_DTYPES[offset_type]).itemsize
        if len(data) != (count + 1) * size:
            self.error(f"{where}: byteLength {len(data)}, expected ({count} + 1) offsets × {size} bytes "
                       f"({offset_type}) = {(count + 1) * size}")
            return None
        values = np.frombuffer(data, dtype=COMPONENT_DTYPES[offset_type]).astype(np.int64)
        if np.any(np.diff(values) < 0):
            self.error(f"{where}: offsets are not ascending")
            return None
        return values

    # ------------------------------------------------------------ property tables

    def check_table(self, where: str, table: dict[str, Any]) -> None:
        cls = self.classes.get(table.get("class", ""))
        if cls is None:
            self.error(f"{where}: class {table.get('class')!r} is not in the schema")
            return
        count = table.get("count")
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            self.error(f"{where}: count {count!r} is not an integer ≥ 1")
            return
        class_props = cls.get("properties") or {}
        table_props = table.get("properties") or {}
        for prop_id, prop in class_props.items():
            if prop.get("required") and prop_id not in table_props:
                self.error(f"{where}: required property {prop_id} missing")
        for prop_id, entry in table_props.items():
            if prop_id not in class_props:
                self.error(f"{where}/properties/{prop_id}: not a property of class {table['class']}")
                continue
            self.check_column(f"{where}/properties/{prop_id}", class_props[prop_id], entry, count)

    def check_column(self, where: str, prop: dict[str, Any], entry: dict[str, Any], count: int) -> None:
        kind = prop.get("type")
        elements = count
        if prop.get("array"):
            if "count" in prop:
                elements = count * int(prop["count"])
            else:
                array_offsets = self.offsets(f"{where}/arrayOffsets", entry.get("arrayOffsets"),
                                             entry.get("arrayOffsetType", "UINT32"), count)
                if array_offsets is None:
                    return
                elements = int(array_offsets[-1])
        values = self.view(f"{where}/values", entry.get("values"))
        if values is None:
            return
        if kind == "STRING":
            offsets = self.offsets(f"{where}/stringOffsets", entry.get("stringOffsets"),
                                   entry.get("stringOffsetType", "UINT32"), elements)
            if offsets is not None and offsets[-1] != len(values):
                self.error(f"{where}: last string offset {offsets[-1]} != values byteLength {len(values)}")
            return
        if kind == "BOOLEAN":
            expected = math.ceil(elements / 8)
            if len(values) != expected:
                self.error(f"{where}/values: byteLength {len(values)}, expected ceil({elements} / 8) = {expected}")
            return
        if kind == "ENUM":
            enum = self.enums.get(prop.get("enumType", ""))
            if enum is None:
                return  # reported with the schema
            component, components = enum.get("valueType", "UINT16"), 1
        else:
            component, components = prop.get("componentType", ""), TYPE_COMPONENTS.get(kind or "", 0)
        if component not in COMPONENT_DTYPES or not components:
            return  # reported with the schema
        dtype = np.dtype(COMPONENT_DTYPES[component])
        expected = elements * components * dtype.itemsize
        if len(values) != expected:
            self.error(f"{where}/values: byteLength {len(values)}, expected {elements} × {components} × "
                       f"{dtype.itemsize} ({component}) = {expected}")
            return
        if kind == "ENUM":
            allowed = {v.get("value") for v in enum["values"]}
            stray = set(np.unique(np.frombuffer(values, dtype=dtype)).tolist()) - allowed
            if stray:
                self.error(f"{where}/values: {sorted(stray)[:5]} not among the values of enum {prop['enumType']}")

    # ------------------------------------------------------------ property attributes

    def check_attribute_definition(self, where: str, definition: dict[str, Any]) -> None:
        cls = self.classes.get(definition.get("class", ""))
        if cls is None:
            self.error(f"{where}: class {definition.get('class')!r} is not in the schema")
            return
        for prop_id in definition.get("properties") or {}:
            prop = (cls.get("properties") or {}).get(prop_id)
            if prop is None:
                self.error(f"{where}/properties/{prop_id}: not a property of class {definition['class']}")
            elif prop.get("type") not in TYPE_COMPONENTS and prop.get("type") != "ENUM":
                self.error(f"{where}/properties/{prop_id}: type {prop.get('type')} cannot be a vertex attribute")

    def check_attribute_use(self, where: str, index: Any, attributes: dict[str, int]) -> None:
        definitions = self.extension.get("propertyAttributes") or []
        if not isinstance(index, int) or not 0 <= index < len(definitions):
            self.error(f"{where}: property attribute {index!r} does not exist")
            return
        definition = definitions[index]
        props = (self.classes.get(definition.get("class", "")) or {}).get("properties") or {}
        accessors = self.gltf.get("accessors", [])
        for prop_id, entry in (definition.get("properties") or {}).items():
            name = entry.get("attribute")
            if name not in attributes:
                self.error(f"{where}: attribute {name!r} of property {prop_id} is not in the primitive")
                continue
            accessor = accessors[attributes[name]]
            prop = props.get(prop_id) or {}
            declared = prop.get("componentType")
            if prop.get("type") == "ENUM":
                declared = (self.enums.get(prop.get("enumType", "")) or {}).get("valueType", "UINT16")
            actual = GLTF_COMPONENTS.get(accessor.get("componentType", 0))
            if declared is not None and actual != declared:
                self.error(f"{where}: attribute {name} is {actual}, property {prop_id} declares {declared}")

    # ------------------------------------------------------------ feature IDs

    def check_primitives(self, used: set[str]) -> None:
        for m, mesh in enumerate(self.gltf.get("meshes", [])):
            for p, primitive in enumerate(mesh.get("primitives", [])):
                where = f"meshes/{m}/primitives/{p}"
                extensions = primitive.get("extensions", {})
                attributes = primitive.get("attributes", {})
                for index in (extensions.get(STRUCTURAL_METADATA) or {}).get("propertyAttributes", []):
                    self.check_attribute_use(where, index, attributes)
                features = extensions.get(MESH_FEATURES)
                if features is not None:
                    if MESH_FEATURES not in used:
                        self.error(f"{where}: {MESH_FEATURES} not in extensionsUsed")
                    self.check_feature_ids(where, features, attributes)

    def check_instances(self, used: set[str]) -> None:
        for n, node in enumerate(self.gltf.get("nodes", [])):
            features = node.get("extensions", {}).get(INSTANCE_FEATURES)
            if features is None:
                continue
            where = f"nodes/{n}"
            if INSTANCE_FEATURES not in used:
                self.error(f"{where}: {INSTANCE_FEATURES} not in extensionsUsed")
            attributes = node.get("extensions", {}).get(INSTANCING, {}).get("attributes", {})
            self.check_feature_ids(where, features, attributes)

    def check_feature_ids(self, where: str, features: dict[str, Any], attributes: dict[str, int]) -> None:
        for i, feature in enumerate(features.get("featureIds", [])):
            here = f"{where}/featureIds/{i}"
            table = feature.get("propertyTable")
            limit = None
            if table is not None:
                if not isinstance(table, int) or not 0 <= table < len(self.tables):
                    self.error(f"{here}: propertyTable {table!r} does not exist")
                else:
                    limit = self.tables[table].get("count")
            if "attribute" not in feature:
                continue  # implicit (vertex index) or texture feature IDs: not produced here
            name = f"_FEATURE_ID_{feature['attribute']}"
            if name not in attributes:
                self.error(f"{here}: attribute {name} is missing")
                continue
            ids = self.accessor(here, attributes[name])
            if ids is None:
                continue
            null = feature.get("nullFeatureId")
            present = ids if null is None else ids[ids != null]
            if np.any(present != np.round(present)) or np.any(present < 0):
                self.error(f"{here}: feature IDs are not whole numbers ≥ 0")
                continue
            if isinstance(limit, int) and present.size and present.max() >= limit:
                self.error(f"{here}: feature ID {int(present.max())} ≥ property table count {limit} "
                           "and not the nullFeatureId")
            distinct = len(np.unique(present))
            if feature.get("featureCount") != distinct:
                self.error(f"{here}: featureCount {feature.get('featureCount')} != {distinct} distinct feature IDs")

    def accessor(self, where: str, index: int) -> np.ndarray | None:
        accessor = self.gltf.get("accessors", [])[index]
        if accessor.get("type") != "SCALAR" or accessor.get("normalized"):
            self.error(f"{where}: feature ID accessor {index} is not a plain SCALAR")
            return None
        component = GLTF_COMPONENTS.get(accessor.get("componentType", 0))
        if component not in ("UINT8", "UINT16", "UINT32", "FLOAT32"):
            self.error(f"{where}: feature ID accessor {index} has component type {component}")
            return None
        view = self.gltf["bufferViews"][accessor["bufferView"]]
        data = _view_data(view, self.binary)
        dtype = np.dtype(COMPONENT_DTYPES[component])
        stride = view.get("byteStride") or dtype.itemsize
        count, start = accessor["count"], accessor.get("byteOffset", 0)
        if count and start + stride * (count - 1) + dtype.itemsize > len(data):
            self.error(f"{where}: feature ID accessor {index} reads past its buffer view")
            return None
        return np.ndarray((count,), dtype=dtype, buffer=data, offset=start, strides=(stride,)).astype(np.float64)


def _view_data(view: dict[str, Any], binary: bytes) -> bytes:
    """A buffer view's bytes; ``EXT_meshopt_compression`` views are decoded."""
    meshopt = view.get("extensions", {}).get(MESHOPT)
    if meshopt is None:
        start = view.get("byteOffset", 0)
        return binary[start : start + view["byteLength"]]
    import meshoptimizer

    start = meshopt.get("byteOffset", 0)
    compressed = binary[start : start + meshopt["byteLength"]]
    count, stride = meshopt["count"], meshopt["byteStride"]
    decode = {"ATTRIBUTES": meshoptimizer.decode_vertex_buffer, "TRIANGLES": meshoptimizer.decode_index_buffer}
    decoded = decode.get(meshopt["mode"], meshoptimizer.decode_index_sequence)(count, stride, compressed)
    return np.asarray(decoded).tobytes()[: count * stride]


def _fits(value: Any, component: str) -> bool:
    info = np.iinfo(np.dtype(COMPONENT_DTYPES[component]))
    return isinstance(value, int) and info.min <= value <= info.max
