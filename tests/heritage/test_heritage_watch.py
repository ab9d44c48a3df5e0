"""Demolition watch: publishing a footprint layer that covers a listed building's place without a
building there raises an alert for officials; a layer with the building raises none."""

from __future__ import annotations

from typing import Any

from shapely.geometry import MultiPolygon, Polygon

from tests.support.heritage import add_ready_revision, listed, lonlat, rect

ALERTS = "/api/v1/heritage/alerts"


def _layer(
    client: Any, cast: Any, *boxes: tuple[float, float, float, float], kind: str = "footprints", approval: bool = False
) -> str:
    """A converted (ready, unpublished) footprint layer of the given GK boxes; published over HTTP."""
    polygons = [Polygon([lonlat(e, n) for e, n in rect(*box)]) for box in boxes]
    dataset_id, revision_id = add_ready_revision(client.app.state.engine, cast.orgs["institute_a"],
                                                 MultiPolygon(polygons), name=f"layer {len(boxes)}", kind=kind)
    if approval:  # the layer overlaps protection zones: publishing needs the approval reference
        body = {"revision_id": str(revision_id), "reference": "示例 approval"}
        assert client.post("/api/v1/heritage/approvals", headers=cast.headers("official"), json=body).status_code == 201
    url = f"/api/v1/datasets/{dataset_id}/revisions/{revision_id}/publish"
    response = client.post(url, headers=cast.headers("uploader_a"))
    assert response.status_code == 200, response.text
    return str(dataset_id)


def test_a_layer_without_the_listed_building_raises_an_alert(client, cast) -> None:
    official = cast.headers("official")
    record, _ = listed(client, cast, "150602-0400")  # outline 40…60 × 35…45 m, control zone −50…150 × −50…130
    with_building = _layer(
        client, cast, (-300, -300, -250, -250), (42, 36, 58, 44), (300, 300, 350, 350), approval=True
    )
    assert client.get(ALERTS, headers=official).json()["alerts"] == []
    elsewhere = _layer(client, cast, (1000, 1000, 1050, 1050))  # does not cover the place: no opinion
    assert elsewhere and client.get(ALERTS, headers=official).json()["alerts"] == []
    scan = _layer(client, cast, (-300, -300, -250, -250), (300, 300, 350, 350), kind="pointcloud")
    assert scan and client.get(ALERTS, headers=official).json()["alerts"] == []
    without = _layer(client, cast, (-300, -300, -250, -250), (300, 300, 350, 350))
    alerts = client.get(ALERTS, headers=official).json()["alerts"]
    assert [(a["building_id"], a["dataset_id"]) for a in alerts] == [(record["id"], without)]
    assert with_building != without
    assert client.get(ALERTS, headers=cast.headers("surveyor")).status_code == 403
    assert client.get(ALERTS).status_code == 401
    alert_id = alerts[0]["id"]
    url = f"{ALERTS}/{alert_id}/resolve"
    assert client.post(url, headers=cast.headers("surveyor"), json={"resolution": "x"}).status_code == 403
    resolved = client.post(url, headers=official, json={"resolution": "site visited: the building stands"})
    assert resolved.status_code == 200 and resolved.json()["resolved_by"] == "official"
    assert client.get(ALERTS, headers=official).json()["alerts"] == []
    assert len(client.get(ALERTS, headers=official, params={"open_only": False}).json()["alerts"]) == 1
    history = client.get(f"/api/v1/heritage/buildings/{record['id']}/history", headers=official).json()["entries"]
    assert [e["action"] for e in history][-2:] == ["heritage.alert.raised", "heritage.alert.resolved"]
