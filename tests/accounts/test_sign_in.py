"""Sign-in for people: the session cookie, CSRF, sign-out, failed sign-ins limited across processes,
the signing key."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from cim_platform.accounts import sessions
from cim_platform.accounts.errors import WeakSessionSecret
from cim_platform.accounts.models import UserSession
from cim_platform.core.db.engine import session_scope
from cim_platform.core.settings import Settings
from tests.support.accounts import Cast
from tests.support.http_api import upload, wait_job
from tests.support.postgis import free_port

ROOT = Path(__file__).resolve().parents[2]
LAS = ROOT.parent / "shared" / "corpus" / "survey" / "hexbin-crop.las"
USER_KEYS = {"id", "username", "display_name", "role", "organization_id", "organization_name", "locale", "scopes"}


def _set_cookie(response) -> SimpleCookie:  # type: ignore[no-untyped-def]
    cookie: SimpleCookie = SimpleCookie()
    for header in response.headers.get_list("set-cookie"):
        cookie.load(header)
    return cookie


def _cookie_attributes(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The attributes of the Set-Cookie header of cim_session, lower-cased names."""
    (header,) = [h for h in response.headers.get_list("set-cookie") if h.startswith("cim_session=")]
    attributes: dict[str, str] = {}
    for part in header.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        attributes[name.lower()] = value
    return attributes


def _app_client(settings: Settings, **kwargs: object) -> TestClient:
    from api.app import create_app

    return TestClient(create_app(settings), **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def other_client(settings: Settings) -> Iterator[TestClient]:
    """A second app instance (as another server process would be) on the same database."""
    with _app_client(settings) as client:
        yield client


def test_sign_in_cookie_session_and_sign_out(client: TestClient, cast: Cast) -> None:
    password = cast.password("surveyor")
    response = client.post("/api/v1/session", json={"username": "surveyor", "password": password})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body["user"]) == USER_KEYS
    assert body["user"]["username"] == "surveyor" and body["user"]["role"] == "surveyor"
    assert body["user"]["organization_name"] == "Ordos Survey Team" and body["user"]["locale"] == "zh-CN"
    assert "heritage:write" in body["user"]["scopes"] and "audit:read" not in body["user"]["scopes"]
    assert body["csrf_token"] and body["expires_at"]
    attributes = _cookie_attributes(response)
    assert "httponly" in attributes and attributes["samesite"].lower() == "lax" and attributes["path"] == "/"
    assert "secure" not in attributes  # plain http
    cookie_value = _set_cookie(response)["cim_session"].value
    assert password not in cookie_value
    # the cookie alone signs the browser in, for GET routes
    again = client.get("/api/v1/session").json()
    assert {k: again[k] for k in ("user", "csrf_token", "expires_at")} == {
        k: body[k] for k in ("user", "csrf_token", "expires_at")
    }
    me = client.get("/api/v1/me").json()
    assert me["authenticated"] and me["username"] == "surveyor"
    # stored server-side, by hash only
    with session_scope(client.app.state.engine) as session:  # type: ignore[attr-defined]
        row = session.scalar(select(UserSession).where(UserSession.user_id == cast.users["surveyor"]))
        assert row is not None and row.revoked_at is None
        assert row.key_hash not in cookie_value and len(row.key_hash) == 64
    # sign-out needs the CSRF token like every state-changing request of a cookie session
    refused = client.delete("/api/v1/session")
    assert refused.status_code == 403 and refused.json()["error"] == "csrf_failed"
    out = client.delete("/api/v1/session", headers={"X-CSRF-Token": body["csrf_token"]})
    assert out.status_code == 204
    assert _cookie_attributes(out).get("max-age") == "0"
    assert client.get("/api/v1/session").status_code == 401
    assert client.get("/api/v1/session").json()["error"] == "not_signed_in"
    # a copy of the old cookie signs in nobody any more (revoked server-side)
    client.cookies.set("cim_session", cookie_value)
    assert client.get("/api/v1/session").status_code == 401
    assert client.get("/api/v1/me").json()["authenticated"] is False
    with session_scope(client.app.state.engine) as session:  # type: ignore[attr-defined]
        assert session.scalar(select(UserSession.revoked_at).where(UserSession.user_id == cast.users["surveyor"]))
    # signing out again is harmless
    client.cookies.clear()
    assert client.delete("/api/v1/session").status_code == 204


def test_forged_or_tampered_cookies_sign_in_nobody(client: TestClient, cast: Cast) -> None:
    cast.sign_in(client, "official")
    value = client.cookies["cim_session"]
    key, _, signature = value.rpartition(".")
    for forged in (f"{key}.{'A' * len(signature)}", f"x{key}.{signature}", key, "garbage", ""):
        client.cookies.clear()
        client.cookies.set("cim_session", forged)
        assert client.get("/api/v1/session").status_code == 401, forged
        assert client.get("/api/v1/me").json()["authenticated"] is False


def test_secure_cookie_over_https(settings: Settings, cast: Cast) -> None:
    password = cast.password("viewer")
    credentials = {"username": "viewer", "password": password}
    with _app_client(settings, base_url="https://testserver") as https:
        assert "secure" in _cookie_attributes(https.post("/api/v1/session", json=credentials))
    forwarded = {"X-Forwarded-Proto": "https"}
    with _app_client(settings) as plain:  # no CIM_PUBLIC_URL: the header is not trusted
        assert "secure" not in _cookie_attributes(plain.post("/api/v1/session", json=credentials, headers=forwarded))
    behind_proxy = settings.model_copy(update={"public_url": "https://cim.ordos.example"})
    with _app_client(behind_proxy) as proxied:
        assert "secure" in _cookie_attributes(proxied.post("/api/v1/session", json=credentials, headers=forwarded))
        assert "secure" not in _cookie_attributes(proxied.post("/api/v1/session", json=credentials))


def test_csrf_for_cookie_writes_not_for_tokens(client: TestClient, cast: Cast) -> None:
    csrf = cast.sign_in(client, "admin")
    org = {"name": "Dongsheng Survey Office", "kind": "survey_team"}
    refused = client.post("/api/v1/organizations", json=org)
    assert refused.status_code == 403 and refused.json()["error"] == "csrf_failed"
    assert set(refused.json()) == {"error", "detail", "params"} or set(refused.json()) == {"error", "detail"}
    wrong = client.post("/api/v1/organizations", json=org, headers={"X-CSRF-Token": csrf["X-CSRF-Token"] + "x"})
    assert wrong.status_code == 403
    assert client.post("/api/v1/organizations", json=org, headers=csrf).status_code == 201
    # PATCH and DELETE too
    patch = {"display_name": "Survey lead"}
    user = f"/api/v1/users/{cast.users['surveyor']}"
    assert client.patch(user, json=patch).status_code == 403
    assert client.patch(user, json=patch, headers=csrf).status_code == 200
    token = client.post("/api/v1/tokens", json={"user": "surveyor"}, headers=csrf).json()
    assert client.delete(f"/api/v1/tokens/{token['id']}").status_code == 403
    assert client.delete(f"/api/v1/tokens/{token['id']}", headers=csrf).status_code == 200
    # GET needs none; a Bearer token needs none (and wins over the cookie)
    assert client.get("/api/v1/organizations").status_code == 200
    bearer = client.post("/api/v1/organizations", json={"name": "Uxin Survey Office"}, headers=cast.headers("admin"))
    assert bearer.status_code == 201
    as_viewer = client.post("/api/v1/organizations", json={"name": "X"}, headers=cast.headers("viewer"))
    assert as_viewer.status_code == 403 and as_viewer.json()["error"] == "forbidden"


def test_wrong_password_and_unknown_user_answer_alike(client: TestClient, cast: Cast) -> None:
    cast.password("uploader_a")
    answers: dict[str, set[tuple[int, str]]] = {"uploader_a": set(), "nobody-here": set()}
    timings: dict[str, list[float]] = {"uploader_a": [], "nobody-here": []}
    for _ in range(3):  # 3 failures each: below the per-user limit
        for username in answers:
            started = time.perf_counter()
            response = client.post("/api/v1/session", json={"username": username, "password": "not-the-password"})
            timings[username].append(time.perf_counter() - started)
            answers[username].add((response.status_code, response.text))
            assert "cim_session" not in response.headers.get("set-cookie", "")
    assert answers["uploader_a"] == answers["nobody-here"] and len(answers["uploader_a"]) == 1
    status, text = next(iter(answers["uploader_a"]))
    assert status == 401 and '"invalid_credentials"' in text and "wrong username or password" in text
    # both check a hash (the unknown user a dummy one): neither answer is much quicker
    known, unknown = sorted(timings["uploader_a"])[1], sorted(timings["nobody-here"])[1]
    assert 0.5 < known / unknown < 2, timings
    # a user without a password cannot sign in; nor with an empty password
    assert client.post("/api/v1/session", json={"username": "viewer", "password": ""}).status_code == 401


def test_signing_in_again_replaces_the_session(client: TestClient, cast: Cast) -> None:
    cast.sign_in(client, "viewer")
    first = client.cookies["cim_session"]
    response = client.post("/api/v1/session", json={"username": "viewer", "password": cast.password("viewer")})
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    assert client.cookies["cim_session"] != first
    assert client.get("/api/v1/session").headers["cache-control"] == "no-store"
    with TestClient(client.app) as old_browser:  # type: ignore[arg-type]
        old_browser.cookies.set("cim_session", first)
        assert old_browser.get("/api/v1/session").status_code == 401


def test_failed_sign_ins_limited_per_user_across_processes(
    settings: Settings, cast: Cast, caplog: pytest.LogCaptureFixture
) -> None:
    limited = settings.model_copy(update={"sign_in_max_failures_per_user": 3, "sign_in_max_failures_per_address": 50})
    password = cast.password("uploader_b")
    wrong = {"username": "uploader_b", "password": "guess-number-one"}
    with _app_client(limited) as first, _app_client(limited, client=("10.0.0.2", 4000)) as second:
        with caplog.at_level("WARNING", logger="cim_platform.accounts.sign_in"):
            assert first.post("/api/v1/session", json=wrong).status_code == 401
            assert second.post("/api/v1/session", json=wrong).status_code == 401
            assert first.post("/api/v1/session", json=wrong).status_code == 401
            refused = second.post("/api/v1/session", json=wrong)
        assert refused.status_code == 429
        assert refused.json()["error"] == "too_many_attempts" and refused.json()["params"]["scope"] == "username"
        assert 0 < int(refused.headers["retry-after"]) <= limited.sign_in_window_s + 1
        # even the right password waits now, in any process
        right = {"username": "uploader_b", "password": password}
        assert first.post("/api/v1/session", json=right).status_code == 429
        # other users are not affected
        assert first.post(
            "/api/v1/session", json={"username": "viewer", "password": cast.password("viewer")}
        ).is_success
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "uploader_b" in logged and "10.0.0.2" in logged and "guess-number-one" not in logged


def test_failed_sign_ins_limited_per_address(settings: Settings, cast: Cast) -> None:
    limited = settings.model_copy(update={"sign_in_max_failures_per_user": 50, "sign_in_max_failures_per_address": 4})
    viewer = {"username": "viewer", "password": cast.password("viewer")}
    with (
        _app_client(limited, client=("192.0.2.7", 1)) as first,
        _app_client(limited, client=("192.0.2.7", 2)) as second,
    ):
        for n in range(4):
            client = first if n % 2 else second
            assert (
                client.post("/api/v1/session", json={"username": f"guess{n}", "password": "x" * 12}).status_code == 401
            )
        refused = first.post("/api/v1/session", json=viewer)
        assert refused.status_code == 429 and refused.json()["params"]["scope"] == "address"
        assert "retry-after" in refused.headers
    with _app_client(limited, client=("192.0.2.8", 1)) as elsewhere:
        assert elsewhere.post("/api/v1/session", json=viewer).status_code == 200


def test_failures_expire_with_the_window(settings: Settings, cast: Cast) -> None:
    limited = settings.model_copy(update={"sign_in_max_failures_per_user": 2, "sign_in_window_s": 1.5})
    wrong = {"username": "official", "password": "wrong-password"}
    with _app_client(limited) as client:
        for _ in range(2):
            assert client.post("/api/v1/session", json=wrong).status_code == 401
        assert client.post("/api/v1/session", json=wrong).status_code == 429
        time.sleep(1.6)
        right = {"username": "official", "password": cast.password("official")}
        assert client.post("/api/v1/session", json=right).status_code == 200


def test_sessions_expire_idle_and_absolute(settings: Settings, cast: Cast) -> None:
    password = cast.password("surveyor")
    credentials = {"username": "surveyor", "password": password}
    idle = settings.model_copy(update={"session_idle_timeout_s": 1.0, "tile_access_ttl_s": 0.0})
    with _app_client(idle) as client:
        assert client.post("/api/v1/session", json=credentials).status_code == 200
        assert client.get("/api/v1/session").status_code == 200
        time.sleep(1.3)
        assert client.get("/api/v1/session").status_code == 401
        assert client.get("/api/v1/me").json()["authenticated"] is False
    short = settings.model_copy(update={"session_max_age_s": 1.0, "tile_access_ttl_s": 0.0})
    with _app_client(short) as client:
        response = client.post("/api/v1/session", json=credentials)
        assert _cookie_attributes(response)["max-age"] == "1"
        time.sleep(1.3)
        client.cookies.set("cim_session", _set_cookie(response)["cim_session"].value)  # a browser ignoring Max-Age
        assert client.get("/api/v1/session").status_code == 401


def test_sign_out_reaches_other_processes_within_the_ttl(
    client: TestClient, other_client: TestClient, cast: Cast
) -> None:
    csrf = cast.sign_in(client, "uploader_a")
    other_client.cookies.set("cim_session", client.cookies["cim_session"])
    assert other_client.get("/api/v1/me").json()["username"] == "uploader_a"  # now cached in the other process
    assert client.delete("/api/v1/session", headers=csrf).status_code == 204
    ttl = client.app.state.settings.tile_access_ttl_s  # type: ignore[attr-defined]
    time.sleep(ttl + 0.2)
    assert other_client.get("/api/v1/me").json()["authenticated"] is False


def test_cookie_reads_internal_datasets_and_tiles(client: TestClient, cast: Cast, start_worker) -> None:  # type: ignore[no-untyped-def]
    start_worker()
    headers = cast.headers("surveyor")
    response = upload(client, headers, LAS, name="Survey by cookie", visibility="internal")
    assert response.status_code == 202, response.text
    assert wait_job(client, headers, response.json()["job"]["href"])["state"] == "succeeded"
    dataset_id = response.json()["dataset"]["id"]
    tileset = f"/tiles/{dataset_id}/tileset.json"
    assert client.get(tileset).status_code == 404  # internal: nobody signed in sees nothing
    cast.sign_in(client, "surveyor")
    assert client.get(f"/api/v1/datasets/{dataset_id}").status_code == 200
    entry = client.get(tileset)
    assert entry.status_code == 200
    assert client.head(tileset).status_code == 200
    content = next(iter(_content_uris(entry.json()["root"])))
    pinned = client.get(f"/tiles/{dataset_id}/{content}" if not content.startswith("/") else content)
    assert pinned.status_code == 200, pinned.text
    # another organisation's person, signed in by cookie, does not see it
    client.cookies.clear()
    cast.sign_in(client, "uploader_b")
    assert client.get(tileset).status_code == 404
    assert client.get(f"/api/v1/datasets/{dataset_id}").status_code == 404


def _content_uris(tile: dict[str, object]) -> Iterator[str]:
    content = tile.get("content")
    if isinstance(content, dict):
        yield str(content["uri"])
    for child in tile.get("children", []) or []:  # type: ignore[union-attr]
        yield from _content_uris(child)


def test_generated_secret_is_private_and_reused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", database_url="postgresql://unused@127.0.0.1/x")
    keys = sessions.load_session_keys(settings)
    path = tmp_path / "data" / "session_secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(keys.secret) >= 32
    assert sessions.load_session_keys(settings) == keys  # reused, not regenerated
    assert sessions.load_session_keys(Settings(data_dir=tmp_path / "other", database_url="postgresql://x@y/z")) != keys
    assert not [p for p in path.parent.iterdir() if p.name != "session_secret"]  # no temporary left


@pytest.mark.parametrize(
    "secret", ["changeme", "secret", "CHANGEME", "short-but-random-9f3k", "a" * 40, "changeme" * 5]
)
def test_weak_secrets_are_refused(tmp_path: Path, secret: str) -> None:
    with pytest.raises(WeakSessionSecret):
        sessions.load_session_keys(Settings(data_dir=tmp_path, session_secret=secret))


def test_a_strong_secret_from_settings_is_used(tmp_path: Path) -> None:
    secret = "Jx8-qQ2vN0pLr7sT4uW1yZ3aB6cD9eF5gH0iK2mO"
    keys = sessions.load_session_keys(Settings(data_dir=tmp_path / "d", session_secret=secret))
    assert keys.secret == secret.encode() and not (tmp_path / "d" / "session_secret").exists()


def _cim(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CIM_")}
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_server_refuses_a_weak_key(settings: Settings, tmp_path: Path) -> None:
    env = {
        "CIM_DATABASE_URL": settings.database_url or "",
        "CIM_DATA_DIR": str(tmp_path),
        "CIM_SESSION_SECRET": "changeme",
    }
    result = _cim("serve", "--port", str(free_port()), env=env)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "CIM_SESSION_SECRET" in lines[0] and "known default" in lines[0], result.stderr
