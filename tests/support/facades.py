"""Facades test helpers: street geometries in CGCS2000 Gauss-Krüger zone 37 (EPSG:4546) near the
seats of Dongsheng, Kangbashi and Altan Xire, and streets made over HTTP."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from pyproj import Transformer

from tests.support import heritage

GK = "EPSG:4546"
SEATS = {"dongsheng": (109.963, 39.823), "kangbashi": (109.790, 39.608), "ejin-horo": (109.748, 39.565)}
_to_gk = Transformer.from_crs("EPSG:4490", GK, always_xy=True)
STREETS = "/api/v1/facades/streets"
PROJECTS = "/api/v1/facades/projects"


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


def if_match(client: TestClient, headers: dict[str, str], street_id: str) -> dict[str, str]:
    """``headers`` with If-Match: the street's ETag as read now."""
    answer = client.get(f"{STREETS}/{street_id}", headers=headers)
    assert answer.status_code == 200, answer.text
    return {**headers, "If-Match": answer.headers["ETag"]}


def advance(client: TestClient, headers: dict[str, str], street_id: str, status: str, **extra: Any) -> dict[str, Any]:
    answer = client.post(
        f"{STREETS}/{street_id}/status",
        json={"status": status, **extra},
        headers=if_match(client, headers, street_id),
    )
    assert answer.status_code == 200, answer.text
    out: dict[str, Any] = answer.json()
    return out


GOOD_COLOURS = [
    {"hex": "#E6DCC8", "use": "main", "share": 70},
    {"munsell": "5YR 5/2", "use": "secondary", "share": 20},
    {"lab": [30, 20, 15], "use": "accent", "share": 10},
]


def project_body(code: str, west: float, south: float, **extra: Any) -> dict[str, Any]:
    """A project on a 20×10 m footprint drawn in EPSG:4546, (west, south) metres from the Dongsheng seat."""
    return {
        "code": code,
        "name": f"示例 example facade {code}",
        "district": "dongsheng",
        "crs": heritage.GK,
        "footprint": heritage.polygon(west, south, west + 20, south + 10),
        "orientation": "S",
        "facade_area_m2": 420.5,
        "measures": [
            {"kind": "wall_renewal", "quantity": 400, "unit": "m²"},
            {"kind": "shop_signs", "quantity": 6, "unit": "signs"},
            {"kind": "lighting", "quantity": 24, "unit": "lights"},
        ],
        "materials": ["真石漆 stone paint", "铝板 aluminium panels"],
        "signs": {"count": 6, "sizes": ["6.0×1.2 m", "4.0×1.0 m"]},
        "lighting": "LED 3000 K wall washers",
        "budget_cny": 1_250_000,
        "funding_source": "city facade programme",
        "contractor": "示例 contractor",
        "planned_start": "2024-04-01",
        "planned_end": "2024-09-30",
        "colours": GOOD_COLOURS,
        **extra,
    }


def jpeg(*, taken: str | None = "2024:05:06 10:11:12", direction: float | None = 135.0) -> bytes:
    """A small JPEG photo, with EXIF capture time (DateTimeOriginal) and GPSImgDirection when given."""
    import io

    from PIL import Image

    image = Image.new("RGB", (64, 48), (200, 180, 150))
    buffer = io.BytesIO()
    exif = Image.Exif()
    if taken is not None:
        exif.get_ifd(0x8769)[0x9003] = taken
    if direction is not None:
        exif.get_ifd(0x8825)[0x0011] = direction
    image.save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()
