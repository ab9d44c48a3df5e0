"""The pipeline registry filled on publication, its queries and GeoPackage export; clearance checks on known
cases (the demo's one violation, a crossing too close, a rule changed by an official, a pipe under a protection
range); the monitoring rate on a known network with devices, tokens and readings; the role matrix."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pytest
from pyogrio import raw
from pyproj import Transformer

from tests.support.heritage import listed
from tests.support.pipelines import E0, N0, generator, line, point, publish, write_zip

SEGMENTS = "/api/v1/pipelines/segments"


def _demo(client, cast, settings, tmp_path: Path, **kwargs) -> str:
    gen = generator()
    points, lines = gen.demo_network()
    return publish(client, cast, settings, gen.write_xlsx(tmp_path / "demo.xlsx", points, lines), **kwargs)


def test_registry_is_filled_on_publication_and_queryable(client, cast, settings, tmp_path: Path) -> None:
    dataset = _demo(client, cast, settings, tmp_path)
    h = cast.headers("viewer")
    everything = client.get(SEGMENTS, headers=h, params={"limit": 5000}).json()
    assert everything["total"] == 85 and len(everything["items"]) == 85
    assert everything["length_m"] == pytest.approx(8 * 50 * 6 + 6 * 50 * 5 + 50 + 5 * 36 + 20, abs=1.0)
    by_category = {c: client.get(SEGMENTS, headers=h, params={"category": c}).json()["total"]
                   for c in ("gas", "drainage", "water_supply", "power")}
    assert by_category == {"gas": 15, "drainage": 28, "water_supply": 14, "power": 14}
    assert client.get(SEGMENTS, headers=h, params={"owner": "燃气"}).json()["total"] == 15
    assert client.get(SEGMENTS, headers=h, params={"material": "HDPE"}).json()["total"] == 14
    assert client.get(SEGMENTS, headers=h, params={"district": "150603"}).json()["total"] == 85
    assert client.get(SEGMENTS, headers=h, params={"district": "150602"}).json()["total"] == 0
    old = client.get(SEGMENTS, headers=h, params={"min_age": 2026 - 2012}).json()["total"]  # built 2011 or 2012
    assert old == 14 + 28
    # one segment as stored: LINESTRING Z in EPSG:4490, Z = the centreline in 1985 heights
    first = client.get(SEGMENTS, headers=h, params={"code": "AYS00-AYS01"}).json()["items"][0]
    (lon0, lat0, z0), _ = first["coordinates"]
    to_gk = Transformer.from_crs("EPSG:4490", "EPSG:4546", always_xy=True)
    e0, n0 = to_gk.transform(*generator().ORIGIN_LONLAT)
    assert to_gk.transform(lon0, lat0) == pytest.approx((e0, n0), abs=0.01)
    points = {p["code"]: p for p in client.get("/api/v1/pipelines/points", headers=h,
                                               params={"limit": 5000}).json()["items"]}
    assert z0 == pytest.approx(points["AYS00"]["ground_elevation"] - 2.5 + 0.3, abs=1e-6)
    assert first["category"] == "drainage_storm" and first["diameter_mm"] == 600
    # ids survive a refill: derived from the dataset and the code, so a page read before a refresh still finds them
    from cim_platform.pipelines.registry import row_id

    assert first["id"] == str(row_id(uuid.UUID(first["dataset_id"]), "segment", "AYS00-AYS01"))
    assert points["AYS00"]["id"] == str(row_id(uuid.UUID(first["dataset_id"]), "point", "AYS00"))
    west, south = lon0 - 0.0001, lat0 - 0.0001
    box = client.get(SEGMENTS, headers=h, params={"bbox": f"{west},{south},{lon0 + 0.0001},{lat0 + 0.0001}"}).json()
    assert "AYS00-AYS01" in {s["code"] for s in box["items"]} and box["total"] < 20
    assert client.get(SEGMENTS, headers=h, params={"bbox": "1,2,3"}).status_code == 422
    assert client.get(SEGMENTS, headers=h, params={"category": "steam"}).status_code == 422
    # GeoPackage export: both layers, 3D, filtered
    answer = client.get("/api/v1/pipelines/export.gpkg", headers=h, params={"category": "gas"})
    assert answer.status_code == 200
    path = tmp_path / "export.gpkg"
    path.write_bytes(answer.content)
    meta, _, geometry, fields = raw.read(path, layer="segments")
    assert len(geometry) == 15 and meta["crs"] == "EPSG:4490" and "Z" in meta["geometry_type"].upper()
    assert set(fields[list(meta["fields"]).index("category")]) == {"gas"}
    assert len(raw.read(path, layer="points")[2]) > 0
    # another organisation's internal dataset is not listed for uploaders, but for officials
    assert dataset
    internal = _demo(client, cast, settings, tmp_path, actor="uploader_b", org="institute_b", visibility="internal")
    assert client.get(SEGMENTS, headers=cast.headers("uploader_a"), params={"dataset": internal}).json()["total"] == 0
    assert client.get(SEGMENTS, headers=cast.headers("official"), params={"dataset": internal}).json()["total"] == 85


def _crossing_network(tmp_path: Path, power_depth: float, north: float = 0.0) -> Path:
    """Water DN300 at 1.5 m (top) east-west crossing a power duct bank 400×300 north-south."""
    points = [point("W1", "给水", 0, north, 1300.0), point("W2", "给水", 60, north, 1300.0),
              point("D1", "电力", 30, north - 30, 1300.0), point("D2", "电力", 30, north + 30, 1300.0)]
    lines = [line("W1", "W2", "给水", 1.5, 1.5, 300), line("D1", "D2", "电力", power_depth, power_depth,
                                                              section="400×300")]
    return write_zip(tmp_path / f"crossing_{power_depth}.zip", points, lines)


def test_clearance_known_cases(client, cast, settings, tmp_path: Path) -> None:
    demo = _demo(client, cast, settings, tmp_path)
    h = cast.headers("viewer")
    report = client.get("/api/v1/pipelines/clearance", headers=h, params={"dataset": demo}).json()
    assert "GB 50289" in report["rules_source"]
    [violation] = report["violations"]  # the gas service line beside the water main
    pair = {violation["segment_a"]["code"], violation["segment_b"]["code"]}
    assert pair == {"ARQ-S1-ARQ-S2", "AJS01-AJS02"} and violation["kind"] == "horizontal"
    assert violation["distance_m"] == pytest.approx(0.45 - 0.05 - 0.15, abs=0.005)
    assert violation["required_m"] == 0.5

    # a crossing: water centre 1300-1.5-0.15 = 1298.35 (bottom 1298.20); power top at 1300-1.9 = 1298.10
    # → vertical gap 0.10 m < 0.15 m
    crossing = publish(client, cast, settings, _crossing_network(tmp_path, 1.9))
    [vertical] = client.get("/api/v1/pipelines/clearance", headers=h, params={"dataset": crossing}).json()[
        "violations"]
    assert vertical["kind"] == "vertical" and vertical["distance_m"] == pytest.approx(0.10, abs=0.002)
    assert vertical["required_m"] == 0.15
    to_gk = Transformer.from_crs("EPSG:4490", "EPSG:4546", always_xy=True)
    assert to_gk.transform(vertical["lon"], vertical["lat"]) == pytest.approx((E0 + 30, N0), abs=0.05)
    deeper = publish(client, cast, settings, _crossing_network(tmp_path, 2.0, north=200))  # gap 0.20 m: fine
    assert client.get("/api/v1/pipelines/clearance", headers=h, params={"dataset": deeper}).json()["violations"] == []

    # an official relaxes water/gas to 0.2 m: the demo's violation goes; uploaders may not
    rule = {"horizontal_m": 0.2, "vertical_m": 0.15}
    assert client.put("/api/v1/pipelines/clearance/rules/water_supply/gas", headers=cast.headers("uploader_a"),
                      json=rule).status_code == 403
    answer = client.put("/api/v1/pipelines/clearance/rules/water_supply/gas", headers=cast.headers("official"),
                        json=rule)
    assert answer.status_code == 200 and answer.json()["group_a"] == "gas" and not answer.json()["default"]
    assert client.get("/api/v1/pipelines/clearance", headers=h, params={"dataset": demo}).json()["violations"] == []

    # a listed building whose protection range covers the crossing's water main
    range_ = {"type": "Polygon", "coordinates": [[[E0 + 10, N0 - 10], [E0 + 20, N0 - 10], [E0 + 20, N0 + 10],
                                                  [E0 + 10, N0 + 10], [E0 + 10, N0 - 10]]]}
    listed(client, cast, "150603-0015", district="kangbashi",
                       location={"type": "Point", "coordinates": [E0 + 15, N0 + 5]},
                       outline={"type": "Polygon", "coordinates": [[[E0 + 14, N0 + 4], [E0 + 16, N0 + 4],
                                                                     [E0 + 16, N0 + 6], [E0 + 14, N0 + 6],
                                                                     [E0 + 14, N0 + 4]]]},
                       protection_range=range_, control_zone=range_)
    heritage = client.get("/api/v1/pipelines/clearance", headers=h, params={"dataset": crossing}).json()["heritage"]
    assert [(p["building_code"], p["segment"]["code"]) for p in heritage] == [("150603-0015", "W1-W2")]
    assert heritage[0]["length_m"] == pytest.approx(10.0, abs=0.05)


def _rate_network(tmp_path: Path) -> Path:
    """Water 100 m (one segment), gas 2 × 50 m through the middle point G2."""
    points = [point("J1", "给水", 0, 0), point("J2", "给水", 100, 0),
              point("G1", "燃气", 0, 20), point("G2", "燃气", 50, 20, feature="阀门"), point("G3", "燃气", 100, 20)]
    lines = [line("J1", "J2", "给水", 1.5, 1.5, 300), line("G1", "G2", "燃气", 1.2, 1.2, 200),
             line("G2", "G3", "燃气", 1.2, 1.2, 200)]
    return write_zip(tmp_path / "rate.zip", points, lines)


def test_monitoring_rate_on_a_known_network(client, cast, settings, tmp_path: Path) -> None:
    dataset = publish(client, cast, settings, _rate_network(tmp_path))
    official, uploader = cast.headers("official"), cast.headers("uploader_a")

    def figures() -> tuple[float, dict[str, float]]:
        body = client.get("/api/v1/pipelines/monitoring", headers=cast.headers("viewer")).json()
        return body["city"]["rate"], {c["category"]: c["rate"] for c in body["categories"]}

    assert figures() == (0.0, {"gas": 0.0, "water_supply": 0.0})
    report = client.get("/api/v1/pipelines/monitoring", headers=uploader).json()
    assert report["target"] == 0.15 and report["target_is_default"] and not report["on_track"]
    device = {"code": "FLOW-1", "kind": "flow", "dataset_id": dataset, "segment_code": "J1-J2", "unit": "m3/h"}
    created = client.post("/api/v1/pipelines/devices", headers=uploader, json=device)
    assert created.status_code == 201, created.text
    city, categories = figures()
    assert city == pytest.approx(0.5, abs=1e-3) and categories == {"water_supply": 1.0, "gas": 0.0}
    leak = {"code": "LEAK-1", "kind": "gas_leak", "dataset_id": dataset, "point_code": "G2", "state": "offline"}
    leak_id = client.post("/api/v1/pipelines/devices", headers=uploader, json=leak).json()["id"]
    assert figures()[0] == pytest.approx(0.5, abs=1e-3)  # offline devices do not count
    assert client.post("/api/v1/pipelines/devices", headers=uploader,
                       json={**leak, "code": "X", "point_code": "NOPE"}).status_code == 404
    assert client.post("/api/v1/pipelines/devices", headers=uploader, json=leak).status_code == 409

    # readings: with the organisation's device token; a reading wakes the offline device (both gas segments)
    token_body = {"organization_id": str(cast.orgs["institute_a"]), "name": "示例 sensors"}
    assert client.post("/api/v1/pipelines/device-tokens", headers=uploader, json=token_body).status_code == 403
    token = client.post("/api/v1/pipelines/device-tokens", headers=official, json=token_body).json()["token"]
    readings = {"readings": [{"device": "LEAK-1", "value": 0.0}, {"device": "FLOW-1", "value": 12.5},
                             {"device": "FLOW-1", "value": 13.0, "measured_at": "2026-12-01T08:00:00Z"}]}
    assert client.post("/api/v1/pipelines/readings", json=readings).status_code == 401
    assert client.post("/api/v1/pipelines/readings", json=readings,
                       headers={"X-Device-Token": "cimdev_wrong"}).status_code == 401
    stored = client.post("/api/v1/pipelines/readings", json=readings, headers={"X-Device-Token": token})
    assert stored.status_code == 201 and stored.json() == {"stored": 3}
    assert figures() == (pytest.approx(1.0), {"water_supply": 1.0, "gas": 1.0})
    other = client.post("/api/v1/pipelines/device-tokens", headers=official,
                        json={"organization_id": str(cast.orgs["institute_b"]), "name": "b"}).json()["token"]
    foreign = client.post("/api/v1/pipelines/readings", json=readings, headers={"X-Device-Token": other})
    assert foreign.status_code == 404

    # the segment's panel: its devices and their latest readings, newest first
    segment = client.get(SEGMENTS, headers=uploader, params={"code": "G1-G2"}).json()["items"][0]
    detail = client.get(f"{SEGMENTS}/{segment['id']}", headers=cast.headers("viewer")).json()
    assert [d["code"] for d in detail["devices"]] == ["LEAK-1"] and detail["devices"][0]["state"] == "active"
    flow = client.get(SEGMENTS, headers=uploader, params={"code": "J1-J2"}).json()["items"][0]
    flow_readings = client.get(f"{SEGMENTS}/{flow['id']}", headers=uploader).json()["devices"][0]["readings"]
    assert [r["value"] for r in flow_readings] == [12.5, 13.0]

    # offline again, the target set by an official, the history of the city's rate
    assert client.patch(f"/api/v1/pipelines/devices/{leak_id}", headers=cast.headers("uploader_b"),
                        json={"state": "offline"}).status_code == 403
    assert client.patch(f"/api/v1/pipelines/devices/{leak_id}", headers=uploader,
                        json={"state": "offline"}).status_code == 200
    assert figures()[0] == pytest.approx(0.5, abs=1e-3)
    assert client.put("/api/v1/pipelines/monitoring/target", headers=uploader,
                      json={"share": 0.2}).status_code == 403
    assert client.put("/api/v1/pipelines/monitoring/target", headers=official, json={"share": 0.6}).status_code == 200
    report = client.get("/api/v1/pipelines/monitoring", headers=official).json()
    assert report["target"] == 0.6 and not report["target_is_default"] and not report["on_track"]
    assert [d["unit"] for d in report["districts"]] == ["150603"]
    history = client.get("/api/v1/pipelines/monitoring/history", headers=official).json()
    rates = [p["rate"] for p in history["points"]]
    assert rates[0] == 0.0 and rates[-1] == pytest.approx(0.5, abs=1e-3) and pytest.approx(1.0) in rates
    assert history["target"] == 0.6
    assert np.all(np.diff([p["total_m"] for p in history["points"]]) >= -1e-6)


@pytest.mark.parametrize("actor, read, device, admin", [
    (None, 401, 401, 401),
    ("viewer", 200, 403, 403),
    ("uploader_a", 200, 201, 403),
    ("surveyor", 200, 201, 403),
    ("official", 200, 201, 200),
    ("admin", 200, 201, 200),
])
def test_role_matrix(client, cast, settings, tmp_path: Path, actor, read, device, admin) -> None:
    dataset = publish(client, cast, settings, _rate_network(tmp_path))
    h = cast.headers(actor)
    assert client.get(SEGMENTS, headers=h).status_code == read
    assert client.get("/api/v1/pipelines/clearance", headers=h).status_code == read
    assert client.get("/api/v1/pipelines/monitoring", headers=h).status_code == read
    body = {"code": f"D-{actor}", "kind": "level", "dataset_id": dataset, "point_code": "G2"}
    if actor in ("surveyor", "official", "admin"):  # another organisation's device is theirs to register for it
        body["organization_id"] = str(cast.orgs["institute_a"]) if actor != "surveyor" else None
    assert client.post("/api/v1/pipelines/devices", headers=h, json=body).status_code == device
    assert client.put("/api/v1/pipelines/monitoring/target", headers=h, json={"share": 0.2}).status_code == admin
    assert client.put("/api/v1/pipelines/clearance/rules/power/telecom", headers=h,
                      json={"horizontal_m": 0.5, "vertical_m": 0.25}).status_code == admin
