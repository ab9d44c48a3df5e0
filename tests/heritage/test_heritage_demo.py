"""The demo's historic-building records: clearly synthetic, in Dongsheng, loaded over HTTP through the
same routes as people use; one of them conflicts with the demo footprint layer; loading is idempotent."""

from __future__ import annotations

import json
import subprocess
import sys

from shapely.geometry import MultiPolygon, shape

from api.heritage.demo import MANIFEST, SAMPLES, load_heritage_samples
from tests.support.stored_datasets import StoredRevision, add_dataset


def test_generator_is_deterministic(tmp_path) -> None:
    before = MANIFEST.read_bytes()
    subprocess.run([sys.executable, str(SAMPLES / "make_heritage_samples.py")], check=True)
    assert MANIFEST.read_bytes() == before


def test_demo_records_load_with_a_conflict(client, cast, settings) -> None:
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    assert all("示例" in spec["name"] and "Example" in spec["name"] for spec in manifest["records"])
    assert load_heritage_samples(settings, "", client) == len(manifest["records"])
    official = cast.headers("official")
    listing = client.get("/api/v1/heritage/buildings", headers=official).json()["buildings"]
    status = {b["code"]: b["status"] for b in listing}
    assert status == {spec["code"]: spec["target_status"] for spec in manifest["records"]}
    assert {b["district"] for b in listing} == {"150602"}
    report = client.get("/api/v1/heritage/completeness", headers=official, params={"district": "dongsheng"}).json()
    assert report["listed_total"] == 4 and report["listed_complete"] == 1
    queue = client.get("/api/v1/heritage/proposals", headers=official, params={"state": "pending"}).json()
    assert queue["count"] == 1
    # the demo footprint layer (as its conversion stores it) overlaps the old granary's zones
    footprints = json.loads((SAMPLES.parent / "survey" / "ordos_footprints.geojson").read_text(encoding="utf-8"))
    polygons = [shape(f["geometry"]) for f in footprints["features"]]
    layer = StoredRevision(footprint=MultiPolygon(polygons), source_filename="f.geojson")
    add_dataset(client.app.state.engine, cast.orgs["institute_a"], [layer], name="footprints", published=None)
    conflicts = client.get("/api/v1/heritage/conflicts", headers=official).json()["conflicts"]
    assert "EX-150602-003" in {c["building_code"] for c in conflicts}  # over the layer on purpose
    assert all(c["area_m2"] > 0 for c in conflicts)
    # the stele's scan mesh was filed with convert: a dataset linked to its record, its conversion queued
    stele = next(b for b in listing if b["code"] == "EX-150602-006")
    items = client.get(f"/api/v1/heritage/buildings/{stele['id']}/items", headers=official).json()["items"]
    assert [i["kind"] for i in items] == ["model_3d"] and items[0]["dataset_id"] is not None
    found = client.get("/api/v1/heritage/buildings", headers=official, params={"dataset": items[0]["dataset_id"]})
    assert [b["code"] for b in found.json()["buildings"]] == ["EX-150602-006"]
    assert load_heritage_samples(settings, "", client) == 0
