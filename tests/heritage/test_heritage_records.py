"""Historic-building records: create in Gauss-Krüger coordinates, read, list, edit with If-Match (412 on
a stale write, nothing lost), the status workflow, retirement, groups and a complete history."""

from __future__ import annotations

import itertools

import pytest

from tests.support.heritage import BUILDINGS, DONGSHENG, ORIGIN, building_body, create, listed, lonlat, polygon, step


def test_create_in_gauss_kruger_stores_cgcs2000(client, cast) -> None:
    body, etag = create(client, cast.headers("surveyor"), "150602-0001")
    assert body["status"] == "draft" and body["version"] == 1 and body["district"] == "150602"
    lon, lat = body["location"]["coordinates"]
    expected = lonlat(ORIGIN[0] + 50, ORIGIN[1] + 40)
    assert abs(lon - expected[0]) < 1e-8 and abs(lat - expected[1]) < 1e-8
    assert abs(lon - DONGSHENG[0]) < 0.01 and abs(lat - DONGSHENG[1]) < 0.01
    assert body["protection_range"]["type"] == "MultiPolygon"
    got = client.get(f"{BUILDINGS}/{body['id']}", headers=cast.headers("viewer"))
    assert got.status_code == 200 and got.headers["ETag"] == etag
    assert got.json()["owner"] == "Example owner" and got.json()["pending_proposals"] == []


def test_bad_input_is_refused_with_reasons(client, cast) -> None:
    headers = cast.headers("surveyor")
    # Gauss-Krüger metres declared as degrees: they land far outside Ordos
    wrong_crs = client.post(BUILDINGS, headers=headers, json=building_body("X-1", crs="EPSG:4490"))
    assert wrong_crs.status_code == 422 and "outside Ordos" in wrong_crs.json()["detail"]
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [10, 10], [10, 0], [0, 10], [0, 0]]]}
    e0, n0 = ORIGIN
    bowtie["coordinates"] = [[[e0 + x, n0 + y] for x, y in bowtie["coordinates"][0]]]
    invalid = client.post(BUILDINGS, headers=headers, json=building_body("X-2", outline=bowtie))
    assert invalid.status_code == 422 and "valid polygon" in invalid.json()["detail"]
    assert client.post(BUILDINGS, headers=headers, json=building_body("X-3", crs="EPSG:99999")).status_code == 422
    assert client.post(BUILDINGS, headers=headers, json=building_body("X-4", district="atlantis")).status_code == 422
    point_as_outline = building_body("X-5", outline={"type": "Point", "coordinates": [e0, n0]})
    assert client.post(BUILDINGS, headers=headers, json=point_as_outline).status_code == 422
    create(client, headers, "X-6")
    duplicate = client.post(BUILDINGS, headers=headers, json=building_body("X-6"))
    assert duplicate.status_code == 409 and duplicate.json()["error"] == "duplicate_code"
    listing = client.get(BUILDINGS, headers=headers).json()
    assert [b["code"] for b in listing["buildings"]] == ["X-6"]


def test_stale_write_gets_412_and_loses_nothing(client, cast) -> None:
    headers = cast.headers("surveyor")
    body, etag = create(client, headers, "150602-0002")
    url = f"{BUILDINGS}/{body['id']}"
    missing = client.patch(url, headers=headers, json={"storeys": 2})
    assert missing.status_code == 428 and missing.json()["error"] == "precondition_required"
    first = client.patch(url, headers={**headers, "If-Match": etag}, json={"storeys": 2})
    assert first.status_code == 200 and first.headers["ETag"] != etag
    stale = client.patch(url, headers={**headers, "If-Match": etag}, json={"storeys": 3, "owner": "Someone else"})
    assert stale.status_code == 412 and stale.json()["error"] == "precondition_failed"
    assert stale.headers["ETag"] == first.headers["ETag"]
    now = client.get(url, headers=headers).json()
    assert now["storeys"] == 2 and now["owner"] == "Example owner" and now["version"] == 2
    retry = client.patch(url, headers={**headers, "If-Match": stale.headers["ETag"]}, json={"storeys": 3})
    assert retry.status_code == 200 and retry.json()["storeys"] == 3


def test_status_workflow_and_delisting_needs_an_approval(client, cast) -> None:
    surveyor, official = cast.headers("surveyor"), cast.headers("official")
    body, etag = create(client, surveyor, "150602-0003")
    url = f"{BUILDINGS}/{body['id']}/status"
    skip = client.post(url, headers={**surveyor, "If-Match": etag}, json={"to": "listed"})
    assert skip.status_code == 409 and skip.json()["error"] == "invalid_transition"
    etag = step(client, surveyor, body["id"], etag, "submitted")
    own_review = client.post(url, headers={**surveyor, "If-Match": etag}, json={"to": "under_review"})
    assert own_review.status_code == 403
    etag = step(client, official, body["id"], etag, "under_review")
    etag = step(client, official, body["id"], etag, "listed", comment="announced")
    no_reference = client.post(url, headers={**official, "If-Match": etag}, json={"to": "delisted"})
    assert no_reference.status_code == 422 and no_reference.json()["error"] == "approval_required"
    etag = step(client, official, body["id"], etag, "delisted", approval_reference="鄂府发〔2026〕12号")
    record = client.get(f"{BUILDINGS}/{body['id']}", headers=surveyor).json()
    assert record["status"] == "delisted" and record["delisting_reference"] == "鄂府发〔2026〕12号"


def test_retire_instead_of_delete(client, cast) -> None:
    surveyor, official = cast.headers("surveyor"), cast.headers("official")
    draft, draft_etag = create(client, surveyor, "150602-0004")
    assert client.delete(f"{BUILDINGS}/{draft['id']}", headers=surveyor).status_code == 405
    no_reason = client.post(f"{BUILDINGS}/{draft['id']}/retire", headers={**surveyor, "If-Match": draft_etag}, json={})
    assert no_reason.status_code == 422
    retired = client.post(
        f"{BUILDINGS}/{draft['id']}/retire", headers={**surveyor, "If-Match": draft_etag}, json={"reason": "duplicate"}
    )
    assert retired.status_code == 200 and retired.json()["retired_reason"] == "duplicate"
    record, etag = listed(client, cast, "150602-0005")
    by_surveyor = client.post(
        f"{BUILDINGS}/{record['id']}/retire", headers={**surveyor, "If-Match": etag}, json={"reason": "x"}
    )
    assert by_surveyor.status_code == 403
    assert [b["code"] for b in client.get(BUILDINGS, headers=surveyor).json()["buildings"]] == ["150602-0005"]
    everything = client.get(BUILDINGS, headers=surveyor, params={"include_retired": True}).json()
    assert {b["code"] for b in everything["buildings"]} == {"150602-0004", "150602-0005"}
    assert client.get(f"{BUILDINGS}/{draft['id']}", headers=official).json()["retired_at"] is not None
    edit = client.patch(
        f"{BUILDINGS}/{draft['id']}", headers={**surveyor, "If-Match": retired.headers["ETag"]}, json={"storeys": 4}
    )
    assert edit.status_code == 409


def test_anonymous_callers_see_listed_public_fields_only(client, cast) -> None:
    draft, _ = create(client, cast.headers("surveyor"), "150602-0006")
    record, _ = listed(client, cast, "150602-0007")
    public = client.get(BUILDINGS).json()
    assert [b["code"] for b in public["buildings"]] == ["150602-0007"]
    one = client.get(f"{BUILDINGS}/{record['id']}").json()
    assert one["name"] == record["name"] and one["protection_range"] is not None
    for hidden in ("owner", "occupant", "address", "ownership", "version"):
        assert hidden not in one
    assert client.get(f"{BUILDINGS}/{draft['id']}").status_code == 404
    assert client.get(f"{BUILDINGS}/{record['id']}/history").status_code == 401


def test_list_filters(client, cast) -> None:
    headers = cast.headers("surveyor")
    create(client, headers, "150602-0010", name="示例 Wang family courtyard", aliases=["王家大院"])
    create(client, headers, "150602-0011", name="示例 Granary", level="city")
    far = building_body("150603-0001", district="kangbashi", crs="EPSG:4490")
    far.update(location={"type": "Point", "coordinates": [109.79, 39.608]}, outline=None)
    far.update(protection_range=None, control_zone=None)
    assert client.post(BUILDINGS, headers=headers, json=far).status_code == 201

    def codes(**params: object) -> list[str]:
        response = client.get(BUILDINGS, headers=headers, params=params)
        assert response.status_code == 200, response.text
        return [b["code"] for b in response.json()["buildings"]]

    assert codes(district="kangbashi") == ["150603-0001"]
    assert codes(district="150602") == ["150602-0010", "150602-0011"]
    assert codes(text="王家") == ["150602-0010"]
    assert codes(text="granary") == ["150602-0011"]
    assert codes(level="city") == ["150602-0011"]
    assert codes(status="listed") == []
    assert codes(bbox="109.7,39.5,109.85,39.7") == ["150603-0001"]
    assert len(codes(limit=1)) == 1
    assert client.get(BUILDINGS, headers=headers, params={"bbox": "1,2,3"}).status_code == 422


def test_history_is_complete_after_many_edits(client, cast) -> None:
    headers = cast.headers("surveyor")
    body, etag = create(client, headers, "150602-0020")
    url = f"{BUILDINGS}/{body['id']}"
    for storeys in range(2, 27):
        response = client.patch(url, headers={**headers, "If-Match": etag}, json={"storeys": storeys})
        assert response.status_code == 200, response.text
        etag = response.headers["ETag"]
    moved = client.patch(
        url, headers={**headers, "If-Match": etag}, json={"crs": "EPSG:4546", "protection_range": polygon(0, 0, 90, 90)}
    )
    assert moved.status_code == 200
    unchanged = client.patch(url, headers={**headers, "If-Match": moved.headers["ETag"]}, json={"storeys": 26})
    assert unchanged.status_code == 200 and unchanged.json()["version"] == 27  # nothing changed, nothing recorded
    entries = client.get(f"{url}/history", headers=cast.headers("viewer")).json()["entries"]
    assert [e["action"] for e in entries] == ["heritage.building.created"] + ["heritage.building.updated"] * 26
    assert entries[0]["after"]["storeys"] == 1 and entries[0]["actor"] == "surveyor"
    for previous, entry in itertools.pairwise(entries):
        assert entry["before"]["version"] == previous["after"]["version"]
    for index, entry in enumerate(entries[1:26]):
        assert entry["before"]["storeys"] == index + 1 and entry["after"]["storeys"] == index + 2
    assert entries[-1]["before"]["protection_range"] != entries[-1]["after"]["protection_range"]


def test_groups_link_records(client, cast) -> None:
    headers = cast.headers("surveyor")
    group = client.post("/api/v1/heritage/groups", headers=headers, json={"name": "示例 Temple complex", "code": "G-1"})
    assert group.status_code == 201
    group_id = group.json()["id"]
    for code in ("150602-0030", "150602-0031"):
        create(client, headers, code, group_id=group_id)
    create(client, headers, "150602-0032")
    detail = client.get(f"/api/v1/heritage/groups/{group_id}", headers=headers).json()
    assert [m["code"] for m in detail["members"]] == ["150602-0030", "150602-0031"]
    listing = client.get(BUILDINGS, headers=headers, params={"group": group_id}).json()
    assert listing["total"] == 2
    unknown = building_body("150602-0033", group_id="00000000-0000-0000-0000-000000000000")
    assert client.post(BUILDINGS, headers=headers, json=unknown).status_code == 422
    again = client.post("/api/v1/heritage/groups", headers=headers, json={"name": "x", "code": "G-1"})
    assert again.status_code == 409


@pytest.mark.parametrize("actor", ["viewer", "uploader_a", "official"])
def test_only_writers_create(client, cast, actor) -> None:
    response = client.post(BUILDINGS, headers=cast.headers(actor), json=building_body("150602-0040"))
    assert response.status_code == 403


def test_clearing_fields(client, cast) -> None:
    headers = cast.headers("surveyor")
    body, etag = create(client, headers, "150602-0050", aliases=["甲"])
    url = f"{BUILDINGS}/{body['id']}"
    for refused in ({"level": None}, {"name": None}, {"district": None}, {"code": ""}):
        response = client.patch(url, headers={**headers, "If-Match": etag}, json=refused)
        assert response.status_code == 422, (refused, response.text)
    cleared = client.patch(url, headers={**headers, "If-Match": etag}, json={"aliases": None, "outline": None})
    assert cleared.status_code == 200 and cleared.json()["aliases"] == [] and cleared.json()["outline"] is None
