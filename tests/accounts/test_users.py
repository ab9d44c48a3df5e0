"""Users and their passwords: admin routes (list, create, patch: role, disable, reset), self-service
(locale, password with the current one), token listing, the audit trail, the CLI and the bootstrap admin."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cim_platform.accounts import service as accounts
from cim_platform.accounts.models import User
from cim_platform.core.audit import AuditEntry
from cim_platform.core.db.engine import session_scope
from cim_platform.core.settings import Settings
from tests.support.accounts import Cast

ROOT = Path(__file__).resolve().parents[2]
ACTORS = [None, "viewer", "uploader_a", "uploader_b", "surveyor", "official", "admin"]


def _sign_in(client: TestClient, username: str, password: str) -> httpx.Response:
    return client.post("/api/v1/session", json={"username": username, "password": password})


def _audit(client: TestClient, object_id: str) -> list[AuditEntry]:
    with session_scope(client.app.state.engine) as session:  # type: ignore[attr-defined]
        return list(
            session.scalars(select(AuditEntry).where(AuditEntry.object_id == object_id).order_by(AuditEntry.id))
        )


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/users", None),
        ("GET", "/api/v1/tokens", None),
        ("GET", "/api/v1/tokens?user=viewer", None),
        ("PATCH", "/api/v1/users/{viewer}", {"display_name": "Viewer {n}"}),
    ],
)
def test_user_admin_routes_are_for_admins(client: TestClient, cast: Cast, method: str, path: str, body) -> None:  # type: ignore[no-untyped-def]
    for n, actor in enumerate(ACTORS):
        payload = None if body is None else {k: v.format(n=n) for k, v in body.items()}
        url = path.format(viewer=cast.users["viewer"])
        response = client.request(method, url, json=payload, headers=cast.headers(actor))
        expected = 200 if actor == "admin" else 401 if actor is None else 403
        assert response.status_code == expected, (actor, response.text)
    # also when signed in by cookie (with the CSRF token for PATCH)
    csrf = cast.sign_in(client, "official")
    response = client.request(method, path.format(viewer=cast.users["viewer"]), json=body and {}, headers=csrf)
    assert response.status_code == 403


def test_listing_users_and_tokens(client: TestClient, cast: Cast) -> None:
    admin = cast.headers("admin")
    users = client.get("/api/v1/users", headers=admin).json()
    assert {u["username"] for u in users} == set(ACTORS) - {None}
    viewer = next(u for u in users if u["username"] == "viewer")
    assert viewer["organization_name"] == "Ordos Architectural Design Institute"
    assert viewer["locale"] == "zh-CN" and viewer["disabled"] is False and viewer["has_password"] is False
    assert "password_hash" not in viewer
    survey = client.get("/api/v1/users", params={"organization": "Ordos Survey Team"}, headers=admin).json()
    assert [u["username"] for u in survey] == ["surveyor"]
    client.post("/api/v1/tokens", json={"user": "surveyor", "name": "laptop"}, headers=admin)
    tokens = client.get("/api/v1/tokens", params={"user": "surveyor"}, headers=admin).json()
    assert sorted(t["name"] for t in tokens) == ["", "laptop"]
    assert all(t["user_id"] == str(cast.users["surveyor"]) and "token" not in t for t in tokens)
    assert len(client.get("/api/v1/tokens", headers=admin).json()) == len(ACTORS)  # 6 of the cast + 1
    assert client.get("/api/v1/tokens", params={"user": "nobody"}, headers=admin).status_code == 404


def test_create_user_with_password(client: TestClient, cast: Cast) -> None:
    admin = cast.headers("admin")
    body = {"organization": "Ordos Survey Team", "username": "zhang.min", "role": "surveyor"}
    weak = client.post("/api/v1/users", json={**body, "password": "short"}, headers=admin)
    assert weak.status_code == 422
    assert weak.json()["error"] == "password_too_weak"
    assert weak.json()["params"]["min_length"] == 10 and weak.json()["params"]["reason"] == "too_short"
    same = client.post("/api/v1/users", json={**body, "username": "wang.xiaoming", "password": "Wang.XiaoMing"})
    assert same.status_code == 401  # (no token)
    same = client.post(
        "/api/v1/users", json={**body, "username": "wang.xiaoming", "password": "Wang.XiaoMing"}, headers=admin
    )
    assert same.status_code == 422 and same.json()["params"]["reason"] == "is_username"
    created = client.post("/api/v1/users", json={**body, "password": "steppe-wind-1985"}, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["has_password"] is True and created.json()["role"] == "surveyor"
    assert _sign_in(client, "zhang.min", "steppe-wind-1985").status_code == 200
    with session_scope(client.app.state.engine) as session:  # type: ignore[attr-defined]
        stored = session.scalar(select(User.password_hash).where(User.username == "zhang.min"))
        assert stored is not None and stored.startswith("$argon2id$") and "steppe" not in stored
    (entry,) = _audit(client, created.json()["id"])
    assert entry.action == "user.created" and entry.actor_username == "admin"
    assert entry.after is not None and entry.after["password"] == "changed" and entry.after["role"] == "surveyor"
    assert "password_hash" not in entry.after and stored not in str(entry.after)
    # without a password: created, but cannot sign in yet
    bare = client.post("/api/v1/users", json={**body, "username": "li.na"}, headers=admin)
    assert bare.status_code == 201 and bare.json()["has_password"] is False


def test_disabled_user_loses_sessions_and_tokens(client: TestClient, cast: Cast) -> None:
    password = cast.password("uploader_a")
    admin = cast.headers("admin")
    browser = TestClient(client.app)
    cast.sign_in(browser, "uploader_a")
    token = cast.headers("uploader_a")
    assert browser.get("/api/v1/me").json()["username"] == "uploader_a"
    assert client.get("/api/v1/me", headers=token).json()["username"] == "uploader_a"
    user = f"/api/v1/users/{cast.users['uploader_a']}"
    disabled = client.patch(user, json={"disabled": True}, headers=admin)
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True and disabled.json()["active"] is False
    assert browser.get("/api/v1/session").status_code == 401
    assert browser.get("/api/v1/me").json()["authenticated"] is False
    assert client.get("/api/v1/me", headers=token).status_code == 401
    refused = _sign_in(client, "uploader_a", password)
    assert refused.status_code == 403 and refused.json()["error"] == "account_disabled"
    assert _sign_in(client, "uploader_a", "wrong-password!").json()["error"] == "invalid_credentials"
    # enabled again: the token works again, the old session stays ended, a new sign-in works
    assert client.patch(user, json={"disabled": False}, headers=admin).json()["disabled"] is False
    assert client.get("/api/v1/me", headers=token).json()["username"] == "uploader_a"
    assert browser.get("/api/v1/session").status_code == 401
    assert _sign_in(client, "uploader_a", password).status_code == 200
    entries = [e for e in _audit(client, str(cast.users["uploader_a"])) if e.before and "active" in e.before]
    assert [(e.action, e.actor_username) for e in entries] == [("user.updated", "admin")] * 2
    assert [(e.before, e.after) for e in entries] == [
        ({"active": True}, {"active": False}),
        ({"active": False}, {"active": True}),
    ]


def test_admin_resets_password_and_changes_role(client: TestClient, cast: Cast) -> None:
    old = cast.password("surveyor")
    admin = cast.headers("admin")
    browser = TestClient(client.app)
    cast.sign_in(browser, "surveyor")
    user = f"/api/v1/users/{cast.users['surveyor']}"
    assert client.patch(user, json={"password": "short"}, headers=admin).json()["error"] == "password_too_weak"
    reset = client.patch(user, json={"password": "new-survey-password"}, headers=admin)
    assert reset.status_code == 200 and reset.json()["password_changed_at"]
    assert browser.get("/api/v1/session").status_code == 401  # the reset ended the sessions
    assert _sign_in(client, "surveyor", old).status_code == 401
    assert _sign_in(client, "surveyor", "new-survey-password").status_code == 200
    # a lower role applies to the user's existing tokens at once
    assert client.get("/api/v1/me", headers=cast.headers("surveyor")).json()["role"] == "surveyor"
    lowered = client.patch(user, json={"role": "viewer", "display_name": "Field surveyor"}, headers=admin)
    assert lowered.json()["role"] == "viewer" and lowered.json()["display_name"] == "Field surveyor"
    assert client.get("/api/v1/me", headers=cast.headers("surveyor")).json()["role"] == "viewer"
    assert client.patch(user, json={"role": "mayor"}, headers=admin).status_code == 422
    assert client.patch(user, json={"unknown": 1}, headers=admin).status_code == 422
    entries = [e for e in _audit(client, str(cast.users["surveyor"])) if e.action == "user.updated"]
    password_rows = [e for e in entries if e.after and "password" in e.after]
    assert password_rows and all(e.after == {"password": "changed"} for e in password_rows)  # type: ignore[union-attr]
    assert any(e.before == {"role": "surveyor", "display_name": "surveyor"} for e in entries)
    assert client.patch(f"/api/v1/users/{cast.users['admin']}", json={"disabled": True}, headers=admin).status_code == (
        409
    )  # the last admin stays
    assert client.patch(f"/api/v1/users/{cast.users['admin']}", json={"role": "viewer"}, headers=admin).status_code == (
        409
    )


def test_self_service_locale_and_password(client: TestClient, cast: Cast) -> None:
    old = cast.password("official")
    csrf = cast.sign_in(client, "official")
    other_browser = TestClient(client.app)
    cast.sign_in(other_browser, "official")
    me = client.get("/api/v1/users/me").json()
    assert me["username"] == "official" and me["locale"] == "zh-CN"
    assert client.patch("/api/v1/users/me", json={"locale": "en"}).status_code == 403  # CSRF
    changed = client.patch("/api/v1/users/me", json={"locale": "en", "display_name": "Wang Fang"}, headers=csrf)
    assert changed.status_code == 200 and changed.json()["locale"] == "en"
    assert client.get("/api/v1/session").json()["user"]["locale"] == "en"
    assert client.get("/api/v1/users/me", headers=cast.headers("official")).json()["display_name"] == "Wang Fang"
    assert client.patch("/api/v1/users/me", json={"locale": "fr"}, headers=csrf).status_code == 422
    # a new password needs the current one
    missing = client.patch("/api/v1/users/me", json={"new_password": "grassland-2027"}, headers=csrf)
    assert missing.status_code == 403 and missing.json()["error"] == "current_password_wrong"
    wrong = {"current_password": "not-it-at-all", "new_password": "grassland-2027"}
    assert client.patch("/api/v1/users/me", json=wrong, headers=csrf).json()["error"] == "current_password_wrong"
    weak = {"current_password": old, "new_password": "short"}
    assert client.patch("/api/v1/users/me", json=weak, headers=csrf).json()["error"] == "password_too_weak"
    good = {"current_password": old, "new_password": "grassland-2027"}
    assert client.patch("/api/v1/users/me", json=good, headers=csrf).status_code == 200
    assert client.get("/api/v1/session").status_code == 200  # this session goes on
    assert other_browser.get("/api/v1/session").status_code == 401  # the others end
    assert _sign_in(client, "official", old).status_code == 401
    assert _sign_in(client, "official", "grassland-2027").status_code == 200
    # anonymous callers have no "me"
    assert TestClient(client.app).get("/api/v1/users/me").status_code == 401


def test_wrong_current_passwords_count_as_failed_sign_ins(settings: Settings, cast: Cast) -> None:
    from api.app import create_app

    limited = settings.model_copy(update={"sign_in_max_failures_per_user": 2})
    cast.password("viewer")
    with TestClient(create_app(limited)) as client:
        headers = cast.headers("viewer")
        wrong = {"current_password": "guess-guess-guess", "new_password": "viewer-new-password"}
        for _ in range(2):
            assert client.patch("/api/v1/users/me", json=wrong, headers=headers).status_code == 403
        limited_answer = client.patch("/api/v1/users/me", json=wrong, headers=headers)
        assert limited_answer.status_code == 429 and limited_answer.json()["error"] == "too_many_attempts"


def test_token_and_organisation_changes_are_audited(client: TestClient, cast: Cast) -> None:
    admin = cast.headers("admin")
    org = client.post("/api/v1/organizations", json={"name": "Jungar Design Office"}, headers=admin).json()
    (created_org,) = _audit(client, org["id"])
    assert created_org.action == "organization.created" and created_org.after == {
        "name": "Jungar Design Office",
        "kind": "other",
    }
    token = client.post("/api/v1/tokens", json={"user": "viewer", "name": "tablet"}, headers=admin).json()
    assert client.delete(f"/api/v1/tokens/{token['id']}", headers=admin).status_code == 200
    created, revoked = _audit(client, token["id"])
    assert created.action == "token.created" and created.after is not None and created.after["name"] == "tablet"
    assert token["token"] not in str(created.after)
    assert revoked.action == "token.revoked" and revoked.before == {"revoked_at": None}
    assert revoked.actor_username == "admin" and revoked.actor_token_id is not None


def _cim(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CIM_")}
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        cwd=ROOT,
        env={**base, **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_passwords(settings: Settings, client: TestClient, cast: Cast) -> None:
    env = {"CIM_DATABASE_URL": settings.database_url or ""}
    created = _cim(
        "admin",
        "create-user",
        "gao.yan",
        "--org",
        "Ordos Survey Team",
        "--role",
        "surveyor",
        "--password-stdin",
        env=env,
        stdin="ordos-survey-2026\n",
    )
    assert created.returncode == 0, created.stderr
    assert _sign_in(client, "gao.yan", "ordos-survey-2026").status_code == 200
    changed = _cim("admin", "set-password", "gao.yan", "--password-stdin", env=env, stdin="kangbashi-2027\n")
    assert changed.returncode == 0, changed.stderr
    assert _sign_in(client, "gao.yan", "ordos-survey-2026").status_code == 401
    assert _sign_in(client, "gao.yan", "kangbashi-2027").status_code == 200
    weak = _cim("admin", "set-password", "gao.yan", "--password-stdin", env=env, stdin="short\n")
    assert weak.returncode == 2 and len(weak.stderr.strip().splitlines()) == 1 and "at least 10" in weak.stderr
    unknown = _cim("admin", "set-password", "nobody", "--password-stdin", env=env, stdin="kangbashi-2027\n")
    assert unknown.returncode == 2 and "no user 'nobody'" in unknown.stderr
    # asked twice on a terminal: typer's prompt reads both from stdin here
    prompted = _cim("admin", "set-password", "gao.yan", env=env, stdin="dalad-banner-9\ndalad-banner-9\n")
    assert prompted.returncode == 0, prompted.stdout + prompted.stderr
    assert _sign_in(client, "gao.yan", "dalad-banner-9").status_code == 200


def test_bootstrap_admin_gets_a_password_once(settings: Settings, live_server: str) -> None:
    log = (settings.resolved_data_dir / "server.log").read_text()
    token = re.search(r"admin token \(shown once, store it now\): (\S+)", log)
    password = re.search(r"sign in as 'admin' with the password \(shown once\): (\S+)", log)
    assert token and password, log
    with httpx.Client(base_url=live_server) as browser:
        signed_in = browser.post("/api/v1/session", json={"username": "admin", "password": password[1]})
        assert signed_in.status_code == 200 and signed_in.json()["user"]["role"] == "admin"
        assert browser.get("/api/v1/users").status_code == 200
    assert httpx.get(f"{live_server}/api/v1/me", headers={"Authorization": f"Bearer {token[1]}"}).json()["role"] == (
        "admin"
    )
    secret = settings.resolved_data_dir / "session_secret"
    assert secret.exists() and secret.stat().st_mode & 0o077 == 0
    with session_scope(_engine(settings)) as session:  # a second start creates nothing
        assert accounts.bootstrap_admin(session, settings.bootstrap_org) is None


def _engine(settings: Settings):  # type: ignore[no-untyped-def]
    from cim_platform.core.db.engine import get_engine

    return get_engine(settings)
