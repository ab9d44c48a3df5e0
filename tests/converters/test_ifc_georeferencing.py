"""The IFC converter puts known vertices where a direct pyproj transform of their map coordinates does.

The project's own sample (IFC4, millimetres, IfcMapConversion to EPSG:4546 + Yellow Sea 1985 heights,
30° rotation) in three Scale/unit conventions found in real files, and as explicit options.
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest
import shapely.geometry
from pyproj import Transformer

from converters.api import convert
from converters.georef import geoid_undulation, gltf_to_enu
from converters.options import ConvertOptions
from tests.support.glb_reading import node_instances
from tests.support.validators import assert_output_valid
from tiles.glb import read_accessor, read_glb

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("make_ifc_samples", REPO / "sample_models" / "make_ifc_samples.py")
samples = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(samples)  # type: ignore[union-attr]


def _expected_ecef(engineering_mm: np.ndarray) -> np.ndarray:
    """Direct: IfcMapConversion maths → EPSG:4546 → pyproj lon/lat, EGM96 height → EPSG:4978."""
    e0, n0, h0 = samples.MAP_ORIGIN
    a = math.radians(samples.ROTATION_DEG)
    x, y, z = (engineering_mm / 1000.0).T
    e = e0 + x * math.cos(a) - y * math.sin(a)
    n = n0 + x * math.sin(a) + y * math.cos(a)
    lon, lat = Transformer.from_crs("EPSG:4546", "EPSG:4326", always_xy=True).transform(e, n)
    h = h0 + z + geoid_undulation(lon, lat)
    return np.stack(Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True).transform(lon, lat, h), axis=-1)


def _decoded_ecef(out_dir: Path) -> tuple[np.ndarray, dict]:
    """Every vertex of every content, decoded as a runtime would: instance → node → y-up→z-up → root."""
    tileset = json.loads((out_dir / "tileset.json").read_text())
    root = np.array(tileset["root"]["transform"]).reshape(4, 4, order="F")
    points = []
    for glb in sorted(out_dir.glob("*.glb")):
        gltf, binary = read_glb(glb.read_bytes())
        for node in gltf["nodes"]:
            matrix = np.array(node["matrix"]).reshape(4, 4, order="F") if "matrix" in node else np.eye(4)
            if "translation" in node:
                matrix[:3, 3] = node["translation"]
            for primitive in gltf["meshes"][node["mesh"]]["primitives"]:
                index = primitive["attributes"]["POSITION"]
                values = read_accessor(gltf, binary, index).astype(np.float64)
                if gltf["accessors"][index].get("normalized"):
                    values = np.maximum(values / 32767.0, -1.0)
                for instance in node_instances(gltf, binary, node):
                    yup = (np.c_[values, np.ones(len(values))] @ (matrix @ instance).T)[:, :3]
                    points.append(gltf_to_enu(yup))
    enu = np.concatenate(points)
    return (np.c_[enu, np.ones(len(enu))] @ root.T)[:, :3], tileset


def _window_corners() -> np.ndarray:
    corners = []
    for x in (3_000.0, 7_000.0, 12_000.0, 16_000.0):
        for dx in (0.0, 1500.0):
            for dy in (0.0, 50.0):
                for dz in (0.0, 1200.0):
                    corners.append((x + dx, 125.0 + dy, 1000.0 + dz))
    return np.array(corners)


def _column_corners() -> np.ndarray:
    corners = []
    for x, y in samples.COLUMN_POSITIONS_MM:
        for dx in (0.0, 400.0):
            for dy in (0.0, 400.0):
                for z in (0.0, 4000.0):
                    corners.append((x + 300 + dx, y + 300 + dy, z))
    return np.array(corners)


def _nearest_distances(expected: np.ndarray, actual: np.ndarray) -> np.ndarray:
    return np.array([np.min(np.linalg.norm(actual - p, axis=1)) for p in expected])


@pytest.fixture(scope="module")
def hall_outputs(tmp_path_factory) -> dict[str, tuple[Path, dict]]:
    results = {}
    for variant in ("ifc43", "scale1000", "mapunit_mm"):
        base = tmp_path_factory.mktemp(variant)
        ifc = samples.make_hall(base / "hall.ifc", variant=variant)
        out = base / "out"
        results[variant] = (out, convert(ifc, out, ConvertOptions(jobs=2)))
    return results


@pytest.mark.parametrize("variant", ["ifc43", "scale1000", "mapunit_mm"])
def test_known_vertices_land_within_1cm(hall_outputs, variant: str) -> None:
    out, report = hall_outputs[variant]
    assert_output_valid(out)
    ecef, tileset = _decoded_ecef(out)
    distances = _nearest_distances(_expected_ecef(_column_corners()), ecef)
    assert distances.max() < 0.01, distances.max()
    # the four windows share one mapped type geometry: written once, instanced
    assert report["instancing"]["instances"] == 4
    distances = _nearest_distances(_expected_ecef(_window_corners()), ecef)
    assert distances.max() < 0.01, distances.max()
    geo = report["georeferencing"]
    assert geo["source"] == "IfcMapConversion" and geo["confidence"] == "high"
    assert geo["crs"] == "EPSG:4546+5737"
    assert abs(geo["grid_scale"] - 1.0) < 1e-12
    assert "EGM96" in geo["heights"]["caveat"]
    metadata = tileset["metadata"]["properties"]
    assert metadata["georeferencingSource"] == "IfcMapConversion"
    assert metadata["georeferencingConfidence"] == "high"


def test_scale_readings_are_reported(hall_outputs) -> None:
    readings = {v: r["georeferencing"]["scale_reading"] for v, (_, r) in hall_outputs.items()}
    assert "IFC4.3 definition" in readings["ifc43"]
    assert "inverse" in readings["scale1000"]
    assert readings["mapunit_mm"] == "Scale as grid scale"


def test_explicit_options_take_precedence(tmp_path: Path) -> None:
    ifc = samples.make_hall(tmp_path / "hall.ifc")
    e, n, h = samples.MAP_ORIGIN
    options = ConvertOptions(crs="EPSG:4546+5737", origin=(e, n, h), rotation_deg=samples.ROTATION_DEG, jobs=1)
    report = convert(ifc, tmp_path / "out", options)
    assert report["georeferencing"]["source"] == "explicit"
    ecef, _ = _decoded_ecef(tmp_path / "out")
    assert _nearest_distances(_expected_ecef(_column_corners()), ecef).max() < 0.01


def test_origin_and_footprint_in_report(hall_outputs) -> None:
    _, report = hall_outputs["ifc43"]
    origin = report["georeferencing"]["origin"]
    assert 109.6 < origin["wgs84"]["lon"] < 109.8 and 39.5 < origin["wgs84"]["lat"] < 39.7
    assert abs(origin["wgs84"]["height_ellipsoidal_m"] - 1300.0 + 29.0) < 3.0  # EGM96 undulation ≈ −29 m
    ecef = np.array([origin["ecef"][k] for k in "xyz"])
    assert 6.36e6 < np.linalg.norm(ecef) < 6.38e6
    footprint = report["footprint"]
    assert footprint["crs"] == "EPSG:4326"
    assert footprint["geometry"]["type"] in ("Polygon", "MultiPolygon")  # corner columns stand outside
    assert 235 < footprint["area_m2"] < 260  # the 20 m × 12 m hall plus the outer columns
    shape = shapely.geometry.shape(footprint["geometry"])
    ring = np.array(shape.convex_hull.exterior.coords)
    assert np.all((ring[:, 0] > 109.6) & (ring[:, 0] < 109.8))


def test_geometry_far_from_the_reference_point_moves_the_frame(tmp_path: Path) -> None:
    import ifcopenshell

    ifc = samples.make_hall(tmp_path / "hall.ifc")
    model = ifcopenshell.open(str(ifc))
    shift = np.array([3_000_000.0, -2_000_000.0, 0.0])  # 3.6 km from the IfcMapConversion point, in mm
    model.by_type("IfcSite")[0].ObjectPlacement.RelativePlacement.Location.Coordinates = tuple(shift)
    model.write(str(tmp_path / "far.ifc"))
    report = convert(tmp_path / "far.ifc", tmp_path / "out", ConvertOptions(jobs=2))
    assert "frame_note" in report["georeferencing"]
    assert_output_valid(tmp_path / "out")
    ecef, _ = _decoded_ecef(tmp_path / "out")
    assert _nearest_distances(_expected_ecef(_column_corners() + shift), ecef).max() < 0.01


def test_ifc2x3_property_set_georeferencing(tmp_path: Path, monkeypatch) -> None:
    """IFC2X3 has no IfcMapConversion: ePSet_MapConversion / ePSet_ProjectedCRS on IfcProject."""
    import ifcopenshell.api.aggregate
    import ifcopenshell.api.context
    import ifcopenshell.api.geometry
    import ifcopenshell.api.georeference
    import ifcopenshell.api.owner.settings
    import ifcopenshell.api.project
    import ifcopenshell.api.pset
    import ifcopenshell.api.root
    import ifcopenshell.api.spatial
    import ifcopenshell.api.unit
    import ifcopenshell.util.element

    f = ifcopenshell.api.project.create_file(version="IFC2X3")
    organization = f.createIfcOrganization(None, "CIM platform tests")
    user = f.createIfcPersonAndOrganization(f.createIfcPerson(), organization)
    application = f.createIfcApplication(organization, "1", "cim tests", "cim")
    monkeypatch.setattr(ifcopenshell.api.owner.settings, "get_user", lambda _f: user)  # IFC2X3 needs owners
    monkeypatch.setattr(ifcopenshell.api.owner.settings, "get_application", lambda _f: application)
    project = ifcopenshell.api.root.create_entity(f, ifc_class="IfcProject", name="2x3")
    ifcopenshell.api.unit.assign_unit(f, units=[ifcopenshell.api.unit.add_si_unit(f, unit_type="LENGTHUNIT")])
    body = ifcopenshell.api.context.add_context(
        f,
        context_type="Model",
        context_identifier="Body",
        target_view="MODEL_VIEW",
        parent=ifcopenshell.api.context.add_context(f, context_type="Model"),
    )
    storey = ifcopenshell.api.root.create_entity(f, ifc_class="IfcBuildingStorey", name="1F")
    ifcopenshell.api.aggregate.assign_object(f, products=[storey], relating_object=project)
    ifcopenshell.api.geometry.edit_object_placement(f, product=storey)
    column = ifcopenshell.api.root.create_entity(f, ifc_class="IfcColumn", name="C")
    rep = ifcopenshell.api.geometry.add_wall_representation(f, context=body, length=0.4, height=4.0, thickness=0.4)
    ifcopenshell.api.geometry.assign_representation(f, product=column, representation=rep)
    placement = np.eye(4)
    placement[:3, 3] = [250.0, -120.0, 0.0]  # metres: a vertex 280 m from the map origin
    ifcopenshell.api.geometry.edit_object_placement(f, product=column, matrix=placement)
    ifcopenshell.api.spatial.assign_container(f, products=[column], relating_structure=storey)
    ifcopenshell.api.georeference.add_georeferencing(f, name="EPSG:4546")
    e0, n0, h0 = samples.MAP_ORIGIN
    a = math.radians(samples.ROTATION_DEG)
    conversion = ifcopenshell.util.element.get_psets(project)["ePSet_MapConversion"]["id"]
    ifcopenshell.api.pset.edit_pset(
        f,
        pset=f.by_id(conversion),
        properties={
            "Eastings": e0,
            "Northings": n0,
            "OrthogonalHeight": h0,
            "XAxisAbscissa": math.cos(a),
            "XAxisOrdinate": math.sin(a),
            "Scale": 1.0,
        },
    )
    path = tmp_path / "georef_2x3.ifc"
    f.write(str(path))
    report = convert(path, tmp_path / "out", ConvertOptions(jobs=1))
    assert report["schema"] == "IFC2X3"
    assert report["georeferencing"]["source"] == "ePSet_MapConversion"
    assert report["georeferencing"]["confidence"] == "medium"
    assert_output_valid(tmp_path / "out")
    ecef, _ = _decoded_ecef(tmp_path / "out")
    corners = np.array(
        [(250_000.0 + dx, -120_000.0 + dy, dz) for dx in (0, 400) for dy in (0, 400) for dz in (0, 4000)]
    )
    assert _nearest_distances(_expected_ecef(corners), ecef).max() < 0.01
