"""Hardening found by an attacker's probe (issue 18): bounded request headers, tokens never logged in
any spelling."""

from __future__ import annotations

import select
import socket
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from api.http_limits import MAX_HEADER_BYTES, MAX_HEADER_COUNT
from api.logging_filters import redact


def _raw_request(base: str, head: bytes, chunk: int = 8192) -> bytes:
    """Send ``head`` a piece at a time, reading whatever the server answers meanwhile (it answers 431 and
    closes before the client has sent everything, as a bounded server should)."""
    parts = urlsplit(base)
    answer = b""
    with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=30) as sock:
        for start in range(0, len(head), chunk):
            readable, _, _ = select.select([sock], [], [], 0.05)
            if readable:
                break
            try:
                sock.sendall(head[start : start + chunk])
            except (BrokenPipeError, ConnectionResetError):
                break
        try:
            while piece := sock.recv(65536):
                answer += piece
        except ConnectionResetError:
            pass
    return answer


def test_a_huge_header_is_refused_with_431(live_server: str) -> None:
    head = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (4 * MAX_HEADER_BYTES) + b"\r\n\r\n"
    answer = _raw_request(live_server, head)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert b"headers_too_large" in answer
    assert httpx.get(f"{live_server}/health", timeout=10).status_code == 200  # the server is unharmed


def test_too_many_header_fields_are_refused_with_431(live_server: str) -> None:
    fields = b"".join(b"X-F%d: v\r\n" % i for i in range(MAX_HEADER_COUNT + 5))
    answer = _raw_request(live_server, b"GET /health HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]


def test_ordinary_headers_pass(live_server: str) -> None:
    headers = {f"X-F{i}": "v" * 100 for i in range(MAX_HEADER_COUNT // 2)}
    assert httpx.get(f"{live_server}/health", headers=headers, timeout=10).status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        "access_token={t}",
        "access%5Ftoken={t}",
        "%61ccess_token={t}",
        "ACCESS_TOKEN={t}",
        "x=1&access%5ftoken={t}&y=2",
    ],
)
def test_redaction_after_decoding(query: str) -> None:
    token = "cim_" + "S3cr3t-Value_" * 3
    text = f'127.0.0.1:5 - "GET /tiles/a/tileset.json?{query.format(t=token)} HTTP/1.1" 200'
    redacted = redact(text)
    assert token not in redacted and "[redacted]" in redacted


def test_tokens_of_any_spelling_never_reach_the_server_log(cast, live_server: str, settings) -> None:
    token = cast.tokens["uploader_a"]  # the cast first: the server then finds its users
    for query in ("access_token", "access%5Ftoken", "%61ccess_token", "access%5ftoken"):
        answer = httpx.get(f"{live_server}/api/v1/datasets?{query}={token}", timeout=10)
        assert answer.status_code in (200, 401), answer.text
    answer = httpx.get(f"{live_server}/api/v1/me", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.status_code == 200
    log = Path(settings.resolved_data_dir / "server.log").read_text(encoding="utf-8", errors="replace")
    assert "/api/v1/datasets" in log  # the access log is there …
    assert token not in log and token[4:] not in log  # … without the token


def test_links_never_echo_the_host_header(client, cast) -> None:
    """Without CIM_PUBLIC_URL, OGC and job links are root-relative, whatever Host a client sends."""
    evil = {"Host": "attacker.invalid"}
    landing = client.get("/ogc", headers=evil).json()
    hrefs = [link["href"] for link in landing["links"]]
    assert hrefs and all(href.startswith("/") and "attacker" not in href for href in hrefs), hrefs
    assert {"/ogc", "/openapi.json", "/docs", "/ogc/conformance", "/ogc/collections"} <= set(hrefs)
    assert client.get("/ogc/collections", headers=evil).json()["links"][0]["href"] == "/ogc/collections"


def test_links_use_the_public_url_when_configured(settings) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app

    settings.public_url = "https://cim.example.gov.cn/"
    with TestClient(create_app(settings)) as client:
        hrefs = [link["href"] for link in client.get("/ogc", headers={"Host": "attacker.invalid"}).json()["links"]]
    assert all(href.startswith("https://cim.example.gov.cn/") for href in hrefs), hrefs


def test_originals_are_private_and_job_errors_show_no_server_paths(client, cast, settings) -> None:
    """Originals readable by the platform's user only (0400 files in 0700 folders); a job's error names
    paths relative to the data folder."""
    import stat

    from cim_platform.core.jobs.runner import without_server_paths
    from tests.support.http_api import upload

    sample = Path(__file__).resolve().parents[2] / "sample_models" / "survey" / "stele_scan_colour.ply"
    assert upload(client, cast.headers("surveyor"), sample, name="private").status_code == 202
    sources = settings.uploads_dir / "sources"
    for path in [settings.uploads_dir, sources, *sources.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, (path, oct(mode))
    inside = settings.resolved_data_dir / "work" / "rev-1" / "model.ifc"
    assert without_server_paths(f"{inside}: bad header", settings) == "work/rev-1/model.ifc: bad header"
    assert str(settings.resolved_data_dir) not in without_server_paths(f"in {settings.resolved_data_dir}", settings)
