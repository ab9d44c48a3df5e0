"""Generate the synthetic facade-programme demo data (``facade_demo.json``): showcase streets in
Dongsheng, Kangbashi and Altan Xire for 2023–2025 and facade projects on them. Every name is marked
示例 / example; geometries are invented lines and footprints near the towns' seats (EPSG:4546).

What the demo shows: every unit on track in 2023 and 2024; in 2025 Dongsheng is behind (two streets
accepted, the third still under construction when the year ended); one project fails the colour rule
(a saturated sienna main colour); one project is on the synthetic historic building EX-150602-001 of
``sample_models/heritage/`` and needs approval documents.

``python sample_models/facades/make_facade_samples.py`` rewrites the JSON next to this file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pyproj import Transformer

HERE = Path(__file__).resolve().parent
HERITAGE = HERE.parent / "heritage" / "dongsheng_heritage.json"
OUT = HERE / "facade_demo.json"
CRS = "EPSG:4546"
SEATS = {"dongsheng": (109.963, 39.823), "kangbashi": (109.790, 39.608), "altan-xire": (109.748, 39.565)}
UNITS = {
    "dongsheng": {"district": "dongsheng", "name": "东胜", "en": "Dongsheng"},
    "kangbashi": {"district": "kangbashi", "name": "康巴什", "en": "Kangbashi"},
    "altan-xire": {"district": "ejin-horo", "town": "altan-xire", "name": "阿勒腾席热", "en": "Altan Xire"},
}
PASSING = [
    {"hex": "#E6DCC8", "use": "main", "share": 70},
    {"munsell": "7.5YR 6/2", "use": "secondary", "share": 20},
    {"munsell": "5R 3/4", "use": "accent", "share": 10},
]
FAILING = [
    {"hex": "#A0522D", "use": "main", "share": 75},  # 2.3YR 4.3/8.1: chroma > 6
    {"hex": "#E6DCC8", "use": "secondary", "share": 15},
    {"hex": "#0000FF", "use": "accent", "share": 10},  # outside the renotation domain
]


def _gk(lon: float, lat: float) -> tuple[float, float]:
    east, north = Transformer.from_crs("EPSG:4490", CRS, always_xy=True).transform(lon, lat)
    return round(float(east), 3), round(float(north), 3)


def _line(unit: str, index: int) -> dict[str, Any]:
    east, north = _gk(*SEATS[unit])
    y = north + 150.0 * index - 600.0
    return {"type": "LineString", "coordinates": [[east - 200.0, y], [east + 250.0, y]]}


def _footprint(unit: str, index: int, number: int) -> dict[str, Any]:
    east, north = _gk(*SEATS[unit])
    x, y = east - 180.0 + 45.0 * number, north + 150.0 * index - 600.0 + 8.0
    return {"type": "Polygon", "coordinates": [[[x, y], [x + 30, y], [x + 30, y + 14], [x, y + 14], [x, y]]]}


def _streets() -> list[dict[str, Any]]:
    streets = []
    for unit, info in UNITS.items():
        for y, year in enumerate((2023, 2024, 2025)):
            for n in range(3):
                index = y * 3 + n
                status = "accepted"
                if unit == "dongsheng" and year == 2025 and n == 2:
                    status = "under_construction"  # not accepted by the year's end: Dongsheng behind in 2025
                street: dict[str, Any] = {
                    "code": f"EX-SS-{unit.upper()[:2]}-{year}-{n + 1}",
                    "name": f"示例 {info['name']}示范街 {year}-{n + 1} (example showcase street)",
                    "district": info["district"],
                    "year": year,
                    "zone": "old_town" if n == 0 else "new_district",
                    "crs": CRS,
                    "geometry": _line(unit, index),
                    "status": status,
                }
                if "town" in info:
                    street["town"] = info["town"]
                if status == "accepted":
                    street["acceptance_document"] = f"示例 {info['name']}示范街验收 {year}-{n + 1}"
                    street["accepted_on"] = f"{year}-{9 + n:02d}-15"
                streets.append(street)
    return streets


def _project(code: str, name: str, street: str, unit: str, index: int, number: int, **extra: Any) -> dict[str, Any]:
    project: dict[str, Any] = {
        "code": code,
        "name": f"示例 {name} (example)",
        "street": street,
        "crs": CRS,
        "footprint": _footprint(unit, index, number),
        "orientation": "S",
        "facade_area_m2": 380.0,
        "measures": [
            {"kind": "wall_renewal", "quantity": 360, "unit": "m²"},
            {"kind": "shop_signs", "quantity": 8, "unit": "signs"},
            {"kind": "lighting", "quantity": 20, "unit": "lights"},
        ],
        "materials": ["真石漆 stone paint", "仿古青砖 grey brick"],
        "signs": {"count": 8, "sizes": ["6.0×1.2 m", "3.0×0.8 m"]},
        "lighting": "LED 3000 K, wall washers and sign lights",
        "budget_cny": 900_000,
        "funding_source": "示例 city facade programme",
        "contractor": "示例 Ordos facade contractor",
        "planned_start": "2025-04-01",
        "planned_end": "2025-10-31",
        "colours": PASSING,
        "status": "accepted",
    }
    project.update(extra)
    return project


def _heritage_outline() -> dict[str, Any]:
    records = json.loads(HERITAGE.read_text(encoding="utf-8"))["records"]
    outline: dict[str, Any] = next(r for r in records if r["code"] == "EX-150602-001")["outline"]
    return outline


def build() -> dict[str, Any]:
    projects = [
        _project("EX-FP-DO-1", "东胜 shop-house facade 1", "EX-SS-DO-2025-1", "dongsheng", 6, 0, spent_cny=870_000),
        _project(
            "EX-FP-DO-2",
            "东胜 facade on a historic building, approval pending",
            "EX-SS-DO-2025-2",
            "dongsheng",
            7,
            0,
            footprint=_heritage_outline(),
            status="design",
        ),
        _project(
            "EX-FP-KA-1",
            "康巴什 facade failing the colour rule",
            "EX-SS-KA-2025-1",
            "kangbashi",
            6,
            0,
            colours=FAILING,
            status="design",
        ),
        _project("EX-FP-KA-2", "康巴什 mall facade", "EX-SS-KA-2025-2", "kangbashi", 7, 1, status="completed"),
        _project(
            "EX-FP-AL-1",
            "阿勒腾席热 street-front renewal",
            "EX-SS-AL-2025-1",
            "altan-xire",
            6,
            0,
            status="construction",
            measures=[
                {"kind": "wall_renewal", "quantity": 500, "unit": "m²", "done": 220},
                {"kind": "unified_facade", "quantity": 200, "unit": "m²", "done": 50},
                {"kind": "lighting", "quantity": 30, "unit": "lights", "done": 10},
            ],
            spent_cny=400_000,
        ),
    ]
    return {
        "description": "示例 synthetic facade-programme demo data (issue 11); every name is an example",
        "crs": CRS,
        "streets": _streets(),
        "projects": projects,
    }


if __name__ == "__main__":
    OUT.write_text(json.dumps(build(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")
