"""Programme progress per street, district and city, and its CSV and Excel export (issue 11)."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from tests.support.facades import PROJECTS, make_street, project_body


def _walk(client: TestClient, cast: Any, project_id: str, to: str) -> None:
    order = ["design", "approved", "construction", "completed", "accepted"]
    for status in order[: order.index(to) + 1]:
        actor = "official" if status in ("approved", "accepted") else "uploader_a"
        answer = client.post(f"{PROJECTS}/{project_id}/status", json={"status": status}, headers=cast.headers(actor))
        assert answer.status_code == 200, answer.text


def test_progress_and_export(client: TestClient, cast: Any) -> None:
    uploader = cast.headers("uploader_a")
    street = make_street(client, uploader, "PR-S", "dongsheng", 2024)
    done = client.post(
        PROJECTS, json=project_body("PR-1", 1000, 0, street_id=street["id"], spent_cny=1_100_000), headers=uploader
    ).json()
    partial = project_body("PR-2", 1100, 0, street_id=street["id"])
    partial["measures"] = [{"kind": "wall_renewal", "quantity": 300, "done": 120}, {"kind": "lighting", "quantity": 10}]
    client.post(PROJECTS, json=partial, headers=uploader)
    other = project_body("PR-3", 0, 0, district="kangbashi")
    other["footprint"] = None
    other["crs"] = "EPSG:4490"
    other["footprint"] = {
        "type": "Polygon",
        "coordinates": [[[109.79, 39.60], [109.7902, 39.60], [109.7902, 39.6001], [109.79, 39.60]]],
    }
    assert client.post(PROJECTS, json=other, headers=uploader).status_code == 201
    _walk(client, cast, done["id"], "completed")

    viewer = cast.headers("viewer")
    by_street = {
        r["key"]: r
        for r in client.get("/api/v1/facades/progress", params={"by": "street"}, headers=viewer).json()["rows"]
    }
    row = by_street[street["id"]]
    assert row["projects"] == 2 and row["by_status"]["completed"] == 1 and row["by_status"]["planned"] == 1
    assert (row["wall_m2_planned"], row["wall_m2_done"]) == (700, 520)  # 400 done in full + 120 of 300
    assert (row["signs_planned"], row["signs_done"]) == (6, 6)  # the second project has no sign measure
    assert (row["lights_planned"], row["lights_done"]) == (34, 24)
    assert row["budget_cny"] == 2_500_000 and row["spent_cny"] == 1_100_000
    assert by_street["none"]["projects"] == 1
    districts = {r["key"]: r["projects"] for r in client.get("/api/v1/facades/progress", headers=viewer).json()["rows"]}
    assert districts == {"150602": 2, "150603": 1}
    (city,) = client.get("/api/v1/facades/progress", params={"by": "city"}, headers=viewer).json()["rows"]
    assert city["projects"] == 3 and city["budget_cny"] == 3_750_000
    only_2024 = client.get("/api/v1/facades/progress", params={"by": "city", "year": 2024}, headers=viewer).json()
    assert only_2024["rows"][0]["projects"] == 2

    exported = client.get("/api/v1/facades/progress/export", params={"by": "district"}, headers=viewer)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert {r["key"]: r["projects"] for r in rows} == {"150602": "2", "150603": "1"}
    assert "东胜区" in next(r["label"] for r in rows if r["key"] == "150602")
    excel = client.get("/api/v1/facades/progress/export", params={"by": "street", "format": "xlsx"}, headers=viewer)
    sheet = load_workbook(io.BytesIO(excel.content)).active
    header = [c.value for c in sheet[1]]
    assert header[:3] == ["key", "label", "projects"] and sheet.max_row == 3
    assert client.get("/api/v1/facades/progress").status_code == 401
