"""The `cim` command answers bad input with one line and exit code 2, never a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def cim(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("CIM_")}
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        cwd=ROOT,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_convert_missing_file(tmp_path: Path) -> None:
    assert_one_line_error(cim("convert", str(tmp_path / "nope.ifc"), "-o", str(tmp_path / "out")), "no such file")


def test_convert_unsupported_format(tmp_path: Path) -> None:
    source = tmp_path / "notes.docx"
    source.write_bytes(b"PK\x03\x04 not a model")
    assert_one_line_error(cim("convert", str(source), "-o", str(tmp_path / "out")), "not a supported format")


def test_unreachable_database_url() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = cim("db", "upgrade", env={"CIM_DATABASE_URL": f"postgresql://nobody:x@127.0.0.1:{port}/cim"})
    assert_one_line_error(result, "cannot reach the database")


def test_malformed_database_url() -> None:
    assert_one_line_error(
        cim("db", "upgrade", env={"CIM_DATABASE_URL": "mysql://x@y/z"}), "must start with postgresql://"
    )


def test_unwritable_data_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = cim("db", "start", env={"CIM_DATA_DIR": str(blocker / "data")})
    assert_one_line_error(result, "not writable")


def test_serve_on_a_port_in_use(settings) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = cim("serve", "--port", str(port), env={"CIM_DATABASE_URL": settings.database_url or ""})
    assert_one_line_error(result, f"port {port} is in use")


@pytest.mark.parametrize("args", [["admin", "create-user", "x", "--org", "No Such Org", "--role", "viewer"]])
def test_admin_commands_report_missing_objects(settings, args: list[str]) -> None:
    assert_one_line_error(cim(*args, env={"CIM_DATABASE_URL": settings.database_url or ""}), "no organisation")


def test_admin_commands_end_to_end(settings) -> None:
    env = {"CIM_DATABASE_URL": settings.database_url or ""}
    assert (
        cim("admin", "create-org", "Kangbashi Design Institute", "--kind", "design_institute", env=env).returncode == 0
    )
    created = cim(
        "admin", "create-user", "li.wei", "--org", "Kangbashi Design Institute", "--role", "uploader", env=env
    )
    assert created.returncode == 0 and "cim token create --user li.wei" in created.stdout
    token = cim("token", "create", "--user", "li.wei", env=env)
    assert token.returncode == 0
    secret = token.stdout.splitlines()[1]
    assert secret.startswith("cim_") and len(secret) > 40
    bad_role = cim("admin", "create-user", "x", "--org", "Kangbashi Design Institute", "--role", "mayor", env=env)
    assert_one_line_error(bad_role, "unknown role 'mayor'")


def test_bad_setting_is_one_line() -> None:
    assert_one_line_error(cim("db", "url", env={"CIM_PG_PORT": "abc"}), "CIM_PG_PORT")


def test_tokens_in_urls_are_redacted_in_access_logs() -> None:
    import logging

    from api.logging_filters import RedactTokens

    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        "",
        0,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/tiles/x/tileset.json?access_token=cim_secret123&v=1", "1.1", 200),
        None,
    )
    RedactTokens().filter(record)
    message = record.getMessage()
    assert "cim_secret123" not in message and "access_token=[redacted]&v=1" in message


def _children(pid: int) -> dict[int, str]:
    """The command lines of a process's children (from /proc)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError, ValueError):
            continue
        if parent == pid:
            found[int(entry.name)] = command
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("how", ["terminate", "kill"])
def test_serve_with_worker_never_leaves_its_worker_behind(settings, tmp_path: Path, how: str) -> None:  # type: ignore[no-untyped-def]
    """`cim serve --with-worker` stopped (SIGTERM: uvicorn raises it again after its shutdown) or killed
    (SIGKILL) leaves no job worker running on its own."""
    from api.server_process import start_server, wait_until_healthy
    from tests.support import postgis
    from tests.support.waiting import wait_for

    port = postgis.free_port()
    env = postgis.subprocess_env(settings.database_url or "", tmp_path / "data")
    with (tmp_path / "serve.log").open("wb") as log:
        server = start_server("127.0.0.1", port, env, extra_args=["--with-worker"], output=log)
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", server, timeout=120)
        [worker] = [pid for pid, command in _children(server.pid).items() if "api.cli worker" in command]
        getattr(server, how)()
        server.wait(timeout=60)
        wait_for(lambda: not _alive(worker), timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
