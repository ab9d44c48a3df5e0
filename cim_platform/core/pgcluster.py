"""A private PostgreSQL + PostGIS cluster under the platform's data folder.

Used when no ``CIM_DATABASE_URL`` is set: the platform (and the test suite) initialise a cluster
with ``initdb``, start it on loopback only and stop it cleanly. ``initdb`` and ``postgres`` refuse to
run as root, so as root they run as the ``postgres`` system user.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from cim_platform.core.errors import SetupError

PG_MAJOR = "15"
DEBIAN_PACKAGE = f"postgresql-{PG_MAJOR}-postgis-3"
SUPERUSER = "cim"


def find_bin_dir(configured: Path | None = None) -> Path | None:
    candidates = [configured] if configured else []
    candidates += [Path(f"/usr/lib/postgresql/{PG_MAJOR}/bin")]
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for candidate in candidates:
        if candidate and (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            return candidate
    return None


def postgis_available(bin_dir: Path) -> bool:
    major = bin_dir.parent.name
    return any(Path(p).exists() for p in (f"/usr/share/postgresql/{major}/extension/postgis.control",))


def ensure_installed(configured_bin_dir: Path | None = None, *, allow_install: bool = True) -> Path:
    """The PostgreSQL bin folder, installing PostgreSQL + PostGIS with apt-get where we can."""
    bin_dir = find_bin_dir(configured_bin_dir)
    if bin_dir and postgis_available(bin_dir):
        return bin_dir
    if allow_install and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-qq", DEBIAN_PACKAGE]
        if subprocess.run(install, env=env, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
            subprocess.run(install, env=env, capture_output=True)
        bin_dir = find_bin_dir(configured_bin_dir)
        if bin_dir and postgis_available(bin_dir):
            return bin_dir
    raise SetupError(
        f"PostgreSQL {PG_MAJOR} with PostGIS 3 is not installed: run "
        f"`sudo apt-get install -y {DEBIAN_PACKAGE}` (or set CIM_DATABASE_URL to an existing PostGIS server)"
    )


def _write_private(path: Path, text: str) -> None:
    """Create ``path`` readable by its owner only from the first byte on."""
    path.unlink(missing_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


@dataclass
class PrivateCluster:
    """One cluster in ``data_dir`` listening on ``127.0.0.1:port``."""

    data_dir: Path
    port: int
    bin_dir: Path

    @property
    def password_file(self) -> Path:
        return self.data_dir.parent / "postgres.password"

    @property
    def log_file(self) -> Path:
        return self.data_dir.parent / "postgres.log"

    def url(self, database: str) -> str:
        password = self.password_file.read_text().strip()
        return f"postgresql://{SUPERUSER}:{password}@127.0.0.1:{self.port}/{database}"

    # -- running commands as the right user ------------------------------------------------
    def _run_as_owner(
        self, args: list[str], *, check: bool = False, timeout: float | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        if os.geteuid() == 0:
            args = ["runuser", "-u", "postgres", "--", *args]
        return subprocess.run(args, capture_output=True, text=True, check=check, timeout=timeout, env=env)

    def _prepare_folder(self) -> None:
        parent = self.data_dir.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
            probe = parent / ".write-test"
            probe.write_text("ok")
            probe.unlink()
        except OSError as exc:
            raise SetupError(f"data folder {parent} is not writable: {exc.strerror}") from exc
        if os.geteuid() == 0:
            try:
                postgres = pwd.getpwnam("postgres")
            except KeyError as exc:
                raise SetupError(
                    "running as root needs the `postgres` system user (apt-get install postgresql)"
                ) from exc
            self.data_dir.mkdir(mode=0o700, exist_ok=True)
            os.chown(self.data_dir, postgres.pw_uid, postgres.pw_gid)
            self.log_file.touch()
            os.chown(self.log_file, postgres.pw_uid, postgres.pw_gid)
            for folder in [self.data_dir, *self.data_dir.parents]:
                if not os.access(folder, os.X_OK) or (folder.stat().st_mode & 0o001) == 0:
                    if folder == self.data_dir:
                        continue
                    raise SetupError(
                        f"the postgres user cannot enter {folder}: choose a CIM_DATA_DIR outside it "
                        f"(or `chmod o+x {folder}`)"
                    )

    # -- lifecycle -------------------------------------------------------------------------
    def is_initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def is_running(self) -> bool:
        if not self.is_initialised():
            return False
        return self._run_as_owner([str(self.bin_dir / "pg_ctl"), "status", "-D", str(self.data_dir)]).returncode == 0

    def initialise(self) -> None:
        self._prepare_folder()
        if self.is_initialised():
            return
        if not self.password_file.exists():
            _write_private(self.password_file, secrets.token_urlsafe(24))
        pwfile = self.data_dir.parent / ".initdb-pw"
        _write_private(pwfile, self.password_file.read_text())
        if os.geteuid() == 0:
            postgres = pwd.getpwnam("postgres")
            os.chown(pwfile, postgres.pw_uid, postgres.pw_gid)
        try:
            result = self._run_as_owner(
                [
                    str(self.bin_dir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    SUPERUSER,
                    "--auth-local=scram-sha-256",
                    "--auth-host=scram-sha-256",
                    f"--pwfile={pwfile}",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ]
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if result.returncode != 0:
            last = (result.stderr.strip().splitlines() or ["unknown error"])[-1]
            raise SetupError(f"initdb failed in {self.data_dir}: {last}")

    def start(self) -> None:
        self.initialise()
        if self.is_running():
            return
        if port_in_use(self.port):
            raise SetupError(f"port {self.port} is in use by another program: set CIM_PG_PORT to a free port")
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories='' -c max_connections=200"
        result = self._run_as_owner(
            [
                str(self.bin_dir / "pg_ctl"),
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-o",
                options,
            ]
        )
        if result.returncode != 0:
            tail = self.log_file.read_text(errors="replace").strip().splitlines()[-1:] if self.log_file.exists() else []
            raise SetupError(f"PostgreSQL did not start: {(tail or [result.stderr.strip()])[0]}")
        deadline = time.monotonic() + 30
        while not port_in_use(self.port):
            if time.monotonic() > deadline:
                raise SetupError(f"PostgreSQL started but does not listen on 127.0.0.1:{self.port}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.is_running():
            self._run_as_owner([str(self.bin_dir / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(self.data_dir)])

    def ensure_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
