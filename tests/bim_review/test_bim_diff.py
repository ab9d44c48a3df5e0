"""What changed between two IFC revisions (ifcdiff): generated revisions with known changes, the
library and the job behind the API."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from cim_platform.bim_review.model_diff import diff_files
from tests.support.http_api import upload, wait_job
from tests.support.waiting import wait_for

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "make_review_models", ROOT / "sample_models" / "bim_review" / "make_review_models.py"
)
assert _spec and _spec.loader
make_review_models = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_review_models)
KNOWN = make_review_models.KNOWN


@pytest.fixture(scope="module")
def revisions(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_review_models.make_revisions(tmp_path_factory.mktemp("bim-diff"))  # type: ignore[no-any-return]


def changed_names(result: dict[str, Any]) -> dict[str, list[str]]:
    by_kind: dict[str, list[str]] = {}
    for element in result["changed"]:
        for kind in element["changes"]:
            by_kind.setdefault(kind, []).append(element["name"])
    return by_kind


def test_known_changes(revisions: tuple[Path, Path]) -> None:
    result = diff_files(*revisions)
    assert [e["name"] for e in result["added"]] == KNOWN["added"]
    assert [e["name"] for e in result["deleted"]] == KNOWN["deleted"]
    by_kind = changed_names(result)
    assert by_kind == {
        "geometry": KNOWN["geometry"],
        "attributes": ["Partition P1"],  # named as in the new revision
        "properties": KNOWN["property"],
        "container": KNOWN["container"],
        "type": KNOWN["type"],
    }
    column = next(e for e in result["changed"] if e["name"] == "Column K1")
    assert "K-500x500" in str(column["details"]["properties"]) and "K-400x400" in str(column["details"]["properties"])
    assert result["summary"] == {
        "added": 1,
        "deleted": 1,
        "changed": 5,
        "changed_by_kind": {"attributes": 1, "geometry": 1, "properties": 1, "type": 1, "container": 1},
    }
    assert diff_files(revisions[0], revisions[0])["summary"]["changed"] == 0


def test_diff_job_between_two_revisions(
    client: Any, cast: Any, start_worker: Any, revisions: tuple[Path, Path]
) -> None:
    owner = cast.headers("uploader_a")
    start_worker()
    first = upload(client, owner, revisions[0], name="示例 review office", district="kangbashi", visibility="internal")
    assert first.status_code == 202, first.text
    dataset_id = first.json()["dataset"]["id"]
    with revisions[1].open("rb") as handle:
        second = client.post(
            f"/api/v1/datasets/{dataset_id}/revisions", headers=owner, files={"file": (revisions[1].name, handle)}
        )
    assert second.status_code == 202, second.text
    old, new = first.json()["revision"]["id"], second.json()["revision"]["id"]
    body = {"old_revision": old, "new_revision": new}
    assert (
        client.post(
            f"/api/v1/bim/datasets/{dataset_id}/diffs", json=body, headers=cast.headers("uploader_b")
        ).status_code
        == 404
    )
    asked = client.post(f"/api/v1/bim/datasets/{dataset_id}/diffs", json=body, headers=owner)
    assert asked.status_code == 202, asked.text
    assert wait_job(client, owner, asked.json()["job_url"])["state"] == "succeeded"
    diff = wait_for(lambda: (d := client.get(asked.headers["Location"], headers=owner).json())["summary"] and d)
    assert diff["state"] == "passed" and diff["summary"]["added"] == 1 and diff["summary"]["changed"] == 5
    assert [e["name"] for e in diff["deleted"]] == KNOWN["deleted"]
    again = client.post(f"/api/v1/bim/datasets/{dataset_id}/diffs", json=body, headers=owner)
    assert again.json()["id"] == diff["id"]  # computed once
    listed = client.get(f"/api/v1/bim/datasets/{dataset_id}/diffs", headers=cast.headers("official")).json()["items"]
    assert [d["id"] for d in listed] == [diff["id"]]
    assert client.get(asked.headers["Location"], headers=cast.headers("uploader_b")).status_code == 404
