"""The access-control matrix: each role against each route, allowed, 401, 403 or 404 as designed."""

from __future__ import annotations

import uuid

import pytest

from cim_platform.core.db.engine import session_scope
from cim_platform.core.jobs import service

ACTORS = [None, "viewer", "uploader_a", "uploader_b", "surveyor", "official", "admin"]


def _expect(allowed: set[str | None], denied: int = 403) -> dict[str | None, int]:
    return {actor: (200 if actor in allowed else 401 if actor is None else denied) for actor in ACTORS}


def test_own_account_needs_a_caller(client, cast) -> None:
    for actor in ACTORS:
        response = client.get("/api/v1/users/me", headers=cast.headers(actor))
        assert response.status_code == (401 if actor is None else 200), actor
        if actor:
            assert response.json()["username"] == actor


def test_health_and_me_are_open(client, cast) -> None:
    for actor in ACTORS:
        assert client.get("/health", headers=cast.headers(actor)).status_code == 200
        me = client.get("/api/v1/me", headers=cast.headers(actor))
        assert me.status_code == 200
        assert me.json()["role"] == (None if actor is None else me.json()["role"])
    assert client.get("/api/v1/me", headers=cast.headers("surveyor")).json()["role"] == "surveyor"


def test_bad_tokens_are_401(client, cast) -> None:
    for headers in ({"Authorization": "Bearer cim_nope"}, {"Authorization": "Basic abc"}, {"Authorization": "Bearer"}):
        response = client.get("/api/v1/me", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"] == "Bearer"
    assert client.get("/api/v1/me", params={"access_token": "cim_nope"}).status_code == 401
    token = cast.tokens["viewer"]
    assert client.get("/api/v1/me", params={"access_token": token}).json()["role"] == "viewer"


@pytest.mark.parametrize(
    ("method", "path", "body", "ok_status"),
    [
        ("GET", "/api/v1/organizations", None, 200),
        ("GET", "/api/v1/users", None, 200),
        ("GET", "/api/v1/tokens", None, 200),
        ("POST", "/api/v1/organizations", {"name": "New Institute {n}", "kind": "design_institute"}, 201),
        ("POST", "/api/v1/users", {"organization": "Ordos Survey Team", "username": "u{n}", "role": "viewer"}, 201),
        ("POST", "/api/v1/tokens", {"user": "viewer"}, 201),
    ],
)
def test_admin_routes(client, cast, method, path, body, ok_status) -> None:
    expected = _expect({"admin"})
    for n, actor in enumerate(ACTORS):
        payload = None if body is None else {k: v.format(n=n) if isinstance(v, str) else v for k, v in body.items()}
        response = client.request(method, path, json=payload, headers=cast.headers(actor))
        want = ok_status if expected[actor] == 200 else expected[actor]
        assert response.status_code == want, (actor, response.text)


def test_jobs_are_visible_to_their_organisation_only(client, settings, cast) -> None:
    engine = client.app.state.engine
    job_id = service.submit(
        settings,
        engine,
        "test.sleep",
        {"seconds": 1},
        organization_id=cast.orgs["institute_a"],
        user_id=cast.users["uploader_a"],
    )
    expected = {
        None: 401,
        "viewer": 403,
        "uploader_a": 200,
        "uploader_b": 404,
        "surveyor": 404,
        "official": 200,
        "admin": 200,
    }
    for actor, status in expected.items():
        assert client.get(f"/api/v1/jobs/{job_id}", headers=cast.headers(actor)).status_code == status, actor
    assert client.get(f"/api/v1/jobs/{uuid.uuid4()}", headers=cast.headers("admin")).status_code == 404
    listed = {
        actor: [j["id"] for j in client.get("/api/v1/jobs", headers=cast.headers(actor)).json()]
        for actor in ("uploader_a", "uploader_b", "official")
    }
    assert listed == {"uploader_a": [str(job_id)], "uploader_b": [], "official": [str(job_id)]}
    assert client.get("/api/v1/jobs", params={"state": "done"}, headers=cast.headers("admin")).status_code == 422
    assert client.get("/api/v1/jobs").status_code == 401
    # cancelling: the owner's organisation and admins; officials read but do not manage; others see nothing
    cancel = {None: 401, "viewer": 403, "uploader_b": 404, "official": 403, "uploader_a": 200}
    for actor, status in cancel.items():
        assert client.delete(f"/api/v1/jobs/{job_id}", headers=cast.headers(actor)).status_code == status, actor


def test_token_lifecycle(client, cast) -> None:
    created = client.post("/api/v1/tokens", json={"user": "surveyor", "name": "laptop"}, headers=cast.headers("admin"))
    assert created.status_code == 201
    secret, token_id = created.json()["token"], created.json()["id"]
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/me", headers=headers).json()["username"] == "surveyor"
    with session_scope(client.app.state.engine) as session:  # stored hashed, never in clear
        from cim_platform.accounts.models import ApiToken

        stored = session.get(ApiToken, uuid.UUID(token_id))
        assert stored.token_hash != secret and secret not in stored.token_hash and len(stored.token_hash) == 64
    # another user cannot revoke it (and does not learn it exists); its owner can
    assert client.delete(f"/api/v1/tokens/{token_id}", headers=cast.headers("uploader_a")).status_code == 404
    assert client.delete(f"/api/v1/tokens/{token_id}").status_code == 401
    assert client.delete(f"/api/v1/tokens/{token_id}", headers=headers).status_code == 200
    assert client.get("/api/v1/me", headers=headers).status_code == 401


LAS = __import__("pathlib").Path(__file__).resolve().parents[3] / "shared" / "corpus" / "survey" / "hexbin-crop.las"


def _upload(client, cast, actor, **fields):
    with LAS.open("rb") as handle:
        return client.post(
            "/api/v1/datasets",
            headers=cast.headers(actor),
            data={"name": "m", **fields},
            files={"file": (LAS.name, handle)},
        )


def test_dataset_routes(client, cast) -> None:
    upload_expected = {
        None: 401,
        "viewer": 403,
        "official": 403,
        "uploader_a": 202,
        "uploader_b": 202,
        "surveyor": 202,
        "admin": 202,
    }
    for actor, status in upload_expected.items():
        assert _upload(client, cast, actor).status_code == status, actor
    internal = _upload(client, cast, "uploader_a", visibility="internal").json()
    public = _upload(client, cast, "uploader_a", visibility="public").json()
    internal_id, public_id = internal["dataset"]["id"], public["dataset"]["id"]
    revision = internal["revision"]["id"]
    read_internal = {
        None: 404,
        "viewer": 200,
        "uploader_a": 200,
        "uploader_b": 404,
        "surveyor": 404,
        "official": 200,
        "admin": 200,
    }  # the viewer belongs to institute A
    for actor, status in read_internal.items():
        assert client.get(f"/api/v1/datasets/{internal_id}", headers=cast.headers(actor)).status_code == status, actor
        assert client.get(f"/api/v1/datasets/{public_id}", headers=cast.headers(actor)).status_code == 200, actor
    add_revision = {None: 401, "viewer": 403, "official": 403, "uploader_b": 404, "surveyor": 404}
    for actor, status in add_revision.items():
        with LAS.open("rb") as handle:
            response = client.post(
                f"/api/v1/datasets/{internal_id}/revisions",
                headers=cast.headers(actor),
                files={"file": (LAS.name, handle)},
            )
        assert response.status_code == status, actor
    # a public dataset of another organisation: visible, but not theirs to change
    with LAS.open("rb") as handle:
        response = client.post(
            f"/api/v1/datasets/{public_id}/revisions",
            headers=cast.headers("uploader_b"),
            files={"file": (LAS.name, handle)},
        )
    assert response.status_code == 403
    # publishing a revision that is not converted yet is a conflict, for those allowed to try
    publish = f"/api/v1/datasets/{internal_id}/revisions/{revision}/publish"
    expected_publish = {None: 401, "viewer": 403, "uploader_b": 404, "uploader_a": 409, "admin": 409}
    for actor, status in expected_publish.items():
        assert client.post(publish, headers=cast.headers(actor)).status_code == status, actor
    source = f"/api/v1/datasets/{public_id}/revisions/{public['revision']['id']}/source"
    source_expected = {None: 401, "uploader_b": 404, "uploader_a": 200, "official": 200}
    for actor, status in source_expected.items():
        assert client.get(source, headers=cast.headers(actor)).status_code == status, actor
    listed = {
        actor: {d["id"] for d in client.get("/api/v1/datasets", headers=cast.headers(actor)).json()["datasets"]}
        for actor in ("uploader_b", "official")
    }
    assert internal_id not in listed["uploader_b"] and public_id in listed["uploader_b"]
    assert {internal_id, public_id} <= listed["official"]


def test_domains_register_their_own_scopes() -> None:
    from cim_platform.core.access import Role, register_scopes, scopes_of

    register_scopes("example_domain", {"example:read", "example:write"}, {Role.viewer: {"example:read"}})
    assert "example:read" in scopes_of(Role.viewer) and "example:write" not in scopes_of(Role.viewer)
    assert {"example:read", "example:write"} <= scopes_of(Role.admin)
    with pytest.raises(ValueError, match="already declared"):
        register_scopes("other_domain", {"example:read"}, {})
    with pytest.raises(ValueError, match="already declared"):
        register_scopes("other_domain", {"datasets:read"}, {})  # a core scope
    with pytest.raises(ValueError, match="undeclared"):
        register_scopes("third_domain", {"third:read"}, {Role.viewer: {"third:write"}})
