"""A private PostGIS cluster for the test session (the same starter the platform uses) and one
database per test, cloned from a migrated template."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from cim_platform.core import migrate
from cim_platform.core.pgcluster import PrivateCluster, ensure_installed

TEMPLATE = "cim_test_template"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def test_cluster() -> Iterator[PrivateCluster]:
    root = Path(tempfile.mkdtemp(prefix="cim-test-pg-"))
    root.chmod(0o755)  # the postgres user must enter it when the tests run as root
    cluster = PrivateCluster(data_dir=root / "postgres", port=free_port(), bin_dir=ensure_installed())
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)


def admin_url(cluster: PrivateCluster) -> str:
    return cluster.url("postgres")


def create_template(cluster: PrivateCluster) -> None:
    with psycopg.connect(admin_url(cluster), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}"')
        conn.execute(f'CREATE DATABASE "{TEMPLATE}"')
    migrate.upgrade(cluster.url(TEMPLATE))


def create_database(cluster: PrivateCluster, template: str | None = TEMPLATE) -> str:
    name = f"cim_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url(cluster), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return name


def drop_database(cluster: PrivateCluster, name: str) -> None:
    with psycopg.connect(admin_url(cluster), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


def subprocess_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIM_")}
    env.update(
        CIM_DATABASE_URL=database_url,
        CIM_DATA_DIR=str(data_dir),
        PYTHONPATH=str(repo_root()),
        **extra,
    )
    return env
