"""EXT_structural_metadata / EXT_mesh_features layout: the checks catch each broken glb, and the
writer no longer produces one (issue 13, item 1)."""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from converters.api import convert
from converters.options import ConvertOptions
from tests.support.structural_metadata import layout_errors, split_glb
from tests.support.validators import assert_glb_valid, assert_output_valid
from tiles.glb import GlbBuilder
from tiles.instancing import InstanceGroup
from tiles.mesh import Material, MeshPart, write_mesh_glb
from tiles.metadata import ENUM_NO_VALUE, StructuralMetadata, encode_column
from tiles.points import write_points_glb

CORPUS_UTM = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "ifc" / "geographic-referencing-utm.ifc"
TRIANGLES = np.array([[0, 1, 2], [0, 2, 3]])
FEATURES: dict[str, list[Any]] = {
    "Name": ["north wall", "south wall", "roof slab"],  # STRING
    "IfcClass": ["IfcWall", "IfcWall", "IfcWall"],  # ENUM (repeats)
    "LoadBearing": [True, False, True],  # BOOLEAN
    "Height": [3.0, None, 0.3],  # FLOAT64 with noData
    "Empty": ["", None, ""],  # nothing but empty texts
}


def _square(x: float, feature: int) -> MeshPart:
    positions = np.array([[x, 0, 0], [x + 1, 0, 0], [x + 1, 1, 0], [x, 1, 0]], dtype=np.float64)
    return MeshPart(positions, None, TRIANGLES, 0, feature)


def _good_glb(compress: bool = False) -> bytes:
    shifts = np.repeat(np.eye(4)[None], 2, axis=0)
    shifts[:, 0, 3] = [5.0, 7.0]
    group = InstanceGroup([_square(0.0, 0)], shifts, [2, 1])
    parts = [_square(0.0, 0), _square(2.0, 1)]
    return write_mesh_glb(parts, [Material("grey")], FEATURES, compress=compress, instances=[group]).data


def _pack(gltf: dict[str, Any], binary: bytes) -> bytes:
    text = json.dumps(gltf).encode()
    text += b" " * (-len(text) % 4)
    binary += b"\x00" * (-len(binary) % 4)
    total = 12 + 8 + len(text) + 8 + len(binary)
    return b"".join([struct.pack("<4sII", b"glTF", 2, total), struct.pack("<I4s", len(text), b"JSON"), text,
                     struct.pack("<I4s", len(binary), b"BIN\x00"), binary])


def _table(gltf: dict[str, Any]) -> dict[str, Any]:
    return gltf["extensions"]["EXT_structural_metadata"]["propertyTables"][0]


def _view_start(gltf: dict[str, Any], index: int) -> int:
    return int(gltf["bufferViews"][index].get("byteOffset", 0))


def _write(binary: bytearray, gltf: dict[str, Any], view: int, array: np.ndarray) -> None:
    start = _view_start(gltf, view)
    binary[start : start + array.nbytes] = array.tobytes()


def _feature_view(gltf: dict[str, Any]) -> int:
    primitive = gltf["meshes"][0]["primitives"][0]
    return int(gltf["accessors"][primitive["attributes"]["_FEATURE_ID_0"]]["bufferView"])


def _mesh_features(gltf: dict[str, Any]) -> dict[str, Any]:
    return gltf["meshes"][0]["primitives"][0]["extensions"]["EXT_mesh_features"]["featureIds"][0]


def _instance_features(gltf: dict[str, Any]) -> dict[str, Any]:
    node = next(n for n in gltf["nodes"] if "EXT_instance_features" in n.get("extensions", {}))
    return node


def _old_empty_column(gltf: dict[str, Any], binary: bytearray) -> None:
    """What the writer did before the fix: a 1-byte values view with offsets [0, 0, 0, 0]."""
    entry = _table(gltf)["properties"]["Empty"]
    gltf["extensions"]["EXT_structural_metadata"]["schema"]["classes"]["element"]["properties"]["Empty"] = {
        "type": "STRING"
    }
    start = len(binary)
    binary += b"\x00" * 8 + np.zeros(4, dtype=np.uint16).tobytes()
    gltf["bufferViews"] += [{"buffer": 0, "byteOffset": start, "byteLength": 1},
                            {"buffer": 0, "byteOffset": start + 8, "byteLength": 8}]
    gltf["buffers"][0]["byteLength"] = len(binary)
    entry.clear()
    entry.update(values=len(gltf["bufferViews"]) - 2, stringOffsets=len(gltf["bufferViews"]) - 1,
                 stringOffsetType="UINT16")


def _descending_offsets(gltf: dict[str, Any], binary: bytearray) -> None:
    _write(binary, gltf, _table(gltf)["properties"]["Name"]["stringOffsets"], np.array([0, 10, 5, 29], np.uint16))


def _offset_type_not_as_written(gltf: dict[str, Any], binary: bytearray) -> None:
    _table(gltf)["properties"]["Name"]["stringOffsetType"] = "UINT32"


def _count_too_large(gltf: dict[str, Any], binary: bytearray) -> None:
    _table(gltf)["count"] = 4


def _misaligned(gltf: dict[str, Any], binary: bytearray) -> None:
    view = gltf["bufferViews"][_table(gltf)["properties"]["Name"]["values"]]
    view["byteOffset"] += 4
    view["byteLength"] -= 4


def _enum_value_outside(gltf: dict[str, Any], binary: bytearray) -> None:
    _write(binary, gltf, _table(gltf)["properties"]["IfcClass"]["values"], np.array([0, 9, 0], np.uint8))


def _feature_id_too_large(gltf: dict[str, Any], binary: bytearray) -> None:
    _write(binary, gltf, _feature_view(gltf), np.array([0, 0, 0, 0, 3, 3, 3, 3], np.float32))


def _instance_id_too_large(gltf: dict[str, Any], binary: bytearray) -> None:
    node = _instance_features(gltf)
    accessor = node["extensions"]["EXT_mesh_gpu_instancing"]["attributes"]["_FEATURE_ID_0"]
    _write(binary, gltf, gltf["accessors"][accessor]["bufferView"], np.array([2, 5], np.float32))


def _feature_count_wrong(gltf: dict[str, Any], binary: bytearray) -> None:
    _mesh_features(gltf)["featureCount"] = 5


def _missing_table(gltf: dict[str, Any], binary: bytearray) -> None:
    _mesh_features(gltf)["propertyTable"] = 3


def _missing_class(gltf: dict[str, Any], binary: bytearray) -> None:
    _table(gltf)["class"] = "building"


def _property_not_in_class(gltf: dict[str, Any], binary: bytearray) -> None:
    table = _table(gltf)["properties"]
    table["Colour"] = table["Name"]


def _missing_enum(gltf: dict[str, Any], binary: bytearray) -> None:
    gltf["extensions"]["EXT_structural_metadata"]["schema"]["enums"].clear()


def _boolean_length(gltf: dict[str, Any], binary: bytearray) -> None:
    _table(gltf)["properties"]["LoadBearing"]["values"] = _table(gltf)["properties"]["Height"]["values"]


def _scalar_length(gltf: dict[str, Any], binary: bytearray) -> None:
    _table(gltf)["properties"]["Height"]["values"] = _table(gltf)["properties"]["Name"]["values"]


def _view_missing(gltf: dict[str, Any], binary: bytearray) -> None:
    _table(gltf)["properties"]["Height"]["values"] = 999


def _required_missing(gltf: dict[str, Any], binary: bytearray) -> None:
    schema = gltf["extensions"]["EXT_structural_metadata"]["schema"]
    schema["classes"]["element"]["properties"]["Height"]["required"] = True
    del _table(gltf)["properties"]["Height"]


def _schema(gltf: dict[str, Any]) -> dict[str, Any]:
    return gltf["extensions"]["EXT_structural_metadata"]["schema"]


def _enum_no_data_unknown(gltf: dict[str, Any], binary: bytearray) -> None:
    _schema(gltf)["classes"]["element"]["properties"]["IfcClass"]["noData"] = "(nothing)"


def _enum_value_type_float(gltf: dict[str, Any], binary: bytearray) -> None:
    next(iter(_schema(gltf)["enums"].values()))["valueType"] = "FLOAT32"


def _component_type_missing(gltf: dict[str, Any], binary: bytearray) -> None:
    del _schema(gltf)["classes"]["element"]["properties"]["Height"]["componentType"]


def _extension_undeclared(gltf: dict[str, Any], binary: bytearray) -> None:
    gltf["extensionsUsed"].remove("EXT_mesh_features")


BREAKAGES: list[tuple[Callable[[dict[str, Any], bytearray], None], str]] = [
    (_old_empty_column, "last string offset 0 != values byteLength 1"),
    (_descending_offsets, "not ascending"),
    (_offset_type_not_as_written, "(UINT32)"),
    (_count_too_large, "expected (4 + 1) offsets"),
    (_misaligned, "is not a multiple of 8"),
    (_enum_value_outside, "[9] not among the values of enum"),
    (_feature_id_too_large, "feature ID 3 ≥ property table count 3"),
    (_instance_id_too_large, "nodes/"),
    (_feature_count_wrong, "featureCount 5 != 2"),
    (_missing_table, "propertyTable 3 does not exist"),
    (_missing_class, "class 'building' is not in the schema"),
    (_property_not_in_class, "not a property of class element"),
    (_missing_enum, "is not in the schema's enums"),
    (_boolean_length, "expected ceil(3 / 8) = 1"),
    (_scalar_length, "expected 3 × 1 × 8 (FLOAT64) = 24"),
    (_view_missing, "buffer view 999 does not exist"),
    (_required_missing, "required property Height missing"),
    (_enum_no_data_unknown, "noData '(nothing)' is not a name of enum"),
    (_enum_value_type_float, "valueType FLOAT32 is not an integer type"),
    (_component_type_missing, "type SCALAR needs a componentType"),
    (_extension_undeclared, "EXT_mesh_features not in extensionsUsed"),
]


@pytest.mark.parametrize("compress", [False, True])
def test_written_glb_passes_both_validators(compress: bool) -> None:
    data = _good_glb(compress)
    assert layout_errors(data) == []
    assert_glb_valid(data)


@pytest.mark.parametrize(("breakage", "expected"), BREAKAGES, ids=[b.__name__.strip("_") for b, _ in BREAKAGES])
def test_each_layout_rule_catches_a_broken_glb(breakage: Callable[..., None], expected: str) -> None:
    gltf, binary = split_glb(_good_glb())
    mutable = bytearray(binary)
    breakage(gltf, mutable)
    errors = layout_errors(_pack(gltf, bytes(mutable)))
    assert any(expected in e for e in errors), errors


def test_null_feature_id_is_not_out_of_range() -> None:
    gltf, binary = split_glb(_good_glb())
    mutable = bytearray(binary)
    _write(mutable, gltf, _feature_view(gltf), np.array([0, 0, 0, 0, 7, 7, 7, 7], np.float32))
    _mesh_features(gltf).update(nullFeatureId=7, featureCount=1)
    assert layout_errors(_pack(gltf, bytes(mutable))) == []
    _mesh_features(gltf).pop("nullFeatureId")
    assert any("feature ID 7" in e for e in layout_errors(_pack(gltf, bytes(mutable))))


def test_property_attribute_type_must_match_the_schema() -> None:
    points = np.random.default_rng(1).random((20, 3))
    data = write_points_glb(points, properties={"intensity": np.arange(20, dtype=np.uint16)}).data
    assert layout_errors(data) == []
    gltf, binary = split_glb(data)
    schema = gltf["extensions"]["EXT_structural_metadata"]["schema"]
    schema["classes"]["point"]["properties"]["intensity"]["componentType"] = "FLOAT32"
    assert any("is UINT16, property intensity declares FLOAT32" in e for e in layout_errors(_pack(gltf, binary)))


@pytest.mark.parametrize("rows", [1, 2, 5])
def test_all_empty_text_column_keeps_a_consistent_layout(rows: int) -> None:
    builder = GlbBuilder()
    metadata = StructuralMetadata(builder)
    metadata.add_property_table("element", {"Id": list(range(rows)), "Empty": [""] * (rows - 1) + [None]})
    metadata.finish()
    data = builder.to_bytes()
    assert layout_errors(data) == []
    gltf, _ = split_glb(data)
    prop = gltf["extensions"]["EXT_structural_metadata"]["schema"]["classes"]["element"]["properties"]["Empty"]
    assert prop["noData"] == ENUM_NO_VALUE


def test_empty_text_without_enums_is_written_as_no_data() -> None:
    builder = GlbBuilder()
    schema, table = encode_column(builder, ["", "", None])
    assert schema == {"type": "STRING", "noData": ENUM_NO_VALUE}
    values = builder.gltf["bufferViews"][table["values"]]
    assert values["byteLength"] == 3 * len(ENUM_NO_VALUE.encode())


@pytest.mark.skipif(not CORPUS_UTM.is_file(), reason="shared corpus not mounted")
def test_utm_sample_converts_with_a_consistent_layout(tmp_path: Path) -> None:
    convert(CORPUS_UTM, tmp_path, ConvertOptions(jobs=1))
    assert_output_valid(tmp_path)  # Khronos validator and the layout checks on every glb
    glbs = list(tmp_path.rglob("*.glb"))
    assert glbs
    for path in glbs:
        gltf, _ = split_glb(path.read_bytes())
        table = _table(gltf)
        for name in ("ObjectType", "TypeName", "Materials"):
            assert name in table["properties"]
            assert gltf["bufferViews"][table["properties"][name]["values"]]["byteLength"] > 0
