"""`cim backup` and `cim restore`: a converted dataset, its originals and the audit trail survive a
round trip into an empty platform; a corrupted archive and a non-empty target are refused."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import psycopg
import pytest

from cim_platform.core.access import Caller, Role
from cim_platform.core.audit import record_change
from cim_platform.core.db.engine import session_scope
from tests.support import postgis
from tests.support.http_api import upload, wait_job

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
LAS = CORPUS / "survey" / "hexbin-crop.las"

TABLES = {  # table: the order that makes its rows comparable
    "organizations": "id",
    "users": "id",
    "api_tokens": "id",
    "jobs": "id",
    "datasets": "id",
    "dataset_revisions": "id",
    "tile_contents": "revision_id, path",
    "audit_log": "id",
    "districts": "code",
    "alembic_version": "version_num",
}


def cim(database_url: str, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = postgis.subprocess_env(database_url, data_dir)
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )


def snapshot(url: str) -> dict[str, list[Any]]:
    """Every row of the platform's tables (as PostgreSQL prints them: bytes, geometry and JSON exact)."""
    with psycopg.connect(url) as conn:
        return {
            table: [row[0] for row in conn.execute(f"SELECT t::text FROM {table} t ORDER BY {order}")]
            for table, order in TABLES.items()
        }


def originals(data_dir: Path) -> dict[str, str]:
    root = data_dir / "uploads" / "sources"
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()
    }


@pytest.fixture
def empty_platform(pg_cluster, tmp_path: Path):
    """A database with nothing in it (not even PostGIS) and a data folder that does not exist yet."""
    name = postgis.create_database(pg_cluster, template=None)
    yield pg_cluster.url(name), tmp_path / "restored"
    postgis.drop_database(pg_cluster, name)


def _flip_byte_in(archive: Path, member_name: str, target: Path) -> None:
    with tarfile.open(archive) as tar:
        member = tar.getmember(member_name)
        offset = member.offset_data + member.size // 2
    data = bytearray(archive.read_bytes())
    data[offset] ^= 0x01
    target.write_bytes(bytes(data))


def test_backup_restore_round_trip(
    client, cast, start_worker, settings, database_url: str, empty_platform, pg_cluster, tmp_path: Path
) -> None:
    start_worker()
    headers = cast.headers("surveyor")
    response = upload(client, headers, LAS, name="Hexbin survey", district="kangbashi", visibility="internal")
    assert response.status_code == 202, response.text
    job = wait_job(client, headers, response.json()["job"]["href"])
    assert job["state"] == "succeeded", job
    dataset_id = response.json()["dataset"]["id"]
    with session_scope(client.app.state.engine) as session:
        admin = Caller(user_id=cast.users["admin"], username="admin", organization_id=None, role=Role.admin)
        record_change(
            session,
            admin,
            action="dataset.reviewed",
            object_type="dataset",
            object_id=dataset_id,
            before=None,
            after={"note": "checked before the backup"},
        )
    before = snapshot(database_url)
    assert before["tile_contents"] and before["dataset_revisions"] and before["datasets"]
    assert len(before["audit_log"]) >= 4  # created, revision added, published, reviewed
    sources_before = originals(settings.resolved_data_dir)
    assert sources_before and hashlib.sha256(LAS.read_bytes()).hexdigest() in sources_before.values()

    archive = tmp_path / "platform.tar"
    made = cim(database_url, settings.resolved_data_dir, "backup", str(archive))
    assert made.returncode == 0, made.stderr
    assert archive.exists() and not archive.with_name("platform.tar.partial").exists()
    assert archive.stat().st_mode & 0o077 == 0  # password and token hashes inside: owner only
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert names[0] == "database.dump" and names[-1] == "manifest.json"
    assert {f"uploads/sources/{name}" for name in sources_before} <= set(names)

    # a flipped byte anywhere in the dump: refused with one line, before the target is touched
    corrupted = tmp_path / "corrupted.tar"
    _flip_byte_in(archive, "database.dump", corrupted)
    target_url, target_dir = empty_platform
    refused = cim(target_url, target_dir, "restore", str(corrupted))
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert refused.stderr.strip().count("\n") == 0 and "corrupted" in refused.stderr
    assert "database.dump does not match its checksum" in refused.stderr
    with psycopg.connect(target_url) as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone() == (0,)
    # and in an original
    original_member = f"uploads/sources/{next(iter(sources_before))}"
    _flip_byte_in(archive, original_member, corrupted)
    refused = cim(target_url, target_dir, "restore", str(corrupted))
    assert refused.returncode == 2 and f"{original_member} does not match its checksum" in refused.stderr
    # a truncated archive
    corrupted.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    refused = cim(target_url, target_dir, "restore", str(corrupted))
    assert refused.returncode == 2 and "corrupted" in refused.stderr and refused.stderr.count("\n") == 1

    restored = cim(target_url, target_dir, "restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    after = snapshot(target_url)
    for table in TABLES:
        assert after[table] == before[table], table
    with psycopg.connect(target_url) as conn:
        mismatched = conn.execute(
            "SELECT count(*) FROM tile_contents WHERE encode(sha256(data), 'hex') <> sha256 OR length(data) <> size"
        ).fetchone()
        assert mismatched == (0,)
        assert conn.execute("SELECT count(*) FROM procrastinate_jobs").fetchone() is not None
        assert conn.execute("SELECT postgis_lib_version()").fetchone() is not None
        # the restored audit trail is still append-only
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM audit_log")
    assert originals(target_dir) == sources_before
    for path in (target_dir / "uploads" / "sources").rglob("*"):
        if path.is_file():
            assert path.stat().st_mode & 0o222 == 0  # read-only, like every kept original

    # the restored platform serves the dataset (the same tokens work: their hashes were restored)
    from fastapi.testclient import TestClient

    from api.app import create_app
    from cim_platform.core.settings import Settings

    restored_settings = Settings(database_url=target_url, data_dir=target_dir)
    with TestClient(create_app(restored_settings)) as restored_client:
        detail = restored_client.get(f"/api/v1/datasets/{dataset_id}", headers=headers)
        assert detail.status_code == 200, detail.text
        revision = detail.json()["published_revision"]
        source = restored_client.get(
            f"/api/v1/datasets/{dataset_id}/revisions/{revision['id']}/source", headers=headers
        )
        assert source.status_code == 200 and source.content == LAS.read_bytes()
        tileset = restored_client.get(f"/tiles/{dataset_id}/tileset.json", headers=headers)
        assert tileset.status_code == 200
    from cim_platform.core.db.engine import _engine_for, sqlalchemy_url

    _engine_for(sqlalchemy_url(target_url)).dispose()

    # a platform that is not empty is refused, unless --force
    again = cim(target_url, target_dir, "restore", str(archive))
    assert again.returncode == 2 and "not empty" in again.stderr and "--force" in again.stderr
    forced = cim(target_url, target_dir, "restore", "--force", str(archive))
    assert forced.returncode == 0, forced.stderr
    assert snapshot(target_url) == before
    assert originals(target_dir) == sources_before
