"""Health reports the database honestly, and the service answers cleanly when it is gone."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app
from cim_platform.core.settings import Settings
from tests.support.postgis import free_port


def test_health_ok(client) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["database"] == "ok" and body["postgis"].startswith("3.")


def test_health_when_the_database_is_unreachable(tmp_path) -> None:
    settings = Settings(database_url=f"postgresql://cim:x@127.0.0.1:{free_port()}/cim", data_dir=tmp_path)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        response = client.get("/health")
        assert response.status_code == 503
        assert response.json()["database"] == "unreachable" and "cannot reach the database" in response.json()["detail"]
        listing = client.get("/api/v1/datasets")
        assert listing.status_code == 503 and "Traceback" not in listing.text
        assert "cannot reach the database" in listing.json()["detail"]
