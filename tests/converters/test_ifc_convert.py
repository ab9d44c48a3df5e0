"""IFC converter behaviour: inputs refused in one line, features and metadata, isolation, timeouts."""

from __future__ import annotations

import importlib.util
import json
import time
import zipfile
from pathlib import Path

import ifcopenshell
import numpy as np
import pytest

from converters.api import convert
from converters.errors import ConversionError, GeoreferencingError
from converters.ifc import geometry
from converters.options import ConvertOptions
from tests.support.validators import assert_output_valid
from tiles.glb import read_accessor, read_glb

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("make_ifc_samples", REPO / "sample_models" / "make_ifc_samples.py")
samples = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(samples)  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def hall(tmp_path_factory) -> Path:
    return samples.make_hall(tmp_path_factory.mktemp("hall") / "hall.ifc")


def _features(out_dir: Path) -> list[dict]:
    """All feature-table rows of all contents, decoded."""
    rows = []
    for glb in sorted(out_dir.glob("*.glb")):
        gltf, binary = read_glb(glb.read_bytes())
        meta = gltf["extensions"]["EXT_structural_metadata"]
        schema = meta["schema"]["classes"]["element"]["properties"]
        for table in meta["propertyTables"]:
            columns = {}
            for name, prop in table["properties"].items():
                view = gltf["bufferViews"][prop["values"]]
                data = binary[view["byteOffset"] : view["byteOffset"] + view["byteLength"]]
                kind = schema[name]["type"]
                if kind == "STRING":
                    off_view = gltf["bufferViews"][prop["stringOffsets"]]
                    off_type = np.uint16 if prop["stringOffsetType"] == "UINT16" else np.uint32
                    offsets = np.frombuffer(binary, off_type, table["count"] + 1, off_view["byteOffset"])
                    columns[name] = [data[offsets[i] : offsets[i + 1]].decode() for i in range(table["count"])]
                elif kind == "ENUM":
                    enum = meta["schema"]["enums"][schema[name]["enumType"]]
                    names = {v["value"]: v["name"] for v in enum["values"]}
                    codes = np.frombuffer(data, np.uint8 if enum["valueType"] == "UINT8" else np.uint16)
                    columns[name] = [names[c] for c in codes[: table["count"]]]
                elif kind == "BOOLEAN":
                    bits = np.unpackbits(np.frombuffer(data, np.uint8), bitorder="little")[: table["count"]]
                    columns[name] = [bool(b) for b in bits]
                else:
                    dtype = {"INT32": np.int32, "INT64": np.int64, "FLOAT64": np.float64}[schema[name]["componentType"]]
                    columns[name] = list(np.frombuffer(data, dtype, table["count"]))
            rows += [{k: v[i] for k, v in columns.items()} for i in range(table["count"])]
        # every vertex's feature ID points at a row of this content's table
        for primitive in gltf["meshes"][0]["primitives"]:
            ids = read_accessor(gltf, binary, primitive["attributes"]["_FEATURE_ID_0"])
            assert ids.max() < meta["propertyTables"][0]["count"]
    return rows


def test_every_element_is_a_feature_with_its_properties(hall: Path, tmp_path: Path) -> None:
    report = convert(hall, tmp_path / "out", ConvertOptions(jobs=2))
    assert_output_valid(tmp_path / "out")
    rows = {r["GlobalId"]: r for r in _features(tmp_path / "out")}
    model = ifcopenshell.open(str(hall))
    walls = model.by_type("IfcWall")
    assert {w.GlobalId for w in walls} <= set(rows)
    external = [rows[w.GlobalId] for w in walls if w.Name.startswith("External")]
    assert all(r["IsExternal"] == "true" and r["FireRating"] == "REI90" for r in external)
    assert all(r["Storey"] == "1F" and r["Building"] == "Kangbashi Demo Hall" for r in rows.values())
    assert external[0]["Materials"] == "C30 concrete" and external[0]["IfcClass"] == "IfcWall"
    windows = [r for r in rows.values() if r["IfcClass"] == "IfcWindow"]
    assert len(windows) == 4 and all(r["TypeName"] == "W1 1500x1200" for r in windows)
    assert report["elements"]["by_class"] == {"IfcColumn": 6, "IfcSlab": 1, "IfcWall": 5, "IfcWindow": 4}
    for key in ("schema", "authoring_application", "triangles", "vertices", "bytes_written", "timings", "footprint"):
        assert key in report
    assert report["schema"] == "IFC4" and report["bytes_written"] > 0
    kernels = report["kernel"]  # fast kernel first, OpenCASCADE for what it leaves out (the cut wall)
    assert kernels["fast_elements"] + kernels["reference_elements"] == report["elements"]["converted"]
    assert kernels["reference_elements"] >= 1
    assert json.loads((tmp_path / "out" / "report.json").read_text())["triangles"] == report["triangles"]


def test_feature_ids_are_stable_per_global_id(hall: Path, tmp_path: Path) -> None:
    first = convert(hall, tmp_path / "a", ConvertOptions(jobs=1))
    second = convert(hall, tmp_path / "b", ConvertOptions(jobs=2, compress=False))
    a = {r["GlobalId"]: r["elementIndex"] for r in _features(tmp_path / "a")}
    b = {r["GlobalId"]: r["elementIndex"] for r in _features(tmp_path / "b")}
    assert a == b and sorted(a.values()) == list(range(len(a)))
    assert sorted(a, key=a.get) == sorted(a)  # the index is the rank of the GlobalId
    assert first["triangles"] == second["triangles"]


def test_openings_are_cut_and_spaces_left_out(hall: Path, tmp_path: Path) -> None:
    report = convert(hall, tmp_path / "out", ConvertOptions(jobs=1))
    assert "IfcSpace" not in report["elements"]["by_class"]
    assert "IfcOpeningElement" not in report["elements"]["by_class"]
    with_spaces = convert(hall, tmp_path / "spaces", ConvertOptions(jobs=1, include_spaces=True))
    assert with_spaces["elements"]["by_class"]["IfcSpace"] == 1
    # the south wall has four openings: far more than a box's 12 triangles
    model = ifcopenshell.open(str(hall))
    wall = next(w for w in model.by_type("IfcWall") if w.Name == "External wall 1")
    shape = next(s for s in geometry.tessellate(model, 1, 30, False) if s.guid == wall.GlobalId)
    assert len(shape.triangles) > 40


def test_styles_become_materials(hall: Path, tmp_path: Path) -> None:
    convert(hall, tmp_path / "out", ConvertOptions(jobs=1))
    gltf, _ = read_glb(next((tmp_path / "out").glob("*.glb")).read_bytes())
    by_name = {m["name"]: m for m in gltf["materials"]}
    assert by_name["Glass"]["alphaMode"] == "BLEND"
    assert by_name["Glass"]["pbrMetallicRoughness"]["baseColorFactor"][3] == pytest.approx(0.4, abs=0.01)
    assert by_name["Wall plaster"]["pbrMetallicRoughness"]["baseColorFactor"][:3] == pytest.approx([0.85, 0.8, 0.7])
    assert any(name.startswith("default IfcColumn") for name in by_name)  # unstyled: class default


def test_styles_without_transparency_stay_opaque(tmp_path: Path) -> None:
    """A surface style that states no transparency reads NaN from the kernel: opaque, not invisible."""
    generator = REPO / "sample_models" / "facades" / "make_facade_ifc.py"
    spec = importlib.util.spec_from_file_location("facade_model", generator)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    model = tmp_path / "facade.ifc"
    module.make_facade_model(model)
    styles = ifcopenshell.open(str(model)).by_type("IfcSurfaceStyleShading")
    assert styles and all(getattr(style, "Transparency", None) is None for style in styles)
    convert(model, tmp_path / "out", ConvertOptions(jobs=1, allow_ungeoreferenced=True))
    for glb in (tmp_path / "out").glob("*.glb"):
        gltf, _ = read_glb(glb.read_bytes())
        for material in gltf["materials"]:
            assert material["pbrMetallicRoughness"]["baseColorFactor"][3] == 1.0, material
            assert "alphaMode" not in material, material


# ----------------------------------------------------------------- refusals


def _one_line(error: Exception) -> str:
    message = str(error)
    assert "\n" not in message and 10 < len(message) < 300
    return message


def test_ifczip_converts(hall: Path, tmp_path: Path) -> None:
    archive = tmp_path / "hall.ifczip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(hall, "hall.ifc")
    report = convert(archive, tmp_path / "out", ConvertOptions(jobs=1))
    assert report["elements"]["converted"] == 16
    assert not (tmp_path / "out" / ".work").exists()


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        ({"../evil.ifc": b"ISO-10303-21;"}, "unsafe path"),
        ({"/abs/evil.ifc": b"ISO-10303-21;"}, "unsafe path"),
        ({"a.ifc": b"ISO-10303-21;", "b.ifc": b"ISO-10303-21;"}, "exactly one .ifc"),
        ({"readme.txt": b"hello"}, "exactly one .ifc"),
        ({"bomb.ifc": b"\0" * (64 * 1024 * 1024)}, "zip bomb"),
    ],
)
def test_unsafe_or_odd_zips_are_refused(tmp_path: Path, members: dict[str, bytes], expected: str) -> None:
    archive = tmp_path / "bad.ifczip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    with pytest.raises(ConversionError) as caught:
        convert(archive, tmp_path / "out", ConvertOptions())
    assert expected in _one_line(caught.value)
    assert not any((tmp_path / "out").rglob("*.ifc"))


def test_not_a_zip_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "fake.ifczip"
    fake.write_bytes(b"not a zip")
    with pytest.raises(ConversionError, match="not a readable zip"):
        convert(fake, tmp_path / "out", ConvertOptions())


HEADER = "ISO-10303-21;\nHEADER;\nFILE_DESCRIPTION((''),'2;1');\nFILE_NAME('x.ifc','',(''),(''),'','','');\n"


@pytest.mark.parametrize("schema", ["IFC2X_FINAL", "IFC4X3_RC1", "IFC5"])
def test_unreadable_schema_is_refused_in_one_line(tmp_path: Path, schema: str) -> None:
    path = tmp_path / "old.ifc"
    path.write_text(HEADER + f"FILE_SCHEMA(('{schema}'));\nENDSEC;\nDATA;\nENDSEC;\nEND-ISO-10303-21;\n")
    with pytest.raises(ConversionError) as caught:
        convert(path, tmp_path / "out", ConvertOptions())
    message = _one_line(caught.value)
    assert schema in message and "not supported" in message


def test_empty_model_and_garbage_are_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.ifc"
    empty.write_text(HEADER + "FILE_SCHEMA(('IFC4'));\nENDSEC;\nDATA;\nENDSEC;\nEND-ISO-10303-21;\n")
    with pytest.raises(ConversionError) as caught:
        convert(empty, tmp_path / "out", ConvertOptions())
    assert "no products" in _one_line(caught.value)
    garbage = tmp_path / "garbage.ifc"
    garbage.write_bytes(b"\x89PNG not an ifc")
    with pytest.raises(ConversionError) as caught:
        convert(garbage, tmp_path / "out2", ConvertOptions())
    assert "not an IFC" in _one_line(caught.value)


def test_model_without_geometry_is_refused(tmp_path: Path) -> None:
    model = ifcopenshell.file(schema="IFC4")
    model.createIfcProject(ifcopenshell.guid.new(), None, "P")
    model.createIfcWall(ifcopenshell.guid.new(), None, "no shape")
    path = tmp_path / "nogeom.ifc"
    model.write(str(path))
    with pytest.raises(ConversionError) as caught:
        convert(path, tmp_path / "out", ConvertOptions(allow_ungeoreferenced=True))
    assert "no elements with geometry" in _one_line(caught.value)


def test_ungeoreferenced_is_refused_with_instructions(tmp_path: Path) -> None:
    path = Path("/work/shared/corpus/ifc/IfcOpenHouse_IFC4.ifc")
    if not path.exists():
        pytest.skip("corpus not mounted")
    with pytest.raises(GeoreferencingError) as caught:
        convert(path, tmp_path / "out", ConvertOptions())
    message = _one_line(caught.value)
    assert "--crs" in message and "--allow-ungeoreferenced" in message
    report = convert(path, tmp_path / "ok", ConvertOptions(allow_ungeoreferenced=True))
    assert report["georeferencing"]["source"] == "default-location"
    assert report["georeferencing"]["confidence"] == "none"


# ----------------------------------------------------------------- isolation and timeouts


def test_broken_element_is_skipped_and_listed(hall: Path, tmp_path: Path) -> None:
    model = ifcopenshell.open(str(hall))
    body = next(c for c in model.by_type("IfcGeometricRepresentationSubContext") if c.ContextIdentifier == "Body")
    points = [model.createIfcCartesianPoint(p) for p in ((0.0, 0.0), (0.0, 0.0), (0.0, 0.0))]
    profile = model.createIfcArbitraryClosedProfileDef("AREA", None, model.createIfcPolyline(points))
    solid = model.createIfcExtrudedAreaSolid(profile, None, model.createIfcDirection((0.0, 0.0, 1.0)), 0.0)
    rep = model.createIfcShapeRepresentation(body, "Body", "SweptSolid", [solid])
    storey = model.by_type("IfcBuildingStorey")[0]
    broken = model.createIfcWall(
        ifcopenshell.guid.new(),
        None,
        "Broken wall",
        None,
        None,
        storey.ObjectPlacement,
        model.createIfcProductDefinitionShape(None, None, [rep]),
    )
    model.createIfcRelContainedInSpatialStructure(ifcopenshell.guid.new(), None, None, None, [broken], storey)
    path = tmp_path / "broken.ifc"
    model.write(str(path))
    report = convert(path, tmp_path / "out", ConvertOptions(jobs=2))
    skipped = report["elements"]["skipped"]
    assert [s["GlobalId"] for s in skipped] == [broken.GlobalId]
    assert skipped[0]["class"] == "IfcWall" and skipped[0]["reason"]
    assert report["elements"]["converted"] == 16
    assert_output_valid(tmp_path / "out")


def test_slow_element_times_out_without_hanging_the_job(hall: Path, tmp_path: Path, monkeypatch) -> None:
    model = ifcopenshell.open(str(hall))
    slow = next(w for w in model.by_type("IfcWall") if w.Name == "Internal wall")
    real_create_shape = geometry.ifcopenshell.geom.create_shape

    def hang_all(*args, **kwargs):  # the multi-threaded iterator gets stuck
        time.sleep(3600)

    def create_shape(settings, element, **kwargs):
        if element.GlobalId == slow.GlobalId:
            time.sleep(3600)
        return real_create_shape(settings, element, **kwargs)

    monkeypatch.setattr(geometry, "_iterate_all", hang_all)
    monkeypatch.setattr(geometry, "INIT_ALLOWANCE_S", 0.0)
    monkeypatch.setattr(geometry, "INIT_ALLOWANCE_PER_ELEMENT_S", 0.0)
    monkeypatch.setattr(geometry.ifcopenshell.geom, "create_shape", create_shape)
    started = time.perf_counter()
    report = convert(hall, tmp_path / "out", ConvertOptions(jobs=1, element_timeout_s=2.0))
    assert time.perf_counter() - started < 60
    skipped = report["elements"]["skipped"]
    assert [(s["GlobalId"], s["reason"].split(":")[0]) for s in skipped] == [(slow.GlobalId, "timeout")]
    assert report["elements"]["converted"] == 15
    assert_output_valid(tmp_path / "out")


def test_cancelling_from_the_progress_callback_stops_the_worker(tmp_path: Path) -> None:
    import multiprocessing

    from converters.errors import ConversionCancelled

    calls: list[str] = []

    def cancel(fraction: float, message: str) -> None:
        calls.append(message)
        if message.startswith("tessellated"):
            raise ConversionCancelled()

    big = samples.make_large_model(tmp_path / "big.ifc", 600)
    with pytest.raises(ConversionCancelled):
        convert(big, tmp_path / "out", ConvertOptions(jobs=1, progress=cancel))
    assert calls[-1].startswith("tessellated 200/")
    time.sleep(0.5)
    assert not multiprocessing.active_children()  # the tessellation child was killed


def test_tessellation_child_dies_with_the_converting_process(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    big = samples.make_large_model(tmp_path / "big.ifc", 3000)
    code = (
        "import sys; from pathlib import Path; from converters.api import convert; "
        "from converters.options import ConvertOptions; "
        f"convert(Path({str(big)!r}), Path({str(tmp_path / 'out')!r}), ConvertOptions(jobs=1))"
    )
    process = subprocess.Popen([sys.executable, "-c", code], cwd=REPO)
    children: list[str] = []
    for _ in range(300):
        time.sleep(0.1)
        children = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout.split()
        if children or process.poll() is not None:
            break
    assert children, "no tessellation child seen"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    time.sleep(1.0)
    states = [Path(f"/proc/{c}/stat").read_text().split()[2] for c in children if Path(f"/proc/{c}").exists()]
    assert all(state in ("Z", "X") for state in states), states  # dead (maybe not yet reaped)
