"""/metrics (Prometheus text format) and JSON log lines."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from cim_platform.core.caches import ByteLRU
from cim_platform.core.db.engine import session_scope
from cim_platform.core.jobs.models import Job
from cim_platform.core.logs import JsonFormatter, RequestIdFilter
from cim_platform.core.request_context import reset_request_id, set_request_id
from cim_platform.core.settings import Settings
from tests.support import postgis
from tests.support.http_api import upload
from tests.support.waiting import wait_for

LOOPBACK = ("127.0.0.1", 40000)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def local_client(settings: Settings) -> Iterator[TestClient]:
    """The app as seen from a loopback address (the default allow-list)."""
    from api.app import create_app

    with TestClient(create_app(settings), client=LOOPBACK) as test_client:
        yield test_client


def scrape(client: TestClient, **headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


def test_requests_counted_by_route_template(local_client: TestClient) -> None:
    client = local_client
    before = scrape(client)
    missing = uuid.uuid4()
    for _ in range(3):
        assert client.get("/health").status_code == 200
    assert client.get(f"/api/v1/datasets/{missing}").status_code == 404
    assert client.get(f"/api/v1/datasets/{uuid.uuid4()}").status_code == 404
    assert client.get("/no/such/route/anywhere").status_code == 404
    after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("cim_http_requests_total", method="GET", route="/health", status="200") == 3
    template = "/api/v1/datasets/{dataset_id}"
    assert delta("cim_http_requests_total", method="GET", route=template, status="404") == 2
    assert delta("cim_http_request_duration_seconds_count", method="GET", route=template) == 2
    assert delta("cim_http_request_duration_seconds_bucket", method="GET", route="/health", le="+Inf") == 3
    assert delta("cim_http_request_duration_seconds_sum", method="GET", route="/health") > 0
    routes = {dict(labels).get("route") for (name, labels) in after if name == "cim_http_requests_total"}
    assert not any(str(missing) in str(route) for route in routes)  # never a raw path
    assert "/no/such/route/anywhere" not in routes
    assert delta("cim_http_requests_total", method="GET", route="<unmatched>", status="404") == 1
    assert "/metrics" in routes  # the first scrape was counted too


def test_jobs_queue_and_cache_metrics(local_client: TestClient, cast, tmp_path: Path) -> None:
    client = local_client
    obj = tmp_path / "triangle.obj"
    obj.write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
    response = upload(client, cast.headers("uploader_a"), obj, name="Queued", kind="mesh")
    assert response.status_code == 202, response.text  # no worker: the job waits in the queue
    now = datetime.now(UTC)
    with session_scope(client.app.state.engine) as session:
        for seconds, state in [(3.0, "succeeded"), (45.0, "succeeded"), (7200.0, "failed")]:
            session.add(
                Job(
                    task="metrics_probe",
                    params={},
                    state=state,
                    started_at=now - timedelta(seconds=seconds),
                    finished_at=now,
                )
            )
        session.add(Job(task="metrics_probe", params={}, state="running", started_at=now))
    found = scrape(client)
    assert value(found, "cim_metrics_database_up") == 1
    convert = response.json()["job"]
    with session_scope(client.app.state.engine) as session:
        kind = session.get(Job, uuid.UUID(convert["id"])).task  # type: ignore[union-attr]
    assert value(found, "cim_jobs", kind=kind, state="queued") == 1
    assert value(found, "cim_jobs", kind=kind, state="succeeded") == 0  # every state is reported
    assert value(found, "cim_jobs", kind="metrics_probe", state="succeeded") == 2
    assert value(found, "cim_jobs", kind="metrics_probe", state="running") == 1
    assert sum(v for (name, _), v in found.items() if name == "cim_job_queue_depth") >= 1
    labels = {"kind": "metrics_probe", "state": "succeeded"}
    assert value(found, "cim_job_duration_seconds_count", **labels) == 2
    assert value(found, "cim_job_duration_seconds_bucket", **labels, le="5.0") == 1
    assert value(found, "cim_job_duration_seconds_bucket", **labels, le="60.0") == 2
    assert 47 < value(found, "cim_job_duration_seconds_sum", **labels) < 49
    failed = {"kind": "metrics_probe", "state": "failed"}
    assert value(found, "cim_job_duration_seconds_bucket", **failed, le="3600.0") == 0
    assert value(found, "cim_job_duration_seconds_bucket", **failed, le="+Inf") == 1
    # the tile cache counts its hits and misses
    assert any(name == "cim_cache_lookups_total" for name, _ in found)


def test_byte_lru_counts_hits_and_misses() -> None:
    cache: ByteLRU[str, bytes] = ByteLRU(1024, len, name="probe")

    def count(result: str) -> float:
        return REGISTRY.get_sample_value("cim_cache_lookups_total", {"cache": "probe", "result": result}) or 0.0

    hits, misses = count("hit"), count("miss")
    assert cache.get("a") is None
    cache.put("a", b"abc")
    assert cache.get("a") == b"abc" and cache.get("a") == b"abc"
    assert count("miss") - misses == 1 and count("hit") - hits == 2


def test_access_restricted(settings: Settings, cast) -> None:
    from api.app import create_app

    settings.metrics_allow = ["10.20.30.40/32", "192.168.0.0/16"]
    settings.metrics_token = "scrape-secret-0123456789"
    with TestClient(create_app(settings), client=LOOPBACK) as client:
        refused = client.get("/metrics")
        assert refused.status_code == 403 and "CIM_METRICS_ALLOW" in refused.text
        assert client.get("/metrics", headers=cast.headers("uploader_a")).status_code == 403
        assert client.get("/metrics", headers=cast.headers("official")).status_code == 403
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code in (401, 403)
        assert client.get("/metrics", headers=cast.headers("admin")).status_code == 200
        assert client.get("/metrics", headers={"Authorization": "Bearer scrape-secret-0123456789"}).status_code == 200
    with TestClient(create_app(settings), client=("192.168.7.9", 5000)) as inside:
        assert inside.get("/metrics").status_code == 200
    with TestClient(create_app(settings)) as not_an_address:  # "testclient" is no IP address
        assert not_an_address.get("/metrics").status_code == 403
    settings.metrics_allow = ["not-a-network"]
    from cim_platform.core.errors import SetupError

    with pytest.raises(SetupError, match="CIM_METRICS_ALLOW"):
        create_app(settings)


def test_json_formatter_carries_the_request_id() -> None:
    record = logging.LogRecord("cim.test", logging.WARNING, __file__, 1, "disk at %d%%", (93,), None)
    token = set_request_id("req-123")
    try:
        RequestIdFilter().filter(record)
    finally:
        reset_request_id(token)
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "WARNING" and line["logger"] == "cim.test" and line["message"] == "disk at 93%"
    assert line["request_id"] == "req-123" and datetime.fromisoformat(line["time"]).tzinfo is not None
    try:
        raise ValueError("boom")
    except ValueError:
        import sys as _sys

        failed = logging.LogRecord("cim.test", logging.ERROR, __file__, 1, "failed", (), _sys.exc_info())
    parsed = json.loads(JsonFormatter().format(failed))
    assert parsed["request_id"] is None and "ValueError: boom" in parsed["exception"]


def _serve(settings: Settings, *args: str, **env: str) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = postgis.free_port()
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    log = settings.resolved_data_dir / f"server-{port}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port), *args],
        env=postgis.subprocess_env(settings.database_url or "", settings.resolved_data_dir, **env),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if process.poll() is not None:
            pytest.fail(f"the server exited: {log.read_text()[-2000:]}")
        try:
            return httpx.get(f"{base}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(up, timeout=180)  # several processes on a busy machine take a while
    except BaseException:
        _stop(process)
        raise
    return process, base, log


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def test_json_logs_from_the_server(settings: Settings) -> None:
    process, base, log = _serve(settings, CIM_LOG_FORMAT="json")
    try:
        answer = httpx.get(f"{base}/health", headers={"X-Request-ID": "trace-json-1"}, timeout=10)
        assert answer.headers["x-request-id"] == "trace-json-1"

        def logged() -> list[dict[str, object]] | None:
            lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
            return lines if any(line.get("request_id") == "trace-json-1" for line in lines) else None

        lines = wait_for(logged, timeout=20)
    finally:
        _stop(process)
    for line in lines:
        assert {"time", "level", "logger", "message", "request_id"} <= set(line)
    access = [line for line in lines if line["request_id"] == "trace-json-1"]
    assert access[0]["logger"] == "uvicorn.access" and "GET /health" in str(access[0]["message"])
    assert any(line["logger"] == "uvicorn.error" for line in lines)  # the server's own lines are JSON too
    # every line of the server's loggers is JSON (the CLI's own first-start messages are not log lines)
    text_lines = [line for line in log.read_text().splitlines() if line.strip() and not line.startswith("{")]
    assert all(line.startswith("first start") for line in text_lines), text_lines


def test_several_processes_answer_for_all(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "prometheus"
    folder.mkdir()
    process, base, _ = _serve(settings, "--workers", "2", PROMETHEUS_MULTIPROC_DIR=str(folder))
    try:
        for _ in range(20):  # a new connection each time: both processes get some
            assert httpx.get(f"{base}/api/v1/districts", timeout=10).status_code == 200

        def total() -> float:
            found = samples(httpx.get(f"{base}/metrics", timeout=10).text)
            return value(found, "cim_http_requests_total", method="GET", route="/api/v1/districts", status="200")

        readings = {total() for _ in range(6)}
    finally:
        _stop(process)
    assert readings == {20.0}  # whichever process answered the scrape
