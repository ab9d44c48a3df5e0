"""The private cluster starter as an ordinary user (the session's own cluster covers root)."""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.support.postgis import free_port

SCRIPT = """
import sys
from pathlib import Path
from cim_platform.core.pgcluster import PrivateCluster, ensure_installed
import psycopg
bin_dir = ensure_installed(allow_install=False)
cluster = PrivateCluster(data_dir=Path(sys.argv[1]), port=int(sys.argv[2]), bin_dir=bin_dir)
cluster.start()
cluster.start()  # idempotent: already running
with psycopg.connect(cluster.url("postgres")) as conn:
    print(conn.execute("select current_user, inet_server_addr()").fetchone())
cluster.stop()
print("running after stop:", cluster.is_running())
"""


def _interpreter_for_others() -> str | None:
    """This interpreter, or the system's of the same version, if ``nobody`` may run it."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (sys.executable, f"/usr/bin/{version}"):
        probe = subprocess.run(["runuser", "-u", "nobody", "--", candidate, "-c", "print(1)"], capture_output=True)
        if probe.returncode == 0:
            return candidate
    return None


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to switch to an ordinary user")
def test_private_cluster_as_an_ordinary_user() -> None:
    user = pwd.getpwnam("nobody")
    root = Path(tempfile.mkdtemp(prefix="cim-user-pg-"))
    os.chown(root, user.pw_uid, user.pw_gid)
    repo = Path(__file__).resolve().parents[2]
    python = _interpreter_for_others()
    if python is None:
        pytest.skip("no Python 3.11 interpreter that an ordinary user may run")
    site = next(Path(sys.prefix).glob("lib/python3.*/site-packages"))
    result = subprocess.run(
        ["runuser", "-u", "nobody", "--", python, "-c", SCRIPT, str(root / "postgres"), str(free_port())],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=root,
        env={"PYTHONPATH": f"{repo}:{site}", "HOME": str(root), "PATH": os.environ.get("PATH", "/usr/bin:/bin")},
    )
    assert result.returncode == 0, result.stderr
    assert "('cim', IPv4Address('127.0.0.1'))" in result.stdout  # our superuser, loopback only
    assert "running after stop: False" in result.stdout
    assert (root / "postgres" / "PG_VERSION").exists()
    assert (root / "postgres.password").stat().st_mode & 0o077 == 0  # the password is private
