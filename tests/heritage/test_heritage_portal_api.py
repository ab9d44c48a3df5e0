"""What the heritage pages need of the API beyond the records: a dataset revision's protection conflicts at its own
route (the dataset page's section), for every reader and nobody else, with the overlaps PostGIS computes; and the
portal's heritage pages served on a reload."""

from __future__ import annotations

import pytest
from shapely.geometry import Polygon

from api.portal import BUILT
from tests.support.heritage import add_revision, create, lonlat, rect


def _footprint(west: float, south: float, east: float, north: float) -> Polygon:
    return Polygon([lonlat(e, n) for e, n in rect(west, south, east, north)])


def _revision(client, cast, dataset_id: str) -> str:
    answer = client.get(f"/api/v1/datasets/{dataset_id}/revisions", headers=cast.headers("official"))
    assert answer.status_code == 200, answer.text
    return str(answer.json()["revisions"][0]["id"])


def test_revision_conflicts_route(client, cast) -> None:
    record, _ = create(client, cast.headers("surveyor"), "150602-0700")
    engine, org = client.app.state.engine, cast.orgs["institute_a"]
    touching = add_revision(engine, org, _footprint(70, 40, 130, 100), name="touching")  # as tests.support.heritage
    apart = add_revision(engine, org, _footprint(500, 500, 600, 600), name="apart")
    touching_revision, apart_revision = _revision(client, cast, touching), _revision(client, cast, apart)
    url = f"/api/v1/heritage/datasets/{touching}/revisions/{touching_revision}/conflicts"

    assert client.get(url).status_code == 401
    for actor in ("viewer", "uploader_b", "surveyor", "official", "admin"):
        answer = client.get(url, headers=cast.headers(actor))
        assert answer.status_code == 200, (actor, answer.text)
        body = answer.json()
        assert body["count"] == 2, actor
    zones = {c["zone"]: c for c in body["conflicts"]}
    assert set(zones) == {"protection_range", "control_zone"}
    assert {c["building_id"] for c in body["conflicts"]} == {record["id"]}
    # the plane (Gauss-Krüger) overlaps of the footprint 60 × 60 m with the 100 × 80 m range and the 200 × 180 m zone
    assert zones["protection_range"]["area_gk_m2"] == pytest.approx(30 * 40, rel=1e-3)
    assert zones["control_zone"]["area_gk_m2"] == pytest.approx(60 * 60, rel=1e-3)
    assert all(c["revision_id"] == touching_revision and c["gk_epsg"] == 4546 for c in body["conflicts"])

    apart_url = f"/api/v1/heritage/datasets/{apart}/revisions/{apart_revision}/conflicts"
    assert client.get(apart_url, headers=cast.headers("viewer")).json() == {"conflicts": [], "count": 0}
    mismatched = f"/api/v1/heritage/datasets/{apart}/revisions/{touching_revision}/conflicts"
    assert client.get(mismatched, headers=cast.headers("viewer")).json()["count"] == 0
    assert client.get(url.replace(touching_revision, "not-a-uuid"), headers=cast.headers("viewer")).status_code == 422


@pytest.mark.skipif(not (BUILT / "index.html").is_file(), reason="the portal is not built")
def test_heritage_pages_open_on_reload(client) -> None:
    for path in ("/heritage", "/heritage/review", "/heritage/0f0e0d0c-0000-4000-8000-000000000000/edit"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["content-type"].startswith("text/html") and '<div id="app">' in answer.text
    assert client.get("/api/v1/heritage/buildings").headers["content-type"].startswith("application/json")
