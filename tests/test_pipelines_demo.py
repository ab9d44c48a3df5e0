"""The pipelines demo: the network under two Kangbashi streets uploaded over HTTP, converted by a worker,
published, read into the registry, equipped with devices and readings; one clearance violation; idempotent."""

from __future__ import annotations

from api.pipelines.demo import DEVICES, NAME, _tokens, load_pipelines


def test_demo_network_loads_over_http(settings, live_server: str, start_worker, client) -> None:
    start_worker()
    assert "示例" in NAME and "Synthetic example" in NAME
    assert load_pipelines(settings, live_server) == 85
    h = {"Authorization": f"Bearer {_tokens(settings)[0]['official']}"}
    [dataset] = client.get("/api/v1/datasets", params={"kind": "pipelines"}).json()["datasets"]
    assert dataset["name"] == NAME and dataset["district"] in ("150603", "kangbashi")
    tileset = client.get(f"/tiles/{dataset['id']}/tileset.json")
    assert tileset.status_code == 200 and tileset.json()["root"]["content"]["uri"].endswith("lines.glb")
    report = client.get("/api/v1/pipelines/clearance", headers=h).json()
    assert len(report["violations"]) == 1 and report["violations"][0]["kind"] == "horizontal"
    monitoring = client.get("/api/v1/pipelines/monitoring", headers=h).json()
    assert 0 < monitoring["city"]["rate"] < monitoring["target"] == 0.15
    devices = client.get("/api/v1/pipelines/devices", headers=h).json()["items"]
    assert sorted(d["code"] for d in devices) == sorted(d["code"] for d in DEVICES)
    assert {d["state"] for d in devices} == {"active", "offline"}
    assert load_pipelines(settings, live_server) == 0  # loading again keeps what is there
