"""Pipeline survey tables → 3D Tiles: centrelines by depth convention (hand computed), closed mitred solids, every
kind of bad row, the four input formats, per-upload column names, valid tilesets with one feature per record."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import trimesh

from converters.api import convert, detect_kind
from converters.errors import ConversionError
from converters.options import ConvertOptions
from converters.pipelines import read_network
from converters.pipelines.convert import _constant, _joined, _relabelled, build_features
from converters.pipelines.geometry import prisms
from converters.pipelines.glb_writer import solids_of
from converters.pointcloud.placement import place_in_crs
from tests.support.glb_reading import SAMPLES, expected_ecef, glb_positions, iter_contents, nearest_distances
from tests.support.pipelines import CRS, E0, N0, generator, line, point, write_zip
from tests.support.structural_metadata import layout_errors
from tests.support.validators import assert_output_valid
from tiles.glb import read_glb
from tiles.metadata import TextColumn

OPTIONS = ConvertOptions(crs=CRS)


def _known_network(path: Path) -> Path:
    points = [
        point("Y1", "雨水", 0, 10, 1300.0, feature="检查井", size=1000), point("Y2", "雨水", 50, 10, 1300.5,
                                                                           feature="检查井", size=1000),
        point("J1", "给水", 0, 20, 1300.0), point("J2", "给水", 40, 20, 1300.4, feature="拐点"),
        point("J3", "给水", 40, 50, 1300.2),
        point("D1", "电力", 0, 30, 1300.0), point("D2", "电力", 50, 30, 1300.0),
        point("R1", "燃气", 0, 40, 1300.0), point("R2", "燃气", 30, 40, 1300.0),
        point("W1", "污水", 0, -10, 1300.0), point("W2", "污水", 50, -10, 1300.0),
    ]
    lines = [
        line("Y1", "Y2", "雨水", 2.0, 2.2, 600),
        line("J1", "J2", "给水", 1.5, 1.5, 300), line("J2", "J3", "给水", 1.5, 1.5, 300),
        line("D1", "D2", "电力", 0.8, 0.8, section="800×600"),
        line("R1", "R2", "燃气", diameter=200, 起点高程=1298.8, 终点高程=1298.7),
        line("W1", "W2", "污水", diameter=400, 起点高程=1297.0, 终点高程=1296.8),
    ]
    return write_zip(path, points, lines)


# centreline elevations at (start, end), by hand: drainage to the inner bottom (+ h/2), others to the outer top
HAND = {
    "Y1-Y2": (1300.0 - 2.0 + 0.3, 1300.5 - 2.2 + 0.3),  # storm DN600, depths
    "J1-J2": (1300.0 - 1.5 - 0.15, 1300.4 - 1.5 - 0.15),  # water DN300, depths to the top
    "J2-J3": (1300.4 - 1.5 - 0.15, 1300.2 - 1.5 - 0.15),
    "D1-D2": (1300.0 - 0.8 - 0.3, 1300.0 - 0.8 - 0.3),  # power duct bank 800 wide × 600 high
    "R1-R2": (1298.8 - 0.1, 1298.7 - 0.1),  # gas DN200, given top elevations
    "W1-W2": (1297.0 + 0.2, 1296.8 + 0.2),  # sewage DN400, given inner-bottom elevations
}


def test_centreline_elevations_follow_each_depth_convention(tmp_path: Path) -> None:
    network = read_network(_known_network(tmp_path / "known.zip"), OPTIONS)
    assert network.errors == [] and network.swapped_xy
    found = {s.id: (s.z_start, s.z_end) for s in network.segments}
    assert set(found) == set(HAND)
    for ident, expected in HAND.items():
        assert found[ident] == pytest.approx(expected, abs=1e-9), ident
    box = next(s for s in network.segments if s.id == "D1-D2")
    assert (box.round, box.width_mm, box.height_mm) == (False, 800.0, 600.0)

    # the far level of detail (lines.glb) carries the centrelines: compare in ECEF with an independent chain
    out = tmp_path / "out"
    convert(tmp_path / "known.zip", out, OPTIONS)
    paths = dict((p.name, world) for p, world in iter_contents(out))
    local = glb_positions((out / "lines.glb").read_bytes())
    world = paths["lines.glb"]
    ecef = local @ world[:3, :3].T + world[:3, 3]
    by_id = {p.id: p for p in network.points}
    expected = np.array([[by_id[s.start].x, by_id[s.start].y, HAND[s.id][0]] for s in network.segments]
                        + [[by_id[s.end].x, by_id[s.end].y, HAND[s.id][1]] for s in network.segments])
    assert expected[0, 0] == pytest.approx(E0, abs=100)  # X (northing) and Y (easting) were swapped back
    assert nearest_distances(ecef, expected_ecef(CRS, expected)).max() < 0.01


def test_solids_are_closed_and_bends_are_mitred(tmp_path: Path) -> None:
    for round_ in (True, False):
        start, end = np.array([[0.0, 0.0, 0.0]]), np.array([[10.0, 0.0, -0.5]])
        solid = prisms(start, end, np.array([0.3]), np.array([0.2]), 12, round_,
                       np.array([[1.0, 0.3, 0.0]]), np.array([[1.0, -0.5, 0.0]]))
        mesh = trimesh.Trimesh(solid.positions, solid.triangles, process=True)
        assert mesh.is_watertight and mesh.is_winding_consistent and mesh.volume > 0
        section = 12 * 0.5 * 0.3**2 * np.sin(2 * np.pi / 12) if round_ else 0.6 * 0.4
        assert mesh.volume == pytest.approx(section * np.linalg.norm(end - start), rel=1e-6)  # mitres keep volume

    network = read_network(_known_network(tmp_path / "known.zip"), OPTIONS)
    xyz = np.array([[p.x, p.y, p.ground or 0.0] for p in network.points])
    placement = place_in_crs(network.crs, xyz.min(axis=0), xyz.max(axis=0))
    features, _ = build_features(network, placement)
    ids = features.columns["id"].to_list()
    solids = solids_of(features, np.arange(len(features)))
    for row in range(len(features)):
        mask = solids.owner == row
        first = np.flatnonzero(mask)[0]
        triangles = solids.triangles[np.isin(solids.triangles[:, 0], np.flatnonzero(mask))] - first
        mesh = trimesh.Trimesh(solids.positions[mask], triangles, process=True)
        assert mesh.is_watertight and mesh.volume > 0, ids[row]
    assert features.columns["kind"].to_list().count("point") == 3  # two manhole shafts and the bend fitting
    # the bend J2: the end cap of J1-J2 and the start cap of J2-J3 are the same ring on the bisecting plane
    a, b = ids.index("J1-J2"), ids.index("J2-J3")
    vertices_a, vertices_b = solids.positions[solids.owner == a], solids.positions[solids.owner == b]
    k = (len(vertices_a) - 2) // 4  # sides: 2k side vertices, then two caps of a centre and k ring vertices
    end_ring_a, start_ring_b = vertices_a[-k:], vertices_b[2 * k + 1: 3 * k + 1]
    distances = np.linalg.norm(end_ring_a[:, None, :] - start_ring_b[None, :, :], axis=2).min(axis=1)
    assert distances.max() < 0.002  # sloped pipes: their cross-section frames differ by a small tilt
    normal = features.start_normal[b] / np.linalg.norm(features.start_normal[b])
    assert np.abs((start_ring_b - features.start[b]) @ normal).max() < 1e-6
    assert abs(normal @ np.array([1.0, 0, 0])) > 0.5 and abs(normal @ np.array([0, 1.0, 0])) > 0.5


def test_every_kind_of_bad_row_is_listed_and_strict_mode_refuses(tmp_path: Path) -> None:
    points = [
        point("A1", "给水", 0, 0), point("A2", "给水", 30, 0), point("A3", "给水", 60, 0),
        point("", "给水", 10, 10),  # row 5: no id
        point("A1", "给水", 5, 5),  # row 6: duplicate point id
        {**point("A4", "给水", 0, 0), "X": "abc"},  # row 7: not a number
        {**point("A5", "给水", 0, 0), "X": "", "Y": ""},  # row 8: no coordinates
        point("A6", "给水", 20, 20, depth=45),  # row 9: deeper than plausible
        point("A7", "给水", 25, 20, depth=-1),  # row 10: negative depth
    ]

    def seg(ident: str, start: str, end: str, **fields: object) -> dict[str, object]:
        return {"管段编号": ident, **line(start, end, "给水", 1.2, 1.2, 300), **fields}

    lines = [
        seg("L1", "A1", "A2"),  # row 2: fine
        seg("L2", "A2", "A9"),  # missing end point
        seg("L3", "A2", "A6"),  # end point whose row was refused
        seg("L4", "A2", "A3", 管径=-100),  # negative diameter
        seg("L5", "A1", "A3", 起点埋深=40),  # implausible depth
        seg("L1", "A2", "A3"),  # duplicate segment id
        seg("L7", "A3", "A3"),  # zero length
        seg("L8", "A2", "A3", 管径=None),  # no size
        seg("L9", "A1", "A3", 起点埋深=None),  # no depth at the start (and the point has none)
        seg("L10", "A2", "A3", 起点埋深=None, 起点高程=1301.0),  # pipe above the ground
        seg("L11", "A2", "A3", 类别="蒸汽管"),  # unknown category: its points' category, with a warning
    ]
    path = write_zip(tmp_path / "bad.zip", points, lines, encoding="gb18030")
    network = read_network(path, OPTIONS)
    listed = {(p.table, p.row, p.code, p.severity) for p in network.problems}
    assert listed == {
        ("points.csv", 5, "missing_id", "error"), ("points.csv", 6, "duplicate_id", "error"),
        ("points.csv", 7, "not_a_number", "error"), ("points.csv", 8, "missing_coordinates", "error"),
        ("points.csv", 9, "implausible_depth", "error"), ("points.csv", 10, "implausible_depth", "error"),
        ("lines.csv", 3, "missing_end_point", "error"), ("lines.csv", 4, "missing_end_point", "error"),
        ("lines.csv", 5, "negative_diameter", "error"), ("lines.csv", 6, "implausible_depth", "error"),
        ("lines.csv", 7, "duplicate_id", "error"), ("lines.csv", 8, "zero_length", "error"),
        ("lines.csv", 9, "missing_size", "error"), ("lines.csv", 10, "missing_depth", "error"),
        ("lines.csv", 11, "above_ground", "error"), ("lines.csv", 12, "unknown_category", "warning"),
    }
    reasons = {p.row: p.reason for p in network.problems if p.table == "lines.csv"}
    assert "A9" in reasons[3] and "refused" in reasons[4] and "-100" in reasons[5]
    assert [s.id for s in network.segments] == ["L1", "L11"]
    assert network.segments[1].category == "water_supply" and "taken as water_supply" in reasons[12]

    report = convert(path, tmp_path / "out", OPTIONS)
    assert report["counts"]["refused_rows"] == 15 and report["counts"]["segments"] == 2
    assert {p["code"] for p in report["problems"]} >= {"negative_diameter", "missing_end_point", "duplicate_id"}
    with pytest.raises(ConversionError, match="15 rows refused"):
        convert(path, tmp_path / "strict", ConvertOptions(crs=CRS, strict=True))


def test_formats_and_detection_give_the_same_network(tmp_path: Path) -> None:
    gen = generator()
    points, lines = gen.demo_network()
    files = [
        gen.write_xlsx(tmp_path / "demo.xlsx", points, lines),
        gen.write_csv_zip(tmp_path / "demo_gb18030.zip", points, lines, encoding="gb18030"),
        gen.write_shapefile_zip(tmp_path / "demo_shp.zip", points, lines),
    ]
    gen.write_layers(tmp_path / "demo.gpkg", points, lines, "GPKG")
    files.append(tmp_path / "demo.gpkg")
    counts = set()
    for file in files:
        assert detect_kind(file) == "pipelines", file.name
        network = read_network(file, OPTIONS if file.suffix != ".gpkg" else ConvertOptions())
        assert network.errors == [], (file.name, network.errors[:2])
        counts.add((len(network.points), len(network.segments), round(sum(s.z_start for s in network.segments), 6)))
    assert len(counts) == 1 and next(iter(counts))[:2] == (len(points), len(lines))
    assert detect_kind(SAMPLES / "ordos_footprints.gpkg") == "footprints"


def test_column_names_given_with_the_upload(tmp_path: Path) -> None:
    points = [{"PID": "P1", "KIND": "gas", "E": E0, "N": N0, "GL": 1300.0},
              {"PID": "P2", "KIND": "gas", "E": E0 + 20, "N": N0, "GL": 1300.0}]
    lines = [{"FROM_PT": "P1", "TO_PT": "P2", "DN": 160, "H0": 1.0, "H1": 1.1, "KIND": "gas"}]
    path = write_zip(tmp_path / "custom.zip", points, lines)
    with pytest.raises(ConversionError, match="no point table"):
        read_network(path, OPTIONS)
    mapping = {"point_id": "PID", "category": "KIND", "easting": "E", "northing": "N", "ground_elevation": "GL",
               "start_id": "FROM_PT", "end_id": "TO_PT", "diameter": "DN", "start_depth": "H0", "end_depth": "H1"}
    network = read_network(path, ConvertOptions(crs=CRS, column_map=mapping))
    assert [(s.category, s.z_start, s.z_end) for s in network.segments] == [
        ("gas", pytest.approx(1300.0 - 1.0 - 0.08), pytest.approx(1300.0 - 1.1 - 0.08))]
    assert not network.swapped_xy


def test_demo_tileset_is_valid_with_one_feature_per_record(tmp_path: Path) -> None:
    gen = generator()
    points, lines = gen.demo_network()
    source = gen.write_xlsx(tmp_path / "demo.xlsx", points, lines)
    report = convert(source, tmp_path / "out", OPTIONS)
    tileset = assert_output_valid(tmp_path / "out")
    assert tileset["root"]["refine"] == "REPLACE" and tileset["root"]["content"]["uri"] == "lines.glb"
    assert tileset["root"]["children"][0]["refine"] == "ADD"
    solid_ids: list[str] = []
    for path, _ in iter_contents(tmp_path / "out"):
        data = path.read_bytes()
        assert layout_errors(data) == []
        gltf, _ = read_glb(data)
        metadata = gltf["extensions"]["EXT_structural_metadata"]
        properties = metadata["schema"]["classes"]["pipeline"]["properties"]
        assert {"id", "kind", "category", "diameter_mm", "material", "owner", "start_centre_elevation_m"} <= set(
            properties)
        if path.name != "lines.glb":
            solid_ids.append(str(metadata["propertyTables"][0]["count"]))
    assert sum(int(c) for c in solid_ids) == report["counts"]["features"]
    assert report["counts"]["segments"] == len(lines) and report["counts"]["refused_rows"] == 0
    footprint = report["footprint_wgs84"]
    assert footprint["type"] in ("Polygon", "MultiPolygon")
    lon, lat = np.array(footprint["coordinates"][0] if footprint["type"] == "Polygon"
                        else footprint["coordinates"][0][0]).mean(axis=0)
    assert 109.78 < lon < 109.79 and 39.60 < lat < 39.61
    assert json.loads((tmp_path / "out" / "report.json").read_text())["kind"] == "pipelines"


@pytest.mark.parametrize(("first", "second"), [
    (["a", "b", None, "a"], [None, "c", "b", "d"]),
    ([], ["x", None]),
    (["x", None], []),
    ([None, None], ["y", None]),
])
def test_text_columns_joined_from_codes_equal_the_columns_of_their_rows(first: list[str | None],
                                                                        second: list[str | None]) -> None:
    expected = TextColumn.of([*first, *second])
    joined = _joined(TextColumn.of(first), TextColumn.of(second))
    assert joined.labels == expected.labels
    assert joined.codes.tolist() == expected.codes.tolist()
    assert joined.utf8()[0] == expected.utf8()[0]
    for value, count in (("segment", 3), (None, 2), ("point", 0)):
        constant = _constant(value, count)
        assert (constant.labels, constant.codes.tolist()) == (TextColumn.of([value] * count).labels, [0] * count)


def test_relabelled_text_column_keeps_rows_when_names_collide() -> None:
    column = TextColumn.of(["gas", "water", "gas", "power"])
    distinct = _relabelled(column, {"gas": "燃气", "water": "给水", "power": "电力"})
    assert distinct.to_list() == ["燃气", "给水", "燃气", "电力"]
    assert distinct.labels == TextColumn.of(distinct.to_list()).labels
    merged = _relabelled(column, {"gas": "energy", "water": "water", "power": "energy"})
    assert merged.to_list() == ["energy", "water", "energy", "energy"]
    assert merged.labels == ["energy", "water"]
