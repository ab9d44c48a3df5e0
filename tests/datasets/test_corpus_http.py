"""Every corpus file through the whole service: HTTP upload, a real worker, PostGIS, streaming, and
the independent validators on what a viewer would download."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.http_api import upload, wait_job
from tests.support.http_tiles import mirror
from tests.support.validators import assert_output_valid

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
# files that carry no georeferencing need the uploader to say where they go (or to allow a default place)
PARAMS = {
    "IfcOpenHouse_IFC4.ifc": {"allow_ungeoreferenced": "true"},
    "SverchokFacadesIfcSverchok.ifc": {"allow_ungeoreferenced": "true"},
    "vectorworks_unicode.ifc": {"allow_ungeoreferenced": "true"},
    "lion_takanawa.copc.laz": {"local": "true"},
    "stanford_bunny.ply": {"local": "true"},
}
FILES = sorted(p for p in (CORPUS / "ifc").iterdir()) + sorted(p for p in (CORPUS / "survey").iterdir())


@pytest.mark.skipif(not FILES, reason="../shared/corpus is not beside the checkout")
def test_every_corpus_file_through_the_service(client, cast, start_worker, tmp_path: Path) -> None:
    start_worker()
    start_worker()
    headers = cast.headers("surveyor")
    submitted = {}
    for path in FILES:
        response = upload(client, headers, path, name=path.name, visibility="public", **PARAMS.get(path.name, {}))
        assert response.status_code == 202, (path.name, response.text)
        submitted[path.name] = response.json()
    # without the placement it needs, a file is refused with a reason, as a data error
    refused = upload(client, headers, CORPUS / "ifc" / "IfcOpenHouse_IFC4.ifc", name="no placement")
    refused_job = wait_job(client, headers, refused.json()["job"]["href"], timeout=600)
    assert refused_job["state"] == "failed" and refused_job["error_kind"] == "data"
    assert "georeferenced" in refused_job["error"]
    for name, body in submitted.items():
        job = wait_job(client, headers, body["job"]["href"], timeout=900)
        assert job["state"] == "succeeded", (name, job)
        dataset_id = body["dataset"]["id"]
        entry = mirror(client, f"http://testserver/tiles/{dataset_id}/tileset.json", tmp_path / name)
        assert_output_valid(entry.parent, entry.name)
        detail = client.get(f"/api/v1/datasets/{dataset_id}").json()
        assert detail["footprint"] is not None, name
        assert detail["published_revision"]["georeferencing"]["origin"] is not None, name
    city = mirror(client, "http://testserver/tiles/city/tileset.json", tmp_path / "city")
    assert_output_valid(city.parent, city.name)
