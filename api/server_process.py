"""``cim serve`` as a child process, and waiting until it answers ``/health`` (used by ``cim demo``,
the tests and the benchmarks: one copy of the start-and-wait logic)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from typing import IO

import httpx

from cim_platform.core.errors import SetupError


def start_server(
    host: str,
    port: int,
    env: Mapping[str, str],
    *,
    extra_args: Sequence[str] = (),
    output: IO[bytes] | int | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``cim serve`` on ``host:port`` (``extra_args`` e.g. ``--with-worker``, ``--workers 2``)."""
    command = [sys.executable, "-m", "api.cli", "serve", "--host", host, "--port", str(port), *extra_args]
    return subprocess.Popen(command, env=dict(env), stdout=output, stderr=subprocess.STDOUT if output else None)


def wait_until_healthy(base_url: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    """Return once ``/health`` answers 200; SetupError if the server exits or the time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{base_url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise SetupError(f"the server exited with code {process.returncode} before answering {base_url}/health")
        if time.monotonic() > deadline:
            raise SetupError(f"the server did not answer {base_url}/health within {timeout:.0f} s")
        time.sleep(0.3)


def stop(process: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
