"""Helpers of the fault tests and the API fuzzer: real `cim serve` and `cim worker` processes, a PostGIS
cluster a test may stop and start, job kinds that wait for the test, a pause inside the conversion's
final database write, and a small file system that fills up.

Loaded by workers through ``CIM_JOB_IMPORT_PATHS=["tests.support.faults"]``: importing it registers the
job kinds below and, when ``FAULTS_PAUSE_IN_FINAL_WRITE`` names a file, makes the conversion stop inside
its final transaction (tiles inserted, nothing committed) and write that file, so a test can kill the
worker exactly there. Nothing of this is reachable from production code paths.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from cim_platform.core.jobs.registry import JobRun, job_kind
from cim_platform.core.pgcluster import PrivateCluster
from tests.support import postgis
from tests.support.waiting import wait_for

IMPORT_PATH = "tests.support.faults"
PAUSE_ENV = "FAULTS_PAUSE_IN_FINAL_WRITE"
RESUME_ENV = "FAULTS_RESUME_FINAL_WRITE"


# -- job kinds that wait for the test ------------------------------------------------------------------


@job_kind("test.wait_for_release")
def wait_for_release(run: JobRun) -> dict[str, Any]:
    """Runs (reporting progress, so it writes to the database every half second) until the file named
    by ``release`` exists."""
    release = Path(run.params["release"])
    polls = 0
    while not release.exists():
        polls += 1
        run.report_progress(0.5, f"waiting for {release.name} ({polls})")
        time.sleep(0.05)
    return {"released": release.name}


def _pause_in_final_write(marker: Path, resume: Path | None) -> None:
    from cim_platform.datasets import conversion

    insert_files = conversion._insert_files

    def insert_then_pause(session: Any, revision_id: uuid.UUID, files: Any) -> None:
        insert_files(session, revision_id, files)
        session.flush()  # the tiles are in the open transaction, not committed
        marker.write_text(str(revision_id))
        pause = threading.Event()
        while resume is None or not resume.exists():  # without a resume file: until the test kills us
            pause.wait(0.05)

    conversion._insert_files = insert_then_pause


if os.environ.get(PAUSE_ENV):
    _pause_in_final_write(
        Path(os.environ[PAUSE_ENV]), Path(os.environ[RESUME_ENV]) if os.environ.get(RESUME_ENV) else None
    )


# -- processes -----------------------------------------------------------------------------------------


@dataclass
class Processes:
    """`cim serve` and `cim worker` processes on one database; all stopped by ``stop_all``."""

    database_url: str
    data_dir: Path
    worker_env: dict[str, str] = field(default_factory=dict)
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: dict[int, Path] = field(default_factory=dict)

    def _start(self, args: list[str], log_name: str, env: dict[str, str]) -> subprocess.Popen[bytes]:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.data_dir / f"{log_name}-{len(self.started)}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "api.cli", *args],
                env=postgis.subprocess_env(self.database_url, self.data_dir, **env),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.started.append(process)
        self.logs[process.pid] = log_path
        return process

    def log(self, process: subprocess.Popen[bytes]) -> str:
        return self.logs[process.pid].read_text(errors="replace")

    def serve(self, **env: str) -> tuple[str, subprocess.Popen[bytes]]:
        """A `cim serve` on a free loopback port, once /health answers 200: its base URL and process."""
        port = postgis.free_port()
        process = self._start(["serve", "--port", str(port)], "server", env)
        base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"the server exited:\n{self.log(process)[-3000:]}")
            try:
                return httpx.get(f"{base}/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(up, timeout=90)
        return base, process

    def worker(self, **env: str) -> subprocess.Popen[bytes]:
        """A `cim worker` taking the test job kinds (and the platform's), with quick heartbeats."""
        defaults = {
            "CIM_WORKER_HEARTBEAT_S": "1",
            "CIM_STALLED_WORKER_TIMEOUT_S": "12",  # a loaded 2-core CI machine writes heartbeats late
            "CIM_JOB_IMPORT_PATHS": f'["{IMPORT_PATH}"]',
        }
        return self._start(["worker"], "worker", {**defaults, **self.worker_env, **env})

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.terminate()
        for process in self.started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextmanager
def processes(database_url: str, data_dir: Path) -> Iterator[Processes]:
    running = Processes(database_url, data_dir)
    try:
        yield running
    finally:
        running.stop_all()


@dataclass
class OwnDatabase:
    """A cluster of the test's own (it may stop and start it) with one migrated database."""

    cluster: PrivateCluster
    url: str


@contextmanager
def own_database() -> Iterator[OwnDatabase]:
    with postgis.test_cluster() as cluster:
        postgis.create_template(cluster)
        name = postgis.create_database(cluster)
        yield OwnDatabase(cluster, cluster.url(name))


def until_log_contains(running: Processes, process: subprocess.Popen[bytes], text: str, timeout: float = 60) -> str:
    def found() -> str | None:
        log = running.log(process)
        return log if text in log else None

    try:
        return wait_for(found, timeout=timeout)
    except AssertionError:
        raise AssertionError(f"{text!r} not in the log within {timeout} s:\n{running.log(process)[-4000:]}") from None


def log_count(running: Processes, process: subprocess.Popen[bytes], text: str) -> int:
    return running.log(process).count(text)


# -- a small file system -------------------------------------------------------------------------------


@dataclass
class SmallDisk:
    path: Path
    how: str
    """``tmpfs`` (a real file system of ``size`` bytes) or ``injected`` (writes past ``size`` raise ENOSPC)."""
    size: int


@contextmanager
def small_disk(size_mb: int = 4) -> Iterator[SmallDisk]:
    """A folder on a tmpfs of ``size_mb`` MiB when this machine lets us mount one (root); else yields
    an ordinary folder with ``how == "injected"`` and the caller injects ENOSPC itself."""
    root = Path(tempfile.mkdtemp(prefix="cim-small-disk-"))
    mounted = False
    if os.geteuid() == 0 and shutil.which("mount"):
        result = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0755", "tmpfs", str(root)], capture_output=True
        )
        mounted = result.returncode == 0
    try:
        yield SmallDisk(root, "tmpfs" if mounted else "injected", size_mb * 1024 * 1024)
    finally:
        if mounted:
            if subprocess.run(["umount", str(root)], capture_output=True).returncode != 0:
                subprocess.run(["umount", "-l", str(root)], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []
