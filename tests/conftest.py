"""Fixtures: a real PostGIS for the session, a fresh migrated database per test, the API and workers."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cim_platform.core.pgcluster import PrivateCluster
from cim_platform.core.settings import Settings
from tests.support import postgis


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PrivateCluster]:
    with postgis.test_cluster() as cluster:
        postgis.create_template(cluster)
        yield cluster


@pytest.fixture
def database_url(pg_cluster: PrivateCluster) -> Iterator[str]:
    name = postgis.create_database(pg_cluster)
    yield pg_cluster.url(name)
    from cim_platform.core.db.engine import _engine_for, sqlalchemy_url

    _engine_for(sqlalchemy_url(pg_cluster.url(name))).dispose()
    postgis.drop_database(pg_cluster, name)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        worker_heartbeat_s=1.0,
        stalled_worker_timeout_s=3.0,
        max_upload_bytes=64 * 1024 * 1024,
        job_import_paths=["tests.support.demo_tasks"],
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    from api.app import create_app

    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def start_worker(settings: Settings) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    """Starts real `cim worker` processes against the test database; all are stopped at the end."""
    processes: list[subprocess.Popen[bytes]] = []
    env = postgis.subprocess_env(
        settings.database_url or "",
        settings.resolved_data_dir,
        CIM_WORKER_HEARTBEAT_S=str(settings.worker_heartbeat_s),
        CIM_STALLED_WORKER_TIMEOUT_S=str(settings.stalled_worker_timeout_s),
        CIM_JOB_IMPORT_PATHS='["tests.support.demo_tasks"]',
    )

    def start() -> subprocess.Popen[bytes]:
        log = open(settings.resolved_data_dir / f"worker-{len(processes)}.log", "wb")
        settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
        process = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "worker"], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        processes.append(process)
        return process

    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    yield start
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def cast(client: TestClient):
    from tests.support.accounts import make_cast

    return make_cast(client.app.state.engine)  # type: ignore[attr-defined]


@pytest.fixture
def live_server(settings: Settings) -> Iterator[str]:
    """`cim serve` in its own process on a free loopback port, on the test database."""
    from api.server_process import start_server, stop, wait_until_healthy

    port = postgis.free_port()
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    env = postgis.subprocess_env(settings.database_url or "", settings.resolved_data_dir)
    with open(settings.resolved_data_dir / "server.log", "wb") as log:
        process = start_server("127.0.0.1", port, env, output=log)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, process)
        yield base
    finally:
        stop(process)
