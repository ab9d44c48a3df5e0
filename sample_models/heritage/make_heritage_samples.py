"""Generate the demo's historic-building records: clearly synthetic (every name says 示例 / Example),
in Dongsheng, with geometries in CGCS2000 Gauss-Krüger zone 37 (EPSG:4546), protection ranges and
construction-control zones, archive items (small generated files) and the status each should reach.

One record (the old granary) is placed over buildings of the demo footprint layer
(``survey/ordos_footprints.geojson``), so the demo shows a protection conflict.

Usage: ``python sample_models/heritage/make_heritage_samples.py`` (writes ``dongsheng_heritage.json``
and ``files/`` next to this script; deterministic).
"""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path
from typing import Any

from pyproj import Transformer
from shapely.geometry import shape

HERE = Path(__file__).resolve().parent
FOOTPRINTS = HERE.parent / "survey" / "ordos_footprints.geojson"
CRS = "EPSG:4546"
TO_GK = Transformer.from_crs("EPSG:4490", CRS, always_xy=True)
SYNTHETIC = "Synthetic sample data made by this project; not a real historic building. 合成示例数据，非真实历史建筑。"


def gk(lon: float, lat: float) -> tuple[float, float]:
    east, north = TO_GK.transform(lon, lat)
    return round(float(east), 3), round(float(north), 3)


def rect(center: tuple[float, float], half_w: float, half_h: float) -> dict[str, Any]:
    e, n = center
    ring = [[e - half_w, n - half_h], [e + half_w, n - half_h], [e + half_w, n + half_h], [e - half_w, n + half_h]]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    """A small solid-colour PNG (a stand-in photo)."""
    raw = b"".join(b"\x00" + bytes(colour) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def record(code: str, name: str, center: tuple[float, float], **extra: Any) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "district": "dongsheng",
        "town": "示例街道 Example subdistrict",
        "level": "historic_building",
        "listing_batch": "示例第一批 Example batch 1",
        "location": {"type": "Point", "coordinates": list(center)},
        "outline": rect(center, 12, 8),
        "protection_range": rect(center, 30, 25),
        "control_zone": rect(center, 70, 60),
        "category": "building",
        "value_features": SYNTHETIC,
        **extra,
    }


def items(*sections: str, accepted: bool) -> list[dict[str, Any]]:
    files = {
        "features": ("photo", "facade.png", "示例 立面照片 Example facade photo"),
        "technical": ("plan", "plan.svg", "示例 平面图 Example plan"),
        "use_ownership": ("ownership_record", "ownership.txt", "示例 产权变更记录 Example ownership record"),
        "interventions": ("repair_record", "repair.txt", "示例 修缮记录 Example repair record"),
        "survey": ("survey_report", "survey-report.txt", "示例 测绘报告 Example survey report"),
    }
    out = []
    for section in sections:
        kind, file, title = files[section]
        out.append(
            {
                "section": section,
                "kind": kind,
                "file": f"files/{file}",
                "title": title,
                "accepted": accepted,
                "plane_datum": CRS,
                "height_datum": "yellow_sea_1985",
                "survey_tier": "typical",
                "accuracy": "±2 cm (example)",
                "captured_on": "2026-09-15",
                "surveyor": "示例测绘员 Example surveyor",
                "organisation": "示例测绘队 Example survey team",
                "equipment": "示例 Example total station",
                **({"event_date": "2008-06-01"} if section in ("use_ownership", "interventions") else {}),
            }
        )
    return out


def main() -> None:
    footprints = json.loads(FOOTPRINTS.read_text(encoding="utf-8"))["features"]
    dongsheng = [shape(f["geometry"]) for f in footprints if shape(f["geometry"]).centroid.y > 39.8]
    granary = gk(dongsheng[0].centroid.x, dongsheng[0].centroid.y)  # over a demo footprint: a conflict
    courtyard = gk(109.9760, 39.8240)
    # the stele of the demo's scan mesh (survey/stele_scan_colour.ply, placed at this origin): its archive
    # holds the scan, converted through the jobs into a dataset linked to the record
    stele_origin = (411217.47, 4410390.77)
    stele = record(
        "EX-150602-006",
        "示例 东胜石碑 · Example: Dongsheng stele",
        stele_origin,
        target_status="listed",
        category="structure",
        construction_period="清 Qing",
        year_precision="period",
        structure_type="石 stone",
    )
    stele.update(outline=rect(stele_origin, 1.5, 1), protection_range=rect(stele_origin, 6, 6))
    stele["control_zone"] = rect(stele_origin, 20, 20)
    stele["items"] = [
        {
            "section": "survey",
            "kind": "model_3d",
            "file": "../survey/stele_scan_colour.ply",
            "convert": "true",
            "crs": "EPSG:4546+5737",
            "origin": "411217.47,4410390.77,1290.0",
            "title": "示例 石碑扫描 Example stele scan",
            "plane_datum": CRS,
            "height_datum": "yellow_sea_1985",
            "survey_tier": "full",
            "accepted": True,
        }
    ]
    records = [
        record(
            "EX-150602-001",
            "示例 王家院落正房 · Example: Wang courtyard, main hall",
            courtyard,
            group="EX-G1",
            target_status="listed",
            construction_period="民国 Republic era",
            construction_year=1930,
            year_precision="decade",
            structure_type="砖木 brick and timber",
            storeys=1,
            ownership="private",
            owner="示例产权人 Example owner",
            current_use="居住 dwelling",
            preservation="fair",
            items=items("features", "technical", "use_ownership", "interventions", "survey", accepted=True),
        ),
        record(
            "EX-150602-002",
            "示例 王家院落厢房 · Example: Wang courtyard, side hall",
            (courtyard[0] + 30, courtyard[1]),
            group="EX-G1",
            target_status="listed",
            storeys=1,
            items=items("features", "survey", accepted=True) + items("technical", accepted=False),
            proposal={"current_use": "展览 exhibition", "note": "示例 Example: new use after the survey"},
        ),
        record(
            "EX-150602-003",
            "示例 东胜旧粮站 · Example: old Dongsheng granary",
            granary,
            target_status="listed",
            category="structure",
            construction_period="1950s",
            construction_year=1958,
            year_precision="decade",
            structure_type="砖混 brick-concrete",
            ownership="state",
            items=items("features", accepted=True),
        ),
        record(
            "EX-150602-004",
            "示例 天主教堂旧址 · Example: former chapel",
            gk(109.9790, 39.8210),
            target_status="under_review",
            level="city",
            construction_period="清 Qing",
            year_precision="period",
        ),
        stele,
        record("EX-150602-005", "示例 老邮局 · Example: old post office", gk(109.9820, 39.8250), target_status="draft"),
    ]
    document = {
        "description": SYNTHETIC,
        "crs": CRS,
        "groups": [
            {"code": "EX-G1", "name": "示例 王家院落 · Example: Wang family courtyard", "description": SYNTHETIC}
        ],
        "records": records,
    }
    (HERE / "dongsheng_heritage.json").write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n")
    files = HERE / "files"
    files.mkdir(exist_ok=True)
    (files / "facade.png").write_bytes(png(64, 48, (176, 132, 96)))
    (files / "plan.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="240" height="160"><rect x="20" y="20" width="200" '
        'height="120" fill="none" stroke="black"/><text x="30" y="90">示例 Example plan</text></svg>\n'
    )
    for name, text in (
        ("ownership.txt", "示例 Example: 1952 ownership transferred (synthetic record).\n"),
        ("repair.txt", "示例 Example: 2008 roof repaired (synthetic record).\n"),
        ("survey-report.txt", "示例 Example survey report: synthetic, made by make_heritage_samples.py.\n"),
    ):
        (files / name).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
