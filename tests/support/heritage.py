"""Historic-building test helpers: geometries in CGCS2000 Gauss-Krüger zone 37 (EPSG:4546, Dongsheng)
and records made over HTTP."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from pyproj import Transformer

GK = "EPSG:4546"
DONGSHENG = (109.963, 39.823)  # lon, lat (approximate seat)
_to_gk = Transformer.from_crs("EPSG:4490", GK, always_xy=True)
_from_gk = Transformer.from_crs(GK, "EPSG:4490", always_xy=True)
BUILDINGS = "/api/v1/heritage/buildings"


def gk(lon: float, lat: float) -> tuple[float, float]:
    east, north = _to_gk.transform(lon, lat)
    return float(east), float(north)


def lonlat(east: float, north: float) -> tuple[float, float]:
    lon, lat = _from_gk.transform(east, north)
    return float(lon), float(lat)


ORIGIN = gk(*DONGSHENG)


def rect(west: float, south: float, east: float, north: float) -> list[list[float]]:
    """A closed ring (counter-clockwise), GK metres relative to ORIGIN."""
    e0, n0 = ORIGIN
    corners = [(west, south), (east, south), (east, north), (west, north), (west, south)]
    return [[e0 + x, n0 + y] for x, y in corners]


def polygon(west: float, south: float, east: float, north: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [rect(west, south, east, north)]}


def building_body(code: str, **overrides: Any) -> dict[str, Any]:
    """A record in Dongsheng with its geometries in EPSG:4546: outline 20×10 m, protection range
    100×80 m, construction-control zone 200×180 m around it."""
    e0, n0 = ORIGIN
    body: dict[str, Any] = {
        "code": code,
        "name": f"示例 test building {code}",
        "district": "dongsheng",
        "level": "historic_building",
        "crs": GK,
        "location": {"type": "Point", "coordinates": [e0 + 50, n0 + 40]},
        "outline": polygon(40, 35, 60, 45),
        "protection_range": polygon(0, 0, 100, 80),
        "control_zone": polygon(-50, -50, 150, 130),
        "category": "building",
        "construction_period": "清 Qing",
        "construction_year": 1890,
        "year_precision": "decade",
        "storeys": 1,
        "ownership": "private",
        "owner": "Example owner",
    }
    body.update(overrides)
    return body


def create(client: TestClient, headers: dict[str, str], code: str, **overrides: Any) -> tuple[dict[str, Any], str]:
    response = client.post(BUILDINGS, headers=headers, json=building_body(code, **overrides))
    assert response.status_code == 201, response.text
    return response.json(), response.headers["ETag"]


def step(client: TestClient, headers: dict[str, str], building_id: str, etag: str, to: str, **extra: Any) -> str:
    response = client.post(
        f"{BUILDINGS}/{building_id}/status", headers={**headers, "If-Match": etag}, json={"to": to, **extra}
    )
    assert response.status_code == 200, response.text
    return str(response.headers["ETag"])


def listed(client: TestClient, cast: Any, code: str, **overrides: Any) -> tuple[dict[str, Any], str]:
    """A record taken through the workflow to ``listed`` (surveyor submits, official reviews)."""
    body, etag = create(client, cast.headers("surveyor"), code, **overrides)
    etag = step(client, cast.headers("surveyor"), body["id"], etag, "submitted")
    etag = step(client, cast.headers("official"), body["id"], etag, "under_review")
    etag = step(client, cast.headers("official"), body["id"], etag, "listed")
    response = client.get(f"{BUILDINGS}/{body['id']}", headers=cast.headers("surveyor"))
    return response.json(), etag


def add_revision(engine: Any, organization_id: Any, footprint: Any, *, name: str, district: str = "150602") -> str:
    """A dataset with one ready revision whose footprint (a shapely geometry in EPSG:4326) is stored as a
    conversion stores it, not published; no tiles (the protection checks read footprints). The dataset's id."""
    return add_ready_revision(engine, organization_id, footprint, name=name, district=district)[0]


def add_ready_revision(engine: Any, organization_id: Any, footprint: Any, *, name: str, district: str = "150602",
                       kind: str = "footprints") -> tuple[str, str]:
    """As ``add_revision``, for any dataset kind: the ids of the dataset and of its ready revision."""
    from tests.support.stored_datasets import StoredRevision, add_dataset

    revision = StoredRevision(footprint=footprint, source_filename="footprints.geojson")
    dataset_id, revisions = add_dataset(
        engine, organization_id, [revision], name=name, kind=kind, district=district, published=None
    )
    return str(dataset_id), str(revisions[0])
