"""Talking to the API as its clients do: uploads and waiting for jobs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.support.waiting import wait_for

FINISHED = ("succeeded", "failed", "cancelled")


def upload(client: TestClient, headers: dict[str, str], path: Path, **fields: str) -> Any:
    with path.open("rb") as handle:
        return client.post("/api/v1/datasets", headers=headers, data=fields, files={"file": (path.name, handle)})


def wait_job(client: TestClient, headers: dict[str, str], job_href: str, timeout: float = 240) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        body: dict[str, Any] = client.get(job_href, headers=headers).json()
        return body if body["state"] in FINISHED else None

    return wait_for(finished, timeout=timeout, interval=0.5)
