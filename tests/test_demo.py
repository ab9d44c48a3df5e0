"""The demo city loads through the same HTTP upload-and-job path a design institute uses."""

from __future__ import annotations

import json
from pathlib import Path

from api.demo import SAMPLES, load_samples


def test_demo_samples_load_and_publish(settings, live_server: str, start_worker, client) -> None:
    start_worker()
    jobs = load_samples(settings, live_server)
    manifest = json.loads((SAMPLES / "demo.json").read_text(encoding="utf-8"))
    assert len(jobs) == len(manifest["datasets"])
    assert all(job["state"] == "succeeded" for job in jobs), jobs
    listed = client.get("/api/v1/datasets").json()["datasets"]  # public: visible without a token
    assert {d["name"] for d in listed} == {item["name"] for item in manifest["datasets"]}
    city = client.get("/tiles/city/tileset.json").json()
    districts = {group["extras"]["district"] for group in city["root"]["children"]}
    assert {"150603", "150602", None} <= districts
    # loading again keeps what is there (idempotent)
    assert load_samples(settings, live_server) == []
    assert len(client.get("/api/v1/datasets").json()["datasets"]) == len(manifest["datasets"])


def test_samples_exist() -> None:
    manifest = json.loads((SAMPLES / "demo.json").read_text(encoding="utf-8"))
    for item in manifest["datasets"]:
        assert (Path(SAMPLES) / item["file"]).is_file(), item["file"]
