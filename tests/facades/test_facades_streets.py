"""Showcase streets, yearly targets per unit (behind/on-track over several years), colour rules
editable by officials, the live colour check, and the role matrix of the facades routes (issue 11)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.facades import GK, STREETS, advance, if_match, line, make_street

TARGETS = "/api/v1/facades/targets"


def _report(client: TestClient, headers: dict[str, str], year: int, as_of: str) -> dict[str, dict[str, Any]]:
    answer = client.get(TARGETS, params={"year": year, "as_of": as_of}, headers=headers)
    assert answer.status_code == 200, answer.text
    return {row["unit"]["slug"]: row for row in answer.json()["units"]}


def _accept(client: TestClient, official: dict[str, str], street_id: str, day: str) -> None:
    advance(client, official, street_id, "accepted", acceptance_document=f"验收 {day}", accepted_on=day)


def test_targets_over_several_years(client: TestClient, cast: Any) -> None:
    uploader, official = cast.headers("uploader_a"), cast.headers("official")
    # 2022: before the programme, no targets
    before = _report(client, official, 2022, "2022-06-01")
    assert before["dongsheng"]["target"] == 0 and before["dongsheng"]["state"] == "on_track"

    # 2023: Dongsheng accepts 2 and has 1 under way (on track mid-year), the third is not accepted by year's end
    d = [make_street(client, uploader, f"DS23-{i}", "dongsheng", 2023) for i in range(3)]
    for street in d:
        advance(client, uploader, street["id"], "under_construction")
    _accept(client, official, d[0]["id"], "2023-06-30")
    _accept(client, official, d[1]["id"], "2023-09-30")
    mid_2023 = _report(client, official, 2023, "2023-10-01")
    assert (mid_2023["dongsheng"]["accepted"], mid_2023["dongsheng"]["under_way"]) == (2, 1)
    assert mid_2023["dongsheng"]["target"] == 3 and mid_2023["dongsheng"]["state"] == "on_track"
    after_2023 = _report(client, official, 2023, "2024-01-10")
    assert after_2023["dongsheng"]["year_over"] and after_2023["dongsheng"]["state"] == "behind"
    # Kangbashi and Altan Xire with nothing: behind; the other banners' target is 1
    assert mid_2023["kangbashi"]["state"] == "behind" and mid_2023["altan-xire"]["target"] == 3
    assert mid_2023["dalad"]["target"] == 1 and mid_2023["ejin-horo"]["target"] == 1

    # Altan Xire: streets in the town count for the town, not for the rest of Ejin Horo Banner
    town = [make_street(client, uploader, f"AX24-{i}", "ejin-horo", 2024, town="altan-xire") for i in range(3)]
    banner = make_street(client, uploader, "EJ24-0", "ejin-horo", 2024)
    assert town[0]["unit_code"] == "150627100" and banner["unit_code"] == "150627"
    for street in town[:2]:
        advance(client, uploader, street["id"], "under_construction")
    r24 = _report(client, official, 2024, "2024-05-01")
    assert (r24["altan-xire"]["under_way"], r24["altan-xire"]["candidates"], r24["altan-xire"]["state"]) == (
        2,
        1,
        "behind",
    )
    assert (r24["ejin-horo"]["candidates"], r24["ejin-horo"]["state"]) == (1, "behind")
    advance(client, uploader, town[2]["id"], "under_construction")
    assert _report(client, official, 2024, "2024-08-01")["altan-xire"]["state"] == "on_track"
    for i, street in enumerate(town):
        _accept(client, official, street["id"], f"2024-1{i}-01")
    assert _report(client, official, 2024, "2025-02-01")["altan-xire"]["state"] == "on_track"

    # 2025: an official lowers Kangbashi's target to 1: one accepted street is on track
    k = make_street(client, uploader, "KB25-0", "kangbashi", 2025)
    advance(client, uploader, k["id"], "under_construction")
    _accept(client, official, k["id"], "2025-05-01")
    assert _report(client, official, 2025, "2025-06-01")["kangbashi"]["state"] == "behind"
    answer = client.put(f"{TARGETS}/kangbashi/2025", json={"target": 1, "note": "示例"}, headers=official)
    assert answer.status_code == 200, answer.text
    after = _report(client, official, 2025, "2025-06-01")["kangbashi"]
    assert (after["target"], after["target_is_default"], after["state"]) == (1, False, "on_track")
    assert _report(client, official, 2026, "2026-01-02")["kangbashi"]["target"] == 3  # other years keep defaults
    audit = client.get("/api/v1/audit", params={"object_type": "facade_target"}, headers=official).json()
    assert any(e["after"]["target"] == 1 for e in audit["entries"])


def test_street_workflow_geometry_and_errors(client: TestClient, cast: Any) -> None:
    uploader, official = cast.headers("uploader_a"), cast.headers("official")
    street = make_street(client, uploader, "S-1", "dongsheng", 2024, zone="protection_zone")
    assert street["status"] == "candidate" and street["zone"] == "protection_zone"
    lon, lat = street["geometry"]["coordinates"][0]
    assert 109.9 < lon < 110.0 and 39.8 < lat < 39.9  # stored in EPSG:4490 lon/lat
    assert street["length_m"] == pytest.approx(300, abs=0.5)
    dup = client.post(STREETS, json={**_body("S-1")}, headers=uploader)
    assert dup.status_code == 409 and dup.json()["error"] == "duplicate_code"
    stale = {**official, "If-Match": f'"street-{street["id"]}.0"'}
    refused = client.post(f"{STREETS}/{street['id']}/status", json={"status": "accepted"}, headers=stale)
    assert refused.status_code == 412 and refused.json()["error"] == "precondition_failed"
    assert refused.headers["ETag"] == f'"street-{street["id"]}.1"'
    unconditional = client.post(f"{STREETS}/{street['id']}/status", json={"status": "accepted"}, headers=official)
    assert unconditional.status_code == 428 and unconditional.json()["error"] == "precondition_required"
    skip = client.post(
        f"{STREETS}/{street['id']}/status",
        json={"status": "accepted"},
        headers=if_match(client, official, street["id"]),
    )
    assert skip.status_code == 409 and skip.json()["error"] == "invalid_transition"
    advance(client, uploader, street["id"], "under_construction")
    not_theirs = client.post(
        f"{STREETS}/{street['id']}/status",
        json={"status": "accepted", "acceptance_document": "X", "accepted_on": "2024-05-01"},
        headers=if_match(client, uploader, street["id"]),
    )
    assert not_theirs.status_code == 403
    missing = client.post(
        f"{STREETS}/{street['id']}/status",
        json={"status": "accepted"},
        headers=if_match(client, official, street["id"]),
    )
    assert missing.status_code == 422 and missing.json()["error"] == "acceptance_required"
    done = advance(
        client,
        official,
        street["id"],
        "accepted",
        acceptance_document="东胜区示范街验收 2024-05",
        accepted_on="2024-05-01",
    )
    assert done["acceptance_document"] and done["accepted_on"] == "2024-05-01" and done["version"] == 3
    polygon = {"type": "Polygon", "coordinates": [[[109.96, 39.82], [109.97, 39.82], [109.97, 39.83], [109.96, 39.82]]]}
    read = client.get(f"{STREETS}/{street['id']}", headers=uploader)
    assert read.headers["ETag"] == f'"street-{street["id"]}.3"'
    changed = client.patch(
        f"{STREETS}/{street['id']}",
        json={"geometry": polygon, "name": "示例 新名"},
        headers={**uploader, "If-Match": read.headers["ETag"]},
    )
    assert changed.status_code == 200 and changed.json()["geometry"]["type"] == "Polygon"
    assert changed.headers["ETag"] == f'"street-{street["id"]}.4"'
    again = client.patch(
        f"{STREETS}/{street['id']}", json={"name": "示例 旧名"}, headers={**uploader, "If-Match": read.headers["ETag"]}
    )
    assert again.status_code == 412
    assert client.get(f"{STREETS}/{street['id']}", headers=uploader).json()["name"] == "示例 新名"
    assert changed.json()["length_m"] is None
    wrong_zone = client.post(STREETS, json={**_body("S-2"), "crs": "EPSG:4548"}, headers=uploader)
    assert wrong_zone.status_code == 422 and "outside Ordos" in wrong_zone.json()["detail"]
    point = client.post(
        STREETS,
        json={**_body("S-3"), "geometry": {"type": "Point", "coordinates": [109.96, 39.82]}, "crs": "EPSG:4490"},
        headers=uploader,
    )
    assert point.status_code == 422
    unknown = client.post(STREETS, json={**_body("S-4"), "district": "atlantis"}, headers=uploader)
    assert unknown.status_code == 422 and unknown.json()["error"] == "unknown_unit"
    listed = client.get(STREETS, params={"year": 2024, "district": "dongsheng"}, headers=cast.headers("viewer")).json()
    assert listed["total"] == 1 and listed["items"][0]["code"] == "S-1"
    history = client.get("/api/v1/audit", params={"object_id": street["id"]}, headers=official).json()
    actions = {e["action"] for e in history["entries"]}
    assert {"facades.street.created", "facades.street.status", "facades.street.updated"} <= actions


def _body(code: str) -> dict[str, Any]:
    return {
        "code": code,
        "name": "示例",
        "district": "dongsheng",
        "year": 2024,
        "crs": GK,
        "geometry": line("dongsheng"),
    }


def test_rules_edit_and_live_check(client: TestClient, cast: Any) -> None:
    official, viewer = cast.headers("official"), cast.headers("viewer")
    rules = client.get("/api/v1/facades/rules", headers=viewer).json()["zones"]
    assert {r["zone"] for r in rules} == {"old_town", "protection_zone", "new_district"}
    assert all(r["main_max_chroma_warm"] == 4 and r["max_chroma"] == 6 and not r["changed"] for r in rules)
    body = {
        "zone": "protection_zone",
        "colours": [
            {"munsell": "5YR 7/4", "use": "main", "share": 80},
            {"hex": "#0000FF", "use": "accent", "share": 20},
        ],
    }
    answer = client.post("/api/v1/facades/colours/check", json=body, headers=viewer).json()
    assert answer["check"]["outcome"] == "fail"
    assert [(f["rule"], f["colour"]) for f in answer["check"]["findings"]] == [("max_chroma", "#0000FF")]
    assert answer["colours"][1]["high_chroma"] and answer["colours"][0]["munsell"]["chroma"] == 4
    assert (
        client.patch(
            "/api/v1/facades/rules/protection_zone", json={"max_chroma_severity": "warn"}, headers=viewer
        ).status_code
        == 403
    )
    assert (
        client.patch(
            "/api/v1/facades/rules/protection_zone",
            json={"main_max_chroma_warm": 3, "max_chroma_severity": "warn"},
            headers=official,
        ).status_code
        == 200
    )
    again = client.post("/api/v1/facades/colours/check", json=body, headers=viewer).json()["check"]
    assert {(f["rule"], f["outcome"]) for f in again["findings"]} == {("main_chroma", "fail"), ("max_chroma", "warn")}
    bad = client.patch(
        "/api/v1/facades/rules/old_town", json={"main_min_value": 9, "main_max_value": 5}, headers=official
    )
    assert bad.status_code == 422
    one = client.post("/api/v1/facades/colours/read", json={"hex": "#A0522D"}, headers=viewer).json()
    assert one["munsell"]["notation"] == "2.3YR 4.3/8.1" and one["lab"]
    assert (
        client.post(
            "/api/v1/facades/colours/read", json={"hex": "#A0522D", "munsell": "N5"}, headers=viewer
        ).status_code
        == 422
    )


@pytest.mark.parametrize(
    ("actor", "reads", "writes", "administers"),
    [
        (None, 401, 401, 401),
        ("viewer", 200, 403, 403),
        ("surveyor", 200, 403, 403),
        ("uploader_a", 200, 201, 403),
        ("official", 200, 201, 200),
        ("admin", 200, 201, 200),
    ],
)
def test_role_matrix(
    client: TestClient, cast: Any, actor: str | None, reads: int, writes: int, administers: int
) -> None:
    headers = cast.headers(actor)
    assert client.get(TARGETS, params={"year": 2024}, headers=headers).status_code == reads
    assert client.get(STREETS, headers=headers).status_code == reads
    assert client.get("/api/v1/facades/units", headers=headers).status_code == reads
    assert client.post(STREETS, json=_body(f"R-{actor}"), headers=headers).status_code == writes
    assert client.put(f"{TARGETS}/dongsheng/2024", json={"target": 4}, headers=headers).status_code == administers
    assert (
        client.patch("/api/v1/facades/rules/new_district", json={"max_chroma": 5}, headers=headers).status_code
        == administers
    )
