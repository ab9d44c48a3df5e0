"""Demo data: a synthetic DEM over Kangbashi (a 30 m base and a 5 m detail of the centre) and a
synthetic orthophoto (示例, ``sample_models/ground/make_ground_samples.py``), generated into the data
folder and uploaded through the same HTTP upload-and-job path as any survey. Names already loaded are
kept."""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx

from api.demo import SAMPLES, _demo_token
from cim_platform.core.settings import Settings

GENERATOR = SAMPLES / "ground" / "make_ground_samples.py"
NOTE = (
    "Synthetic sample data made by this project (sample_models/ground/); not a real survey. "
    "合成示例数据，非真实测绘成果。"
)
ITEMS = (
    ("kangbashi_base_dem.tif", "示例 康巴什地形（30 米）· Example: Kangbashi terrain, 30 m (synthetic DEM)"),
    (
        "kangbashi_fine_dem.tif",
        "示例 康巴什展览馆周边地形（5 米）· Example: terrain around the Kangbashi hall, 5 m (synthetic DEM)",
    ),
    ("kangbashi_orthophoto.tif", "示例 康巴什正射影像 · Example: Kangbashi orthophoto (synthetic)"),
)


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_ground_samples", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_ground_samples(settings: Settings, base_url: str, client: httpx.Client | None = None) -> list[dict[str, Any]]:
    """Upload the ground samples not loaded yet; their finished jobs."""
    if client is None:
        with httpx.Client(base_url=base_url, timeout=120) as own:
            return load_ground_samples(settings, base_url, own)
    manifest = json.loads((SAMPLES / "demo.json").read_text(encoding="utf-8"))
    headers = {"Authorization": f"Bearer {_demo_token(settings, manifest)}"}
    folder: Path = settings.resolved_data_dir / "demo-ground"
    listed = client.get("/api/v1/datasets", params={"limit": 1000}, headers=headers).json().get("datasets", [])
    present = {d["name"] for d in listed}
    missing = [(file, name) for file, name in ITEMS if name not in present]
    if missing:
        _generator().make_all(folder)
    jobs = []
    for file, name in missing:
        fields = {"name": name, "description": NOTE, "visibility": "public", "district": "kangbashi"}
        with (folder / file).open("rb") as handle:
            response = client.post("/api/v1/datasets", data=fields, files={"file": (file, handle)}, headers=headers)
        if response.status_code != 202:
            raise RuntimeError(f"{name}: refused ({response.status_code}): {response.text[:300]}")
        jobs.append(response.json()["job"]["href"])
    results = []
    for href in jobs:
        while (job := client.get(href, headers=headers).json())["state"] in ("queued", "running"):
            time.sleep(0.5)
        results.append(job)
    return results


def demo_step(settings: Settings, base_url: str) -> str:
    """The line ``cim demo`` prints for this domain (api/demo.py calls every domain's ``demo_step``)."""
    jobs = load_ground_samples(settings, base_url)
    done = sum(job["state"] == "succeeded" for job in jobs)
    failed = [job.get("error") for job in jobs if job["state"] != "succeeded"]
    return f"ground (synthetic Kangbashi terrain and orthophoto): {done} loaded" + (
        f", {len(failed)} failed: {failed}" if failed else ""
    )
