"""The demo's BIM review: the city's example IDS uploaded by an official, every published IFC model checked against
it (a real check job), one synthetic topic; loading again adds nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from api.bim_review.demo import IDS_NAME, TOPIC_TITLE, load_bim_review_samples
from tests.support.http_api import upload, wait_job
from tests.support.waiting import wait_for

HALL = Path(__file__).resolve().parents[2] / "sample_models" / "ifc" / "ordos_kangbashi_hall_4546.ifc"


def test_demo_checks_the_published_models(client: Any, cast: Any, settings: Any, start_worker: Any) -> None:
    start_worker()
    uploader = cast.headers("uploader_a")
    accepted = upload(client, uploader, HALL, name="示例 hall", visibility="internal").json()
    assert wait_job(client, uploader, accepted["job"]["href"])["state"] == "succeeded"
    revision = client.get(f"/api/v1/datasets/{accepted['dataset']['id']}", headers=uploader).json()
    revision_id = revision["published_revision_id"]

    summary = load_bim_review_samples(settings, "", client)
    assert summary.startswith("BIM review (synthetic): delivery requirements checked on 1 IFC models")
    official = cast.headers("official")
    names = [d["name"] for d in client.get("/api/v1/bim/ids", headers=official).json()["items"]]
    assert names.count(IDS_NAME) == 1 and "示例" in IDS_NAME

    def checked() -> list[dict[str, Any]] | None:
        answer = client.get(f"/api/v1/bim/revisions/{revision_id}/checks", headers=official)
        items: list[dict[str, Any]] = answer.json()["items"]
        demo = [c for c in items if c["ids_name"] == IDS_NAME]
        return demo if demo and all(c["state"] != "queued" for c in demo) else None

    (check,) = wait_for(checked, timeout=240, interval=1.0)
    assert check["state"] in ("passed", "failed") and check["specifications"]
    topics = client.get(f"/api/v1/bim/revisions/{revision_id}/topics", headers=official).json()["items"]
    assert [t["title"] for t in topics] == [TOPIC_TITLE]

    assert load_bim_review_samples(settings, "", client).endswith(", 0 new topic")
    names = [d["name"] for d in client.get("/api/v1/bim/ids", headers=official).json()["items"]]
    assert names.count(IDS_NAME) == 1
