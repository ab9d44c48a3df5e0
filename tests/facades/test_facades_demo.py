"""The demo's facade programme: synthetic (示例), loaded over HTTP, deterministic generator, idempotent;
on track in 2023–2024, Dongsheng behind in 2025, one project failing the colour rule, one on a
historic building needing approval documents (issue 11)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from api.facades.demo import MANIFEST, SAMPLES, load_facade_samples
from api.heritage.demo import load_heritage_samples


def test_generator_is_deterministic() -> None:
    before = MANIFEST.read_bytes()
    subprocess.run([sys.executable, str(SAMPLES / "make_facade_samples.py")], check=True, capture_output=True)
    assert MANIFEST.read_bytes() == before


def test_demo_programme_loads(client: Any, cast: Any, settings: Any) -> None:
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    assert all("示例" in s["name"] and "example" in s["name"] for s in manifest["streets"] + manifest["projects"])
    load_heritage_samples(settings, "", client)
    summary = load_facade_samples(settings, "", client)
    assert (
        summary == f"{len(manifest['streets'])} showcase streets and {len(manifest['projects'])} facade projects loaded"
    )
    official = cast.headers("official")
    for year in (2023, 2024):
        report = client.get("/api/v1/facades/targets", params={"year": year}, headers=official).json()["units"]
        rows = {r["unit"]["slug"]: r for r in report}
        assert all(
            rows[u]["state"] == "on_track" and rows[u]["accepted"] == 3
            for u in ("dongsheng", "kangbashi", "altan-xire")
        )
    rows = {
        r["unit"]["slug"]: r
        for r in client.get("/api/v1/facades/targets", params={"year": 2025}, headers=official).json()["units"]
    }
    assert rows["dongsheng"]["state"] == "behind" and rows["dongsheng"]["under_way"] == 1
    assert rows["kangbashi"]["state"] == "on_track" and rows["altan-xire"]["state"] == "on_track"
    projects = {p["code"]: p for p in client.get("/api/v1/facades/projects", headers=official).json()["items"]}
    assert projects["EX-FP-KA-1"]["colour_check"]["outcome"] == "fail"
    historic = projects["EX-FP-DO-2"]
    assert historic["approval_required"] and "EX-150602-001" in {h["code"] for h in historic["heritage"]}
    assert projects["EX-FP-DO-1"]["status"] == "accepted" and not projects["EX-FP-DO-1"]["approval_required"]
    assert load_facade_samples(settings, "", client) == "0 showcase streets and 0 facade projects loaded"
