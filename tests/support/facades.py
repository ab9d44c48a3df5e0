"""Facades test helpers: street geometries in CGCS2000 Gauss-Krüger zone 37 (EPSG:4546) near the
seats of Dongsheng, Kangbashi and Altan Xire, and streets made over HTTP."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from pyproj import Transformer

GK = "EPSG:4546"
SEATS = {"dongsheng": (109.963, 39.823), "kangbashi": (109.790, 39.608), "ejin-horo": (109.748, 39.565)}
_to_gk = Transformer.from_crs("EPSG:4490", GK, always_xy=True)
STREETS = "/api/v1/facades/streets"


def line(district: str, offset_m: float = 0.0, length_m: float = 300.0) -> dict[str, Any]:
    """An east-west street line in EPSG:4546, ``offset_m`` north of the seat."""
    east, north = _to_gk.transform(*SEATS[district])
    return {"type": "LineString", "coordinates": [[east, north + offset_m], [east + length_m, north + offset_m]]}


def make_street(
    client: TestClient, headers: dict[str, str], code: str, district: str, year: int, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": code,
        "name": f"示例 example street {code}",
        "district": district,
        "year": year,
        "crs": GK,
        "geometry": line(district, offset_m=float(len(code)) * 10),
        **extra,
    }
    answer = client.post(STREETS, json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    street: dict[str, Any] = answer.json()
    return street


def advance(client: TestClient, headers: dict[str, str], street_id: str, status: str, **extra: Any) -> dict[str, Any]:
    answer = client.post(f"{STREETS}/{street_id}/status", json={"status": status, **extra}, headers=headers)
    assert answer.status_code == 200, answer.text
    out: dict[str, Any] = answer.json()
    return out
