"""Coverage over HTTP: the role matrix on every route, loading built-up areas (GeoJSON and GeoPackage),
figures with their definition, CSV, the map, the SVG chart, targets and levels editable by officials."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import struct
from pathlib import Path

import pytest
import shapely
from shapely.geometry import box, mapping

from tests.support.coverage import DONGSHENG, KANGBASHI, add_dataset, geodesic_area

READERS = ("admin", "official", "uploader_a", "surveyor", "viewer")
EDITORS = ("admin", "official")
BUILT = box(109.90, 39.78, 109.98, 39.84)


def _geojson(unit: str, geometry=BUILT, year: int = 2025) -> bytes:
    feature = {"type": "Feature", "properties": {"unit": unit, "year": year}, "geometry": mapping(geometry)}
    return json.dumps({"type": "FeatureCollection", "features": [feature]}).encode()


def _load(client, headers, content: bytes, name: str = "built.geojson", **fields: str):
    return client.post(
        "/api/v1/coverage/built-up",
        headers=headers,
        data={"source": "land_survey", **fields},
        files={"file": (name, content)},
    )


def test_role_matrix(client, cast) -> None:
    """Reading: the city figure, units, levels and targets anonymously; per unit, CSV, map, snapshots
    and built-up areas signed in; every change: officials and admins only."""
    public = [
        "/api/v1/coverage",
        "/api/v1/coverage/history",
        "/api/v1/coverage/history.svg",
        "/api/v1/coverage/units",
        "/api/v1/coverage/levels",
        "/api/v1/coverage/targets",
    ]
    signed = [
        "/api/v1/coverage/history?unit=dongsheng",
        "/api/v1/coverage/history.svg?unit=150602",
        "/api/v1/coverage/export.csv",
        "/api/v1/coverage/map",
        "/api/v1/coverage/snapshots",
        "/api/v1/coverage/built-up",
    ]
    for url in public:
        assert client.get(url).status_code == 200, url
    anonymous = client.get("/api/v1/coverage").json()
    assert anonymous["units"] == [] and anonymous["city"]["unit"] == "city"
    for url in signed:
        assert client.get(url).status_code == 401, url
        for actor in READERS:
            assert client.get(url, headers=cast.headers(actor)).status_code == 200, (url, actor)
    assert len(client.get("/api/v1/coverage", headers=cast.headers("viewer")).json()["units"]) == 10
    target = client.get("/api/v1/coverage/targets").json()["items"][0]["id"]
    assert client.get(f"/api/v1/coverage/targets/{target}").status_code == 200
    missing = "/api/v1/coverage/snapshots/00000000-0000-0000-0000-000000000000"
    assert client.get(missing).status_code == 401
    assert client.get(missing, headers=cast.headers("viewer")).json()["error"] == "coverage_no_snapshot"
    changes = [
        ("post", "/api/v1/coverage/targets", {"json": {"unit": "dongsheng", "due_date": "2027-12-31", "share": 0.4}}),
        ("patch", f"/api/v1/coverage/targets/{target}", {"json": {"note": "plan"}}),
        ("put", "/api/v1/coverage/levels/mesh/oblique", {"json": {"level": 3, "note": "oblique photogrammetry"}}),
        ("delete", "/api/v1/coverage/levels/mesh/oblique", {}),
        (
            "post",
            "/api/v1/coverage/units",
            {"json": {"code": "150602001", "parent": "dongsheng", "name": "Jiaotong", "name_zh": "交通街道"}},
        ),
        (
            "post",
            "/api/v1/coverage/built-up",
            {"data": {"source": "land_survey"}, "files": {"file": ("b.geojson", _geojson(DONGSHENG))}},
        ),
        (
            "put",
            f"/api/v1/coverage/units/{DONGSHENG}/boundary",
            {"data": {"source": "test"}, "files": {"file": ("b.geojson", _geojson(DONGSHENG))}},
        ),
        (
            "put",
            f"/api/v1/coverage/units/{DONGSHENG}/inventory",
            {"data": {"source": "test"}, "files": {"file": ("b.geojson", _geojson(DONGSHENG))}},
        ),
        ("post", "/api/v1/coverage/snapshots", {"json": {"level": 1}}),
        ("delete", f"/api/v1/coverage/built-up/{DONGSHENG}/2025", {}),
        ("delete", f"/api/v1/coverage/targets/{target}", {}),
    ]
    for method, url, kwargs in changes:
        assert getattr(client, method)(url, **kwargs).status_code == 401, url
        for actor in ("uploader_a", "surveyor", "viewer"):
            answer = getattr(client, method)(url, headers=cast.headers(actor), **kwargs)
            assert answer.status_code == 403, (url, actor, answer.text)
    editors = iter(EDITORS * len(changes))
    for method, url, kwargs in changes:
        answer = getattr(client, method)(url, headers=cast.headers(next(editors)), **kwargs)
        assert answer.status_code in (200, 201, 202, 204), (url, answer.text)


def test_figures_csv_map_and_chart(client, cast) -> None:
    official = cast.headers("official")
    stored = _load(client, official, _geojson(DONGSHENG))
    assert stored.status_code == 201, stored.text
    assert stored.json()["items"][0]["area_m2"] == pytest.approx(geodesic_area(BUILT), rel=1e-3)
    assert stored.json()["snapshot_job"]  # a debounced snapshot was queued
    footprint = box(109.90, 39.78, 109.94, 39.84)
    add_dataset(client.app.state.engine, cast.orgs["institute_a"], [footprint])
    body = client.get("/api/v1/coverage", headers=cast.headers("viewer")).json()
    assert body["definition"]["level_name"] == "CIM1" and "geodesic" in body["definition"]["text"]
    dongsheng = next(u for u in body["units"] if u["unit"] == DONGSHENG)
    assert dongsheng["share"] == pytest.approx(geodesic_area(footprint) / geodesic_area(BUILT), rel=1e-3)
    assert body["city"]["share"] == pytest.approx(dongsheng["share"])
    assert body["snapshot_id"] is None  # computed, not stored
    assert body["targets"][0]["share"] == 0.3 and body["targets"][0]["due_date"] == "2025-12-31"
    assert client.get("/api/v1/coverage?level=CIM3", headers=official).json()["city"]["covered_m2"] == 0
    assert client.get("/api/v1/coverage?level=CIM9").status_code == 422

    rows = list(csv.DictReader(io.StringIO(client.get("/api/v1/coverage/export.csv", headers=official).text)))
    assert rows[0]["unit"] == "city" and float(rows[0]["share"]) == pytest.approx(dongsheng["share"], rel=1e-4)
    assert "covered_m2:footprints" in rows[0] and "covered_m2:CIM2" in rows[0]

    features = client.get("/api/v1/coverage/map", headers=official).json()["features"]
    states = {f["properties"]["state"]: shapely.geometry.shape(f["geometry"]) for f in features}
    assert geodesic_area(states["covered"]) == pytest.approx(geodesic_area(footprint), rel=1e-3)
    assert geodesic_area(states["uncovered"]) == pytest.approx(
        geodesic_area(BUILT) - geodesic_area(footprint), rel=1e-3
    )

    taken = client.post("/api/v1/coverage/snapshots", headers=official, json={"level": 1})
    assert taken.status_code == 202
    svg = client.get("/api/v1/coverage/history.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.startswith("<svg") and "<script" not in svg.text and 'class="target"' in svg.text


def _geopackage(path: Path, geometry, epsg: int) -> bytes:
    """A minimal GeoPackage: the catalogue tables, one feature table, GP header + WKB."""
    conn = sqlite3.connect(path)
    conn.executescript(
        """CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT, srs_id INTEGER PRIMARY KEY, organization TEXT,
               organization_coordsys_id INTEGER, definition TEXT, description TEXT);
           CREATE TABLE gpkg_contents (table_name TEXT PRIMARY KEY, data_type TEXT, identifier TEXT, srs_id INTEGER);
           CREATE TABLE gpkg_geometry_columns (table_name TEXT, column_name TEXT, geometry_type_name TEXT,
               srs_id INTEGER, z TINYINT, m TINYINT);
           CREATE TABLE built (fid INTEGER PRIMARY KEY, geom BLOB, unit TEXT, year INTEGER);"""
    )
    conn.execute("INSERT INTO gpkg_spatial_ref_sys VALUES ('x', ?, 'EPSG', ?, 'undefined', '')", (epsg, epsg))
    conn.execute("INSERT INTO gpkg_contents VALUES ('built', 'features', 'built', ?)", (epsg,))
    conn.execute("INSERT INTO gpkg_geometry_columns VALUES ('built', 'geom', 'MULTIPOLYGON', ?, 0, 0)", (epsg,))
    header = b"GP" + bytes([0, 0b00000011]) + struct.pack("<i", epsg) + struct.pack("<4d", *geometry.bounds)
    conn.execute("INSERT INTO built VALUES (1, ?, 'kangbashi', 2023)", (header + shapely.to_wkb(geometry),))
    conn.commit()
    conn.close()
    return path.read_bytes()


def test_geopackage_in_a_gauss_kruger_zone(client, cast, tmp_path) -> None:
    from pyproj import Transformer

    lonlat = box(109.76, 39.58, 109.82, 39.63)
    to_zone = Transformer.from_crs(4326, 4546, always_xy=True)
    import numpy as np

    projected = shapely.transform(lonlat, lambda xy: np.column_stack(to_zone.transform(xy[:, 0], xy[:, 1])))
    content = _geopackage(tmp_path / "built.gpkg", projected, 4546)
    answer = _load(client, cast.headers("admin"), content, name="built.gpkg")
    assert answer.status_code == 201, answer.text
    item = answer.json()["items"][0]
    assert (item["unit_code"], item["year"]) == (KANGBASHI, 2023)
    assert item["area_m2"] == pytest.approx(geodesic_area(lonlat), rel=1e-3)
    bad = _load(client, cast.headers("admin"), b"{not json", unit="dongsheng", year="2024")
    assert bad.status_code == 422 and bad.json()["error"] == "coverage_bad_geometry_file"
    unknown = _load(client, cast.headers("admin"), _geojson("atlantis"))
    assert unknown.status_code == 404 and unknown.json()["error"] == "coverage_unknown_unit"


def test_targets_and_levels_are_edited_by_officials(client, cast) -> None:
    official = cast.headers("official")
    created = client.post(
        "/api/v1/coverage/targets",
        headers=official,
        json={"unit": "dongsheng", "due_date": "2030-12-31", "share": 0.5, "min_level": 3},
    )
    assert created.status_code == 201 and created.json()["unit"] == DONGSHENG
    assert created.json()["state"] == "no_data"
    twice = client.post("/api/v1/coverage/targets", headers=official, json=created.json() | {"unit": "dongsheng"})
    assert twice.status_code == 409
    changed = client.patch(f"/api/v1/coverage/targets/{created.json()['id']}", headers=official, json={"share": 0.6})
    assert changed.json()["share"] == 0.6
    mapped = client.put("/api/v1/coverage/levels/ifc/LOD3", headers=official, json={"level": 4, "note": "facades"})
    assert mapped.status_code == 200 and mapped.json()["level_name"] == "CIM4"
    levels = client.get("/api/v1/coverage/levels").json()
    assert (
        len(levels["levels"]) == 7
        and {"kind": "ifc", "lod": "LOD3"}.items() <= next(m for m in levels["mappings"] if m["lod"] == "LOD3").items()
    )
    audit = client.get("/api/v1/audit?object_type=coverage_target", headers=official).json()
    assert {e["action"] for e in audit["entries"]} >= {"coverage.target.created", "coverage.target.updated"}
