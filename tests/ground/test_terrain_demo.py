"""The demo's ground: a synthetic Kangbashi DEM (base and detail) and orthophoto, loaded over HTTP through
the upload-and-job path, labelled as examples, combined into the city's terrain; loading again keeps them."""

from __future__ import annotations

from api.ground.demo import ITEMS, load_ground_samples


def test_demo_ground_loads_and_combines(client, start_worker, settings) -> None:
    start_worker()
    jobs = load_ground_samples(settings, "", client)
    assert [job["state"] for job in jobs] == ["succeeded"] * 3, jobs
    assert all("示例" in name and "Example" in name for _, name in ITEMS)
    layers = client.get("/api/v1/ground/layers").json()  # public: visible without a token
    assert len(layers["terrain"]["datasets"]) == 2 and len(layers["imagery"]) == 1
    west, south, east, north = layers["terrain"]["datasets"][0]["bounds"]
    assert west < 109.79 < east and south < 39.608 < north  # around Kangbashi
    layer = client.get("/ground/terrain/layer.json").json()
    assert layer["maxzoom"] == max(d["max_level"] for d in layers["terrain"]["datasets"])
    assert load_ground_samples(settings, "", client) == []
