"""The role matrix of every heritage route: anonymous, viewer, uploader, surveyor, official, admin."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.heritage import BUILDINGS, building_body, create, listed

ACTORS = [None, "viewer", "uploader_a", "surveyor", "official", "admin"]
PROPOSALS = "/api/v1/heritage/proposals"
GROUPS = "/api/v1/heritage/groups"


def _etag(client: Any, cast: Any, building_id: str) -> str:
    return str(client.get(f"{BUILDINGS}/{building_id}", headers=cast.headers("admin")).headers["ETag"])


def _expect(actor: str | None, allowed: dict[str, int], denied: int = 403) -> int:
    if actor in allowed:
        return allowed[actor]
    return 401 if actor is None else denied


@pytest.mark.parametrize("actor", ACTORS)
def test_role_matrix(client, cast, actor) -> None:
    h = cast.headers(actor)
    n = ACTORS.index(actor)
    draft, _ = create(client, cast.headers("surveyor"), f"R-{n}-draft")
    record, _ = listed(client, cast, f"R-{n}-listed")
    everyone = {a: 200 for a in ACTORS if a}
    writers = {"surveyor": 200, "admin": 200}
    reviewers = {"official": 200, "admin": 200}

    def status(method: str, url: str, **kwargs: Any) -> int:
        return int(client.request(method, url, headers={**h, **kwargs.pop("headers", {})}, **kwargs).status_code)

    # reading
    assert status("GET", BUILDINGS) == 200
    assert status("GET", f"{BUILDINGS}/{record['id']}") == 200
    assert status("GET", f"{BUILDINGS}/{draft['id']}") == (404 if actor is None else 200)
    assert status("GET", f"{BUILDINGS}/{record['id']}/history") == _expect(actor, everyone)
    assert status("GET", GROUPS) == 200
    assert status("GET", PROPOSALS) == _expect(actor, everyone)
    assert status("GET", "/api/v1/heritage/conflicts") == _expect(actor, everyone)
    # creating
    created = status("POST", BUILDINGS, json=building_body(f"R-{n}-new"))
    assert created == _expect(actor, {"surveyor": 201, "admin": 201})
    assert status("POST", GROUPS, json={"name": "示例 group"}) == _expect(actor, {"surveyor": 201, "admin": 201})
    # editing a draft, and a listed record (a surveyor's edit is a proposal)
    match = {"If-Match": _etag(client, cast, draft["id"])}
    edit = status("PATCH", f"{BUILDINGS}/{draft['id']}", headers=match, json={"storeys": 2})
    assert edit == _expect(actor, {**writers, **reviewers})
    match = {"If-Match": _etag(client, cast, record["id"])}
    edit = status("PATCH", f"{BUILDINGS}/{record['id']}", headers=match, json={"storeys": 3})
    assert edit == _expect(actor, {"surveyor": 202, **reviewers})
    # the workflow: submitting is a writer's step; reviewing a reviewer's
    match = {"If-Match": _etag(client, cast, draft["id"])}
    submit = status("POST", f"{BUILDINGS}/{draft['id']}/status", headers=match, json={"to": "submitted"})
    assert submit == _expect(actor, {**writers, **reviewers})
    # proposals: decided by reviewers
    for decision in ("accept", "reject"):
        surveyor = {**cast.headers("surveyor"), "If-Match": _etag(client, cast, record["id"])}
        proposal = client.patch(f"{BUILDINGS}/{record['id']}", headers=surveyor, json={"town": decision}).json()
        assert status("GET", f"{PROPOSALS}/{proposal['id']}") == _expect(actor, everyone)
        answer = status("POST", f"{PROPOSALS}/{proposal['id']}/{decision}", json={"comment": "ok"})
        assert answer == _expect(actor, reviewers)
    # retiring a listed record: reviewers
    match = {"If-Match": _etag(client, cast, record["id"])}
    retire = status("POST", f"{BUILDINGS}/{record['id']}/retire", headers=match, json={"reason": "test"})
    assert retire == _expect(actor, reviewers)


def test_signed_in_people_need_the_csrf_token(client, cast) -> None:
    csrf = cast.sign_in(client, "surveyor")
    refused = client.post(BUILDINGS, json=building_body("R-cookie"))
    assert refused.status_code == 403 and refused.json()["error"] == "csrf_failed"
    assert client.post(BUILDINGS, headers=csrf, json=building_body("R-cookie")).status_code == 201
