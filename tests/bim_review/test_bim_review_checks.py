"""IDS files managed by officials, IFC revisions checked as jobs next to their conversion, "require a
pass before publishing", and who sees which checks (a real worker, the real queue, PostGIS)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest

from tests.support.http_api import upload, wait_job
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
ORDOS_IDS = (ROOT / "sample_models" / "ids" / "ordos-delivery.ids").read_text(encoding="utf-8")
_spec = importlib.util.spec_from_file_location(
    "make_review_models", ROOT / "sample_models" / "bim_review" / "make_review_models.py"
)
assert _spec and _spec.loader
make_review_models = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_review_models)
BIM = "/api/v1/bim"


def georeferencing_only(xml: str) -> str:
    """The Ordos IDS with only its georeferencing specification (the review model passes it)."""
    return re.sub(
        r"<specification name=\"[^\"]*\" [^>]*identifier=\"ORDOS-0[123]\".*?</specification>", "", xml, flags=re.S
    )


def checks_done(client: Any, headers: dict[str, str], revision_id: str, count: int) -> list[dict[str, Any]] | None:
    items: list[dict[str, Any]] = client.get(f"{BIM}/revisions/{revision_id}/checks", headers=headers).json()["items"]
    return items if len(items) == count and all(c["state"] != "queued" for c in items) else None


def test_ids_management_is_for_officials(client: Any, cast: Any) -> None:
    body = {"name": "示例 Ordos delivery", "xml": ORDOS_IDS, "filename": "ordos-delivery.ids"}
    assert client.post(f"{BIM}/ids", json=body, headers=cast.headers("uploader_a")).status_code == 403
    assert client.post(f"{BIM}/ids", json=body).status_code == 401
    bad = client.post(f"{BIM}/ids", json={**body, "xml": "<ids/>"}, headers=cast.headers("official"))
    assert bad.status_code == 422 and bad.json()["error"] == "ids_unreadable"
    created = client.post(f"{BIM}/ids", json=body, headers=cast.headers("official"))
    assert created.status_code == 201, created.text
    ids = created.json()
    assert ids["current_version"] == 1 and len(ids["versions"][0]["specifications"]) == 4
    assert [s["required"] for s in ids["versions"][0]["specifications"]] == [False, False, False, True]
    listed = client.get(f"{BIM}/ids", headers=cast.headers("uploader_a")).json()["items"]
    assert [i["id"] for i in listed] == [ids["id"]]  # design institutes read the requirements
    assert (
        client.patch(
            f"{BIM}/ids/{ids['id']}", json={"require_pass": True}, headers=cast.headers("uploader_a")
        ).status_code
        == 403
    )
    two = client.post(
        f"{BIM}/ids/{ids['id']}/versions",
        json={"xml": georeferencing_only(ORDOS_IDS)},
        headers=cast.headers("official"),
    )
    assert two.status_code == 201 and two.json()["current_version"] == 2
    assert len(two.json()["versions"][1]["specifications"]) == 1
    first = client.get(f"{BIM}/ids/{ids['id']}/versions/1/file", headers=cast.headers("viewer"))
    assert first.status_code == 200 and first.text == ORDOS_IDS
    audit = client.get("/api/v1/audit", params={"object_type": "bim_ids"}, headers=cast.headers("admin"))
    assert audit.status_code == 200
    assert {"ids.created", "ids.version_added"} <= {e["action"] for e in audit.json()["entries"]}


@pytest.mark.timeout(600)
def test_revisions_are_checked_next_to_conversion(client: Any, cast: Any, start_worker: Any, tmp_path: Path) -> None:
    first_model, _ = make_review_models.make_revisions(tmp_path / "models")
    official, owner = cast.headers("official"), cast.headers("uploader_a")
    ids = client.post(f"{BIM}/ids", json={"name": "示例 Ordos delivery", "xml": ORDOS_IDS}, headers=official).json()
    assigned = client.patch(
        f"{BIM}/ids/{ids['id']}",
        json={"organization_ids": [str(cast.orgs["institute_a"])], "dataset_kinds": ["ifc"], "require_pass": True},
        headers=official,
    )
    assert assigned.status_code == 200 and assigned.json()["require_pass"] is True
    start_worker()
    answer = upload(client, owner, first_model, name="示例 review office", district="kangbashi", visibility="internal")
    assert answer.status_code == 202, answer.text
    dataset_id, revision_id = answer.json()["dataset"]["id"], answer.json()["revision"]["id"]
    assert (
        wait_job(client, owner, answer.json()["job"]["href"])["state"] == "succeeded"
    )  # a failing check never blocks it

    [check] = wait_for(lambda: checks_done(client, owner, revision_id, 1), timeout=120)
    assert check["state"] == "failed" and check["ids_version"] == 1 and check["require_pass"]
    assert check["summary"]["failed_specifications"] == 3 and check["summary"]["passed_specifications"] == 1
    failing = {
        (spec["name"].split(" / ")[0], req["facet"], f["ifc_class"], f["name"])
        for spec in check["specifications"]
        for req in spec["requirements"]
        for f in req["failures"]
    }
    assert failing == {
        ("构件位于楼层", "PartOf", "IfcWall", "Loose wall"),
        ("墙体注明内外墙", "Property", "IfcWall", "Partition"),
        ("空间有名称和面积", "Attribute", "IfcSpace", ""),
        ("空间有名称和面积", "Property", "IfcSpace", ""),
    }
    elements = client.get(f"{BIM}/revisions/{revision_id}/failing-elements", headers=owner).json()["global_ids"]
    assert len(elements) == 3 and all(len(g) == 22 for g in elements)

    # the publication was held back; publishing by hand is refused with the reason
    dataset = client.get(f"/api/v1/datasets/{dataset_id}", headers=owner).json()
    assert dataset.get("published_revision_id") is None, dataset
    refused = client.post(f"/api/v1/datasets/{dataset_id}/revisions/{revision_id}/publish", headers=owner)
    assert refused.status_code == 409 and "requires a pass" in refused.json()["detail"]

    # role matrix: the owner's organisation and officials see the checks, another institute does not
    assert client.get(f"{BIM}/revisions/{revision_id}/checks", headers=official).status_code == 200
    assert client.get(f"{BIM}/revisions/{revision_id}/checks", headers=cast.headers("uploader_b")).status_code == 404
    assert client.get(f"{BIM}/checks/{check['id']}", headers=cast.headers("uploader_b")).status_code == 404
    assert client.post(f"{BIM}/revisions/{revision_id}/checks", headers=cast.headers("viewer")).status_code == 403

    # a new version the model passes: checked on request, then the held-back revision is published
    client.post(f"{BIM}/ids/{ids['id']}/versions", json={"xml": georeferencing_only(ORDOS_IDS)}, headers=official)
    asked = client.post(f"{BIM}/revisions/{revision_id}/checks", headers=owner)
    assert asked.status_code == 202, asked.text
    checks = wait_for(lambda: checks_done(client, owner, revision_id, 2), timeout=120)
    assert [(c["ids_version"], c["state"]) for c in checks] == [(1, "failed"), (2, "passed")]
    published = wait_for(
        lambda: client.get(f"/api/v1/datasets/{dataset_id}", headers=owner).json().get("published_revision_id"),
        timeout=30,
    )
    assert published == revision_id
