"""Protection checks on real geometries in CGCS2000 Gauss-Krüger zone 37 (EPSG:4546): a dataset revision
whose footprint overlaps a protection range and a construction-control zone, with the overlap areas
computed by PostGIS compared to a hand computation (within 0.1 %)."""

from __future__ import annotations

import uuid
from typing import Any

from pyproj import Geod
from shapely.geometry import Polygon

from cim_platform.core.db.engine import session_scope
from cim_platform.datasets.models import Dataset, DatasetRevision
from tests.support.heritage import create, lonlat, rect
from tests.support.stored_datasets import StoredRevision, add_dataset

CONFLICTS = "/api/v1/heritage/conflicts"


def _footprint_wgs84(west: float, south: float, east: float, north: float) -> Polygon:
    return Polygon([lonlat(e, n) for e, n in rect(west, south, east, north)])


def _add_revision(
    client: Any, cast: Any, org: str, footprint: Polygon, *, visibility: str, state: str = "ready"
) -> str:
    revision = StoredRevision(state=state, footprint=footprint, source_filename="f.geojson")
    engine, name = client.app.state.engine, f"Project {org}"
    dataset_id, _ = add_dataset(engine, cast.orgs[org], [revision], name=name, district="150602", visibility=visibility)
    return str(dataset_id)


def _geodesic_area(polygon: Polygon) -> float:
    area, _ = Geod(ellps="GRS80").geometry_area_perimeter(polygon)
    return abs(area)


def test_overlap_areas_within_a_thousandth_of_the_hand_computation(client, cast) -> None:
    # protection range 100 × 80 m and control zone 200 × 180 m around it (tests.support.heritage);
    # the footprint 60 × 60 m at (70…130, 40…100) overlaps the range by 30 × 40 = 1200 m² and lies
    # wholly inside the control zone: 60 × 60 = 3600 m² (plane Gauss-Krüger areas).
    record, _ = create(client, cast.headers("surveyor"), "150602-0200")
    create(client, cast.headers("surveyor"), "150602-0201", protection_range=None, control_zone=None)
    footprint = _footprint_wgs84(70, 40, 130, 100)
    dataset_id = _add_revision(client, cast, "institute_a", footprint, visibility="public")
    _add_revision(client, cast, "institute_a", _footprint_wgs84(500, 500, 600, 600), visibility="public")
    _add_revision(client, cast, "institute_a", footprint, visibility="public", state="failed")
    response = client.get(CONFLICTS, headers=cast.headers("official"))
    assert response.status_code == 200, response.text
    rows = {row["zone"]: row for row in response.json()["conflicts"]}
    assert set(rows) == {"protection_range", "control_zone"}
    for zone, plane_area, overlap in (
        ("protection_range", 1200.0, _footprint_wgs84(70, 40, 100, 80)),
        ("control_zone", 3600.0, footprint),
    ):
        row = rows[zone]
        assert row["building_id"] == record["id"] and row["dataset_id"] == dataset_id and row["published"]
        assert row["gk_epsg"] == 4546
        assert abs(row["area_gk_m2"] - plane_area) / plane_area < 1e-3, row
        assert abs(row["area_m2"] - plane_area) / plane_area < 1e-3, row  # GK scale error ≈ 0.02 % here
        assert abs(row["area_m2"] - _geodesic_area(overlap)) / plane_area < 1e-4, row
    only_range = client.get(CONFLICTS, headers=cast.headers("viewer"), params={"zone": "protection_range"}).json()
    assert [row["zone"] for row in only_range["conflicts"]] == ["protection_range"]
    by_building = client.get(CONFLICTS, headers=cast.headers("viewer"), params={"building": record["id"]}).json()
    assert by_building["count"] == 2
    elsewhere = client.get(CONFLICTS, headers=cast.headers("viewer"), params={"district": "kangbashi"}).json()
    assert elsewhere["count"] == 0


def test_conflicts_follow_dataset_visibility(client, cast) -> None:
    create(client, cast.headers("surveyor"), "150602-0210")
    _add_revision(client, cast, "institute_b", _footprint_wgs84(10, 10, 20, 20), visibility="internal")
    assert client.get(CONFLICTS, headers=cast.headers("uploader_a")).json()["count"] == 0
    assert client.get(CONFLICTS, headers=cast.headers("uploader_b")).json()["count"] == 2
    assert client.get(CONFLICTS, headers=cast.headers("official")).json()["count"] == 2
    assert client.get(CONFLICTS).status_code == 401


def test_publishing_a_conflicting_revision_needs_an_approval(client, cast) -> None:
    from cim_platform.datasets import publishing

    create(client, cast.headers("surveyor"), "150602-0220")
    conflicting = _add_revision(client, cast, "institute_a", _footprint_wgs84(10, 10, 20, 20), visibility="public")
    clear = _add_revision(client, cast, "institute_a", _footprint_wgs84(900, 900, 920, 920), visibility="public")
    uploader = cast.headers("uploader_a")

    def revision_of(dataset_id: str) -> str:
        return str(
            client.get(f"/api/v1/datasets/{dataset_id}/revisions", headers=uploader).json()["revisions"][0]["id"]
        )

    def publish(dataset_id: str) -> Any:
        url = f"/api/v1/datasets/{dataset_id}/revisions/{revision_of(dataset_id)}/publish"
        return client.post(url, headers=uploader)

    assert publish(clear).status_code == 200
    refused = publish(conflicting)
    assert refused.status_code == 409 and "150602-0220" in refused.json()["detail"]
    # a new conversion's automatic publication (the worker, as SYSTEM) is held back, not failed
    with session_scope(client.app.state.engine) as session:
        dataset = session.get(Dataset, uuid.UUID(conflicting))
        assert dataset is not None
        dataset.published_revision_id = None
        revision = session.get(DatasetRevision, uuid.UUID(revision_of(conflicting)))
        assert revision is not None
        publishing.publish(session, dataset, revision)
        assert dataset.published_revision_id is None
    approvals = "/api/v1/heritage/approvals"
    body = {"revision_id": revision_of(conflicting), "reference": "鄂住建审〔2026〕3号"}
    assert client.post(approvals, headers=cast.headers("surveyor"), json=body).status_code == 403
    assert client.post(approvals, headers=cast.headers("official"), json=body).status_code == 201
    assert publish(conflicting).status_code == 200
    listed_approvals = client.get(approvals, headers=uploader, params={"revision": body["revision_id"]}).json()
    assert [a["reference"] for a in listed_approvals["approvals"]] == ["鄂住建审〔2026〕3号"]


def test_a_survey_of_the_building_itself_is_no_conflict(client, cast) -> None:
    import io

    from cim_platform.heritage.models import ArchiveItem

    record, _ = create(client, cast.headers("surveyor"), "150602-0230")
    own = _add_revision(client, cast, "survey", _footprint_wgs84(30, 30, 70, 50), visibility="public")
    other = _add_revision(client, cast, "institute_a", _footprint_wgs84(30, 30, 70, 50), visibility="public")
    filed = client.post(
        f"/api/v1/heritage/buildings/{record['id']}/items",
        headers=cast.headers("surveyor"),
        data={"section": "survey", "kind": "point_cloud", "title": "scan"},
        files={"file": ("scan.laz", io.BytesIO(b"LASF"))},
    )
    assert filed.status_code == 201, filed.text
    with session_scope(client.app.state.engine) as session:
        item = session.get(ArchiveItem, uuid.UUID(filed.json()["id"]))
        assert item is not None
        item.dataset_id = uuid.UUID(own)
    rows = client.get(CONFLICTS, headers=cast.headers("official"), params={"building": record["id"]}).json()
    assert {row["dataset_id"] for row in rows["conflicts"]} == {other}
