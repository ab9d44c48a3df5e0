"""Reviewed edits: a surveyor's edit of a listed record is a proposal until an official accepts or
rejects it; the record shows its accepted state and the pending proposals; the history keeps it all."""

from __future__ import annotations

from tests.support.heritage import BUILDINGS, listed, polygon

PROPOSALS = "/api/v1/heritage/proposals"


def test_proposal_accepted(client, cast) -> None:
    surveyor, official = cast.headers("surveyor"), cast.headers("official")
    record, etag = listed(client, cast, "150602-0100")
    url = f"{BUILDINGS}/{record['id']}"
    change = {"storeys": 2, "crs": "EPSG:4546", "protection_range": polygon(-10, -10, 110, 90), "note": "resurveyed"}
    proposed = client.patch(url, headers={**surveyor, "If-Match": etag}, json=change)
    assert proposed.status_code == 202, proposed.text
    proposal = proposed.json()
    assert proposal["state"] == "pending" and proposal["changes"]["storeys"] == 2 and proposal["note"] == "resurveyed"
    assert proposed.headers["Location"] == f"{PROPOSALS}/{proposal['id']}"
    shown = client.get(url, headers=surveyor)
    assert shown.json()["storeys"] == 1 and shown.headers["ETag"] == etag  # the accepted state is unchanged
    assert [p["id"] for p in shown.json()["pending_proposals"]] == [proposal["id"]]
    queue = client.get(PROPOSALS, headers=official, params={"state": "pending"}).json()
    assert [p["id"] for p in queue["proposals"]] == [proposal["id"]]
    assert client.post(f"{PROPOSALS}/{proposal['id']}/accept", headers=surveyor, json={}).status_code == 403
    accepted = client.post(f"{PROPOSALS}/{proposal['id']}/accept", headers=official, json={"comment": "checked"})
    assert accepted.status_code == 200 and accepted.json()["state"] == "accepted"
    assert accepted.json()["reviewed_by"] == "official" and accepted.json()["review_comment"] == "checked"
    now = client.get(url, headers=surveyor)
    assert now.json()["storeys"] == 2 and now.json()["pending_proposals"] == []
    assert now.headers["ETag"] == accepted.headers["ETag"] != etag
    assert now.json()["protection_range"] == proposal["changes"]["protection_range"]
    again = client.post(f"{PROPOSALS}/{proposal['id']}/reject", headers=official, json={"comment": "no"})
    assert again.status_code == 409
    actions = [e["action"] for e in client.get(f"{url}/history", headers=surveyor).json()["entries"]]
    assert actions[-2:] == ["heritage.proposal.submitted", "heritage.proposal.accepted"]


def test_proposal_rejected_needs_a_comment_and_changes_nothing(client, cast) -> None:
    surveyor, official, admin = cast.headers("surveyor"), cast.headers("official"), cast.headers("admin")
    record, etag = listed(client, cast, "150602-0101")
    url = f"{BUILDINGS}/{record['id']}"
    proposal = client.patch(url, headers={**surveyor, "If-Match": etag}, json={"owner": "Somebody"}).json()
    silent = client.post(f"{PROPOSALS}/{proposal['id']}/reject", headers=official, json={})
    assert silent.status_code == 422
    rejected = client.post(f"{PROPOSALS}/{proposal['id']}/reject", headers=admin, json={"comment": "no evidence"})
    assert rejected.status_code == 200 and rejected.json()["state"] == "rejected"
    now = client.get(url, headers=surveyor)
    assert now.json()["owner"] == "Example owner" and now.headers["ETag"] == etag
    history = client.get(f"{url}/history", headers=surveyor).json()["entries"]
    assert history[-1]["action"] == "heritage.proposal.rejected" and history[-1]["after"]["comment"] == "no evidence"


def test_reviewers_edit_listed_records_directly_and_stale_accepts_get_412(client, cast) -> None:
    surveyor, official = cast.headers("surveyor"), cast.headers("official")
    record, etag = listed(client, cast, "150602-0102")
    url = f"{BUILDINGS}/{record['id']}"
    proposal = client.patch(url, headers={**surveyor, "If-Match": etag}, json={"storeys": 5}).json()
    direct = client.patch(url, headers={**official, "If-Match": etag}, json={"current_use": "museum"})
    assert direct.status_code == 200 and direct.json()["current_use"] == "museum"
    stale = client.post(f"{PROPOSALS}/{proposal['id']}/accept", headers={**official, "If-Match": etag}, json={})
    assert stale.status_code == 412
    assert client.get(f"{PROPOSALS}/{proposal['id']}", headers=official).json()["state"] == "pending"
    fresh = client.post(
        f"{PROPOSALS}/{proposal['id']}/accept", headers={**official, "If-Match": direct.headers["ETag"]}, json={}
    )
    assert fresh.status_code == 200
    final = client.get(url, headers=official).json()
    assert final["storeys"] == 5 and final["current_use"] == "museum"  # both edits kept
