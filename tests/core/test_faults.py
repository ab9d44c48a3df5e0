"""Faults: the database restarted under a running server and worker, the disk filling during an
upload, a worker killed inside a conversion's final database write."""

from __future__ import annotations

import errno
import signal
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from cim_platform.core.db.engine import get_engine, session_scope
from cim_platform.core.jobs import service
from cim_platform.core.jobs.models import Job
from cim_platform.core.settings import Settings
from cim_platform.datasets.models import Dataset, DatasetRevision, TileContent
from tests.support import faults
from tests.support.accounts import make_cast
from tests.support.http_api import upload, wait_job
from tests.support.waiting import wait_for

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
LAS = CORPUS / "survey" / "hexbin-crop.las"
SMALL_IFC = CORPUS / "ifc" / "geographic-referencing-utm.ifc"


def _one_line_503(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 503, response.text
    body: dict[str, Any] = response.json()
    assert body["error"] == "database_unavailable"
    assert body["detail"].startswith("cannot reach the database: ") and "\n" not in body["detail"]
    return body


def test_database_restart_under_a_running_server_and_worker(tmp_path: Path) -> None:
    with faults.own_database() as database, faults.processes(database.url, tmp_path / "data") as running:
        settings = Settings(
            database_url=database.url, data_dir=tmp_path / "data", job_import_paths=[faults.IMPORT_PATH]
        )
        engine = get_engine(settings)
        cast = make_cast(engine)  # before `cim serve`, which would add its own first admin
        base, server = running.serve()
        worker = running.worker(CIM_WORKER_CONCURRENCY="2")
        admin = cast.headers("admin")
        api = httpx.Client(base_url=base, headers=admin, timeout=30)

        def state(job_id: uuid.UUID) -> str:
            response = api.get(f"/api/v1/jobs/{job_id}")
            return str(response.json()["state"]) if response.status_code == 200 else f"http {response.status_code}"

        # two jobs running when the database goes away: A ends while it is down, B after it is back
        release_a, release_b = tmp_path / "release-a", tmp_path / "release-b"
        job_a = service.submit(settings, engine, "test.wait_for_release", {"release": str(release_a)})
        job_b = service.submit(settings, engine, "test.wait_for_release", {"release": str(release_b)})
        wait_for(lambda: state(job_a) == "running" and state(job_b) == "running", timeout=60)

        engine.dispose()
        database.cluster.stop()
        # while it is down: one clear line with 503, from every kind of route
        health = api.get("/health")
        assert health.status_code == 503 and health.json()["database"] == "unreachable"
        _one_line_503(api.get(f"/api/v1/jobs/{job_a}"))
        _one_line_503(httpx.get(f"{base}/api/v1/datasets", timeout=30))  # anonymous
        _one_line_503(api.get(f"/tiles/{uuid.uuid4()}/tileset.json"))
        # the jobs go on without their progress writes; A's end is retried until the database is back
        faults.until_log_contains(running, worker, "progress not stored, the database is unreachable")
        release_a.touch()
        faults.until_log_contains(running, worker, f"job {job_a}: cannot store its end")
        # down for longer than the stalled-worker timeout: every heartbeat looks stale once it is back
        faults.until_log_contains(running, worker, "stalled-job recovery failed")
        wait_for(lambda: faults.log_count(running, worker, "stalled-job recovery failed") >= 3, timeout=60)

        database.cluster.start()
        # the same server and worker processes answer again
        wait_for(lambda: api.get("/health").status_code == 200, timeout=60)
        assert server.poll() is None and worker.poll() is None
        wait_for(lambda: state(job_a) == "succeeded", timeout=120)
        release_b.touch()
        wait_for(lambda: state(job_b) == "succeeded", timeout=120)
        # the worker takes new jobs
        release_c = tmp_path / "release-c"
        release_c.touch()
        job_c = service.submit(settings, engine, "test.wait_for_release", {"release": str(release_c)})
        wait_for(lambda: state(job_c) == "succeeded", timeout=120)
        assert worker.poll() is None and server.poll() is None
        with session_scope(engine) as session:
            attempts = {job.id: job.attempts for job in session.scalars(select(Job))}
            running_jobs = session.scalar(select(func.count()).select_from(Job).where(Job.state == "running"))
        assert running_jobs == 0
        assert attempts[job_c] == 1
        # A and B ran once: not requeued (and run twice) while their live worker's heartbeat was stale
        assert attempts[job_a] == attempts[job_b] == 1
        assert "Traceback" not in running.log(server)
        api.close()
        engine.dispose()


def test_a_conversion_that_loses_the_database_in_its_final_write_fails_with_a_reason(tmp_path: Path) -> None:
    """The database goes away inside the conversion's final transaction: nothing of the revision is
    stored, the job's end is retried until the database is back, then it is failed with a reason (its
    revision failed too), never left running."""
    with faults.own_database() as database, faults.processes(database.url, tmp_path / "data") as running:
        settings = Settings(database_url=database.url, data_dir=tmp_path / "data")
        engine = get_engine(settings)
        headers = make_cast(engine).headers("surveyor")  # before `cim serve`, which would add its own admin
        base, server = running.serve()
        marker, resume = tmp_path / "in-final-write", tmp_path / "resume"
        worker = running.worker(**{faults.PAUSE_ENV: str(marker), faults.RESUME_ENV: str(resume)})
        api = httpx.Client(base_url=base, headers=headers, timeout=60)
        with LAS.open("rb") as handle:
            created = api.post("/api/v1/datasets", data={"name": "restart"}, files={"file": (LAS.name, handle)})
        assert created.status_code == 202, created.text
        job_href, dataset_id = created.json()["job"]["href"], created.json()["dataset"]["id"]
        revision_id = created.json()["revision"]["id"]
        wait_for(marker.exists, timeout=240)  # inside store_and_publish's transaction, tiles inserted

        engine.dispose()
        database.cluster.stop()  # the open transaction dies with its connection
        resume.touch()
        faults.until_log_contains(running, worker, "cannot store its end")
        database.cluster.start()

        job = wait_for(lambda: (j := api.get(job_href)).status_code == 200 and j.json()["state"] != "running" and j)
        job_body = job.json()
        assert job_body["state"] == "failed" and job_body["error_kind"] == "internal", job_body
        assert "database connection was lost" in job_body["error"]
        revision = api.get(f"/api/v1/datasets/{dataset_id}/revisions/{revision_id}").json()
        assert revision["state"] == "failed"
        with session_scope(engine) as session:
            tiles = session.scalar(
                select(func.count()).select_from(TileContent).where(TileContent.revision_id == uuid.UUID(revision_id))
            )
        assert tiles == 0
        assert api.get(f"/api/v1/datasets/{dataset_id}").json()["published_revision_id"] is None
        assert worker.poll() is None and server.poll() is None
        api.close()
        engine.dispose()


# -- the disk fills during an upload ------------------------------------------------------------------


def _stored(engine: Any) -> tuple[int, int, int]:
    with session_scope(engine) as session:
        return (
            session.scalar(select(func.count()).select_from(Dataset)) or 0,
            session.scalar(select(func.count()).select_from(DatasetRevision)) or 0,
            session.scalar(select(func.count()).select_from(Job)) or 0,
        )


def test_disk_full_during_upload_is_507_and_leaves_nothing(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from api.app import create_app

    with faults.small_disk(size_mb=4) as disk:
        if disk.how == "injected":  # no mount here: the same ENOSPC, raised by the write itself
            from cim_platform.datasets import sources

            def write(self: sources.IncomingFile, chunk: bytes) -> None:
                if self.size + len(chunk) > disk.size:
                    self.discard()
                    raise sources._storage_error(OSError(errno.ENOSPC, "No space left on device"))
                self.size += len(chunk)
                self._hash.update(chunk)
                self._handle.write(chunk)

            monkeypatch.setattr(sources.IncomingFile, "write", write)
        with capsys.disabled():
            print(f"\n[disk full test: {disk.how} file system of {disk.size // 2**20} MiB]")
        full = settings.model_copy(update={"data_dir": disk.path})
        with TestClient(create_app(full)) as client:
            engine = client.app.state.engine  # type: ignore[attr-defined]
            headers = make_cast(engine).headers("uploader_a")
            small = upload(client, headers, SMALL_IFC, name="fits", visibility="public")
            assert small.status_code == 202, small.text
            dataset_id = small.json()["dataset"]["id"]
            before = _stored(engine)
            kept = faults.files_under(disk.path / "uploads" / "sources")

            big = tmp_path / "big.las"
            big.write_bytes(LAS.read_bytes() * 6)  # about 6 MiB: more than the disk holds
            for response in (
                upload(client, headers, big, name="does not fit"),
                client.post(
                    f"/api/v1/datasets/{dataset_id}/revisions",
                    headers=headers,
                    files={"file": (big.name, big.read_bytes())},
                ),
                client.put(
                    f"/api/v1/datasets/{dataset_id}/revisions/raw",
                    params={"filename": big.name},
                    content=big.read_bytes(),
                    headers=headers,
                ),
            ):
                assert response.status_code == 507, response.text
                body = response.json()
                assert body["error"] == "insufficient_storage" and "no room left" in body["detail"]
                assert "\n" not in body["detail"]
                # no partial file, no dataset, revision or job row
                assert faults.files_under(disk.path / "uploads" / "incoming") == []
                assert faults.files_under(disk.path / "uploads" / "sources") == kept
                assert _stored(engine) == before
            # the space was given back: the next upload that fits is taken
            again = upload(client, headers, SMALL_IFC, name="fits again")
            assert again.status_code == 202, again.text
            assert client.get("/health").json()["status"] == "ok"


# -- a worker killed inside the final database write --------------------------------------------------


def test_worker_killed_during_the_final_database_write(
    client: TestClient, cast: Any, settings: Settings, tmp_path: Path
) -> None:
    engine = client.app.state.engine  # type: ignore[attr-defined]
    headers = cast.headers("surveyor")
    with faults.processes(settings.database_url or "", settings.resolved_data_dir) as running:
        first = running.worker()
        created = upload(client, headers, LAS, name="survey", visibility="internal").json()
        dataset_id = created["dataset"]["id"]
        assert wait_job(client, headers, created["job"]["href"])["state"] == "succeeded"
        published = client.get(f"/api/v1/datasets/{dataset_id}", headers=headers).json()["published_revision_id"]
        first.terminate()
        first.wait(timeout=30)

        marker = tmp_path / "in-final-write"
        paused = running.worker(**{faults.PAUSE_ENV: str(marker)})
        with LAS.open("rb") as handle:
            second = client.post(
                f"/api/v1/datasets/{dataset_id}/revisions", headers=headers, files={"file": (LAS.name, handle)}
            ).json()
        revision_id, job_href = second["revision"]["id"], second["job"]["href"]
        assert wait_for(marker.exists, timeout=240) and marker.read_text() == revision_id
        paused.send_signal(signal.SIGKILL)
        paused.wait(timeout=30)

        def revision_state() -> tuple[str, int]:
            with session_scope(engine) as session:
                revision = session.get(DatasetRevision, uuid.UUID(revision_id))
                assert revision is not None
                tiles = session.scalar(
                    select(func.count()).select_from(TileContent).where(TileContent.revision_id == revision.id)
                )
                return revision.state, tiles or 0

        # nothing half-stored: the revision pending without tiles, the published revision unchanged
        assert revision_state() == ("pending", 0)
        detail = client.get(f"/api/v1/datasets/{dataset_id}", headers=headers).json()
        assert detail["published_revision_id"] == published
        tileset = client.get(f"/tiles/{dataset_id}/tileset.json", headers=headers)
        assert tileset.status_code == 200 and f"r/{published}/" in tileset.text
        assert client.get(job_href, headers=headers).json()["state"] == "running"

        running.worker()  # another worker requeues the lost job and runs it to its end
        job = wait_job(client, headers, job_href, timeout=240)
        assert job["state"] == "succeeded" and job["attempts"] == 2, job
        state, tiles = revision_state()
        revision = client.get(f"/api/v1/datasets/{dataset_id}/revisions/{revision_id}", headers=headers).json()
        assert state == "ready" and tiles == revision["tiles"]["count"] > 0  # stored once, not twice
        assert client.get(f"/api/v1/datasets/{dataset_id}", headers=headers).json()["published_revision_id"] == (
            revision_id
        )
