"""Colours from IFC models (issue 11): a generated IFC with known exterior colours and areas is read
(exterior walls, cladding, roof; internal walls ignored), and checked by the job
``facades.check_model_colours`` with the result stored per dataset revision."""

from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path
from typing import Any

import pytest

from cim_platform.core.db.engine import get_engine
from cim_platform.core.jobs.service import enqueue
from cim_platform.core.settings import Settings
from cim_platform.facades.model_checks import TASK
from cim_platform.facades.model_colours import read_model
from tests.support.http_api import upload, wait_job

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "make_facade_ifc", REPO / "sample_models" / "facades" / "make_facade_ifc.py"
)
assert _spec and _spec.loader
make_facade_ifc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_facade_ifc)


@pytest.fixture
def sample(tmp_path: Path) -> tuple[Path, dict[str, tuple[str, float, str]]]:
    path = tmp_path / "facade_sample.ifc"
    expected = make_facade_ifc.make_facade_model(path)
    return path, expected


def test_exterior_colours_and_areas(sample: tuple[Path, dict[str, tuple[str, float, str]]]) -> None:
    path, expected = sample
    model = read_model(path)
    found = {e.name: (e.hex, e.area_m2, e.area_source) for e in model.elements}
    assert set(found) == set(expected)  # the internal wall is not exterior
    for name, (hex_, area, source) in expected.items():
        assert found[name][0] == hex_ and found[name][2] == source
        assert found[name][1] == pytest.approx(area, abs=0.05)
    assert model.skipped == []
    colours = {c.reading.hex: c for c in model.facade_colours()}
    total = 125.2 * 2 + 55 + 63.2 + 30 + 200
    assert colours["#E6DCC8"].share == pytest.approx(100 * 305.4 / total, abs=0.01)
    assert [colours[h].use.value for h in ("#E6DCC8", "#808080", "#B4A596", "#C00000")] == [
        "main",
        "main",
        "secondary",
        "accent",
    ]


def test_model_check_job(client: Any, cast: Any, start_worker: Any, sample: Any, settings: Settings) -> None:
    path, _ = sample
    start_worker()
    uploader = cast.headers("uploader_a")
    answer = upload(
        client,
        uploader,
        path,
        name="示例 facade model",
        district="dongsheng",
        visibility="internal",
        crs="EPSG:4546",
        origin="389500,4385200,1300",
    )
    assert answer.status_code == 202, answer.text
    dataset_id = answer.json()["dataset"]["id"]
    converted = wait_job(client, uploader, answer.json()["job"]["href"])
    assert converted["state"] == "succeeded", converted

    # publishing the IFC revision recorded a colour check (handed to the queue by a worker's reconciler after
    # its grace period: the test hands it over itself, as the reconciler would)
    jobs = client.get("/api/v1/jobs", params={"limit": 10}, headers=uploader).json()
    (auto,) = [job for job in jobs if job["task"] == TASK]
    assert auto["state"] == "queued"
    enqueue(settings, get_engine(settings), uuid.UUID(auto["id"]))
    assert wait_job(client, uploader, f"/api/v1/jobs/{auto['id']}")["state"] == "succeeded"
    (automatic,) = client.get("/api/v1/facades/model-checks", params={"dataset": dataset_id}, headers=uploader).json()[
        "items"
    ]
    assert automatic["job_id"] == auto["id"] and automatic["zone"] == "old_town" and automatic["outcome"] == "fail"
    dataset = client.get(f"/api/v1/datasets/{dataset_id}", headers=uploader).json()
    assert automatic["revision_id"] == dataset["published_revision_id"]

    submitted = client.post(
        "/api/v1/facades/model-checks", json={"dataset": dataset_id, "zone": "old_town"}, headers=uploader
    )
    assert submitted.status_code == 202, submitted.text
    job = wait_job(client, uploader, submitted.json()["job_url"])
    assert job["state"] == "succeeded", job
    checks = client.get("/api/v1/facades/model-checks", params={"dataset": dataset_id}, headers=uploader).json()
    (check,) = checks["items"]
    assert check["outcome"] == "fail" and check["revision_id"] == submitted.json()["revision_id"]
    (finding,) = check["check"]["findings"]
    assert finding["rule"] == "max_chroma" and finding["colour"] == "#C00000"
    cladding = next(e for e in check["elements"] if e["name"] == "Shop front cladding")
    assert cladding["fails"] and check["failing_elements"] == [cladding["global_id"]]
    assert {c["hex"] for c in check["colours"]} == {"#E6DCC8", "#808080", "#B4A596", "#C00000"}
    again = client.get(submitted.json()["check_url"], headers=uploader)
    assert again.status_code == 200 and again.json()["outcome"] == "fail"
    # another organisation does not see the internal dataset's checks
    assert (
        client.get(
            "/api/v1/facades/model-checks", params={"dataset": dataset_id}, headers=cast.headers("uploader_b")
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/api/v1/facades/model-checks", json={"dataset": dataset_id}, headers=cast.headers("viewer")
        ).status_code
        == 403
    )
