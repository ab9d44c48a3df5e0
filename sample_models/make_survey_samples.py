"""Generate the small survey demo data set for Ordos (synthetic, made by this project; no third-party data).

Writes into ``sample_models/survey/``:

* ``ordos_footprints.geojson`` — ~400 building footprints (EPSG:4326, RFC 7946) in two clusters,
  Kangbashi new town and Dongsheng old town, with ``height_m``, ``floors``, ``base_m`` (Yellow Sea 1985
  height), ``use``, ``name``; some courtyard buildings (polygons with holes) and L-shapes;
* ``ordos_footprints.gpkg`` — the Kangbashi subset as a GeoPackage in EPSG:4546 (CGCS2000 / 3° GK CM 111E);
* ``kangbashi_blocks.city.json`` — CityJSON 2.0, a few buildings with LOD1 solids and LOD2 gabled
  roofs with semantic surfaces, EPSG:4546+5737 (via its ``referenceSystem``: 4546; heights 1985);
* ``stele_scan.obj`` (+ ``.mtl``, ``.png``) and ``stele_scan_colour.ply`` — a small textured / vertex-coloured
  scan mesh in local metres (placed with ``--crs``/``--origin``);
* ``kangbashi_scan.laz`` — a ~40 000-point LAZ 1.4 (PDRF 7, RGB, intensity, classification) of a
  terrain patch with three buildings, CRS WKT ``EPSG:4546+5737``.

Deterministic (fixed seed). Run: ``python sample_models/make_survey_samples.py``.
"""

from __future__ import annotations

import json
import math
import sqlite3
import struct
from pathlib import Path

import laspy
import numpy as np
import pyproj
import shapely
from shapely.geometry import Polygon, mapping

OUT = Path(__file__).resolve().parent / "survey"
KANGBASHI = (109.790, 39.608)
DONGSHENG = (109.963, 39.823)
USES = ["residential", "residential", "residential", "commercial", "public", "office"]
TO_GK = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4546", always_xy=True)
TO_WGS = pyproj.Transformer.from_crs("EPSG:4546", "EPSG:4326", always_xy=True)


def _rect(cx: float, cy: float, w: float, d: float, angle: float) -> Polygon:
    c, s = math.cos(angle), math.sin(angle)
    corners = [(-w / 2, -d / 2), (w / 2, -d / 2), (w / 2, d / 2), (-w / 2, d / 2)]
    return Polygon([(cx + x * c - y * s, cy + x * s + y * c) for x, y in corners])


def _building(rng: np.random.Generator, cx: float, cy: float, angle: float) -> Polygon:
    w, d = rng.uniform(14, 40), rng.uniform(10, 24)
    shape = _rect(cx, cy, w, d, angle)
    kind = rng.random()
    if kind < 0.12:  # courtyard
        inner = _rect(cx, cy, w * 0.5, d * 0.45, angle)
        return Polygon(shape.exterior.coords, [inner.exterior.coords])
    if kind < 0.25:  # L-shape
        wing = _rect(cx + w * 0.35 * math.cos(angle) - d * 0.6 * math.sin(angle),
                     cy + w * 0.35 * math.sin(angle) + d * 0.6 * math.cos(angle), w * 0.3, d * 0.8, angle)
        union = shapely.union(shape, wing)
        if isinstance(union, Polygon):
            return shapely.set_precision(union, 0.01)
    return shape


def footprints(rng: np.random.Generator, centre: tuple[float, float], blocks: int, prefix: str,
               angle: float, base: float) -> list[dict]:
    e0, n0 = TO_GK.transform(*centre)
    features = []
    for bx in range(blocks):
        for by in range(blocks):
            for slot in range(3):
                if rng.random() < 0.15:
                    continue
                ox, oy = (bx - blocks / 2) * 140 + 25 + slot * 45, (by - blocks / 2) * 140 + 40 + rng.uniform(0, 40)
                cx = e0 + ox * math.cos(angle) - oy * math.sin(angle)
                cy = n0 + ox * math.sin(angle) + oy * math.cos(angle)
                poly = _building(rng, cx, cy, angle)
                floors = int(rng.choice([2, 3, 6, 6, 11, 18, 26, 33]))
                use = str(rng.choice(USES))
                features.append({
                    "geometry_gk": poly,
                    "properties": {
                        "id": f"{prefix}-{bx:02d}{by:02d}{slot}",
                        "name": f"{'康巴什' if prefix == 'KBS' else '东胜'} {bx + 1}-{by + 1}-{slot + 1}",
                        "use": use,
                        "floors": floors,
                        "height_m": round(floors * 3.1 + rng.uniform(0.5, 3.0), 2),
                        "base_m": round(base + (ox + oy) * 0.004, 2),
                        "year_built": int(rng.integers(1995, 2023)),
                    },
                })
    return features


def _to_wgs(poly: Polygon) -> Polygon:
    return shapely.transform(poly, lambda xy: np.column_stack(TO_WGS.transform(xy[:, 0], xy[:, 1])))


def write_geojson(features: list[dict], path: Path) -> None:
    collection = {"type": "FeatureCollection", "name": "ordos_footprints", "features": []}
    for f in features:
        geometry = shapely.set_precision(_to_wgs(f["geometry_gk"]), 1e-7)
        collection["features"].append({"type": "Feature", "properties": f["properties"], "geometry": mapping(geometry)})
    path.write_text(json.dumps(collection, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


def _gpkg_blob(poly: Polygon, srs_id: int) -> bytes:
    minx, miny, maxx, maxy = poly.bounds
    header = b"GP" + bytes([0, 0b00000011]) + struct.pack("<i", srs_id) + struct.pack("<4d", minx, maxx, miny, maxy)
    return header + shapely.to_wkb(poly, byte_order=1)


def write_gpkg(features: list[dict], path: Path) -> None:
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    db.execute("PRAGMA application_id = 1196444487")
    db.execute("PRAGMA user_version = 10400")
    db.executescript("""
        CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY,
          organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL,
          description TEXT);
        CREATE TABLE gpkg_contents (table_name TEXT PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT,
          description TEXT DEFAULT '', last_change DATETIME, min_x DOUBLE, min_y DOUBLE, max_x DOUBLE,
          max_y DOUBLE, srs_id INTEGER);
        CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
          geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
          CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name));
        CREATE TABLE buildings (fid INTEGER PRIMARY KEY AUTOINCREMENT, geom POLYGON, bid TEXT, name TEXT,
          use TEXT, floors INTEGER, height_m REAL, base_m REAL, year_built INTEGER);
    """)
    wkt = pyproj.CRS.from_epsg(4546).to_wkt("WKT1_GDAL")
    db.executemany("INSERT INTO gpkg_spatial_ref_sys VALUES (?,?,?,?,?,?)", [
        ("Undefined cartesian SRS", -1, "NONE", -1, "undefined", None),
        ("Undefined geographic SRS", 0, "NONE", 0, "undefined", None),
        ("WGS 84", 4326, "EPSG", 4326, pyproj.CRS.from_epsg(4326).to_wkt("WKT1_GDAL"), None),
        ("CGCS2000 / 3-degree Gauss-Kruger CM 111E", 4546, "EPSG", 4546, wkt, None),
    ])
    bounds = shapely.total_bounds([f["geometry_gk"] for f in features])
    db.execute("INSERT INTO gpkg_contents VALUES ('buildings','features','buildings','',"
               "'2026-11-24T00:00:00Z',?,?,?,?,4546)", tuple(float(v) for v in bounds))
    db.execute("INSERT INTO gpkg_geometry_columns VALUES ('buildings','geom','POLYGON',4546,0,0)")
    for f in features:
        p = f["properties"]
        db.execute("INSERT INTO buildings (geom,bid,name,use,floors,height_m,base_m,year_built) "
                   "VALUES (?,?,?,?,?,?,?,?)",
                   (_gpkg_blob(f["geometry_gk"], 4546), p["id"], p["name"], p["use"], p["floors"], p["height_m"],
                    p["base_m"], p["year_built"]))
    db.commit()
    db.close()


def write_cityjson(features: list[dict], path: Path) -> None:
    scale = 0.001
    e0, n0 = (math.floor(v) for v in TO_GK.transform(*KANGBASHI))
    translate = [float(e0), float(n0), 1200.0]
    vertices: list[list[int]] = []

    def vid(x: float, y: float, z: float) -> int:
        vertices.append([round((x - translate[0]) / scale), round((y - translate[1]) / scale),
                         round((z - translate[2]) / scale)])
        return len(vertices) - 1

    objects = {}
    for f in features:
        poly = f["geometry_gk"]
        if poly.interiors or len(poly.exterior.coords) != 5:
            continue
        p = f["properties"]
        ring = list(shapely.geometry.polygon.orient(poly, 1.0).exterior.coords)[:-1]
        base, top = p["base_m"], p["base_m"] + p["height_m"]
        low = [vid(x, y, base) for x, y in ring]
        high = [vid(x, y, top) for x, y in ring]
        walls = [[[low[i], low[(i + 1) % 4], high[(i + 1) % 4], high[i]]] for i in range(4)]
        lod1 = {"type": "Solid", "lod": "1", "boundaries": [[[list(reversed(low))], *walls, [high]]]}
        eave = top - 3.0
        mid_a = vid(*((np.array(ring[0]) + ring[3]) / 2), top)
        mid_b = vid(*((np.array(ring[1]) + ring[2]) / 2), top)
        eaves = [vid(x, y, eave) for x, y in ring]
        surfaces = [
            [list(reversed(low))],
            [[low[0], low[1], eaves[1], eaves[0]]],
            [[low[1], low[2], eaves[2], mid_b, eaves[1]]],
            [[low[2], low[3], eaves[3], eaves[2]]],
            [[low[3], low[0], eaves[0], mid_a, eaves[3]]],
            [[eaves[0], eaves[1], mid_b, mid_a]],
            [[eaves[2], eaves[3], mid_a, mid_b]],
        ]
        lod2 = {
            "type": "Solid", "lod": "2.2", "boundaries": [surfaces],
            "semantics": {"surfaces": [{"type": "GroundSurface"}, {"type": "WallSurface"}, {"type": "RoofSurface"}],
                          "values": [[0, 1, 1, 1, 1, 2, 2]]},
        }
        objects[p["id"]] = {"type": "Building", "attributes": {k: v for k, v in p.items() if k != "id"},
                            "geometry": [lod1, lod2]}
        if len(objects) >= 12:
            break
    city = {"type": "CityJSON", "version": "2.0",
            "transform": {"scale": [scale, scale, scale], "translate": translate},
            "metadata": {"referenceSystem": "https://www.opengis.net/def/crs/EPSG/0/4546",
                         "title": "Kangbashi demo blocks (synthetic)"},
            "CityObjects": objects, "vertices": vertices}
    path.write_text(json.dumps(city, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")


def write_laz(rng: np.random.Generator, path: Path, count: int = 40_000) -> None:
    e0, n0 = TO_GK.transform(*KANGBASHI)
    x = rng.uniform(-150, 150, count)
    y = rng.uniform(-150, 150, count)
    z = 1290.0 + 0.02 * x - 0.015 * y + 0.5 * np.sin(x / 20)
    classification = np.full(count, 2, np.uint8)
    rgb = np.column_stack([np.full(count, 150), np.full(count, 140), np.full(count, 110)]).astype(np.float64)
    for cx, cy, w, d, h in [(-60, -40, 40, 25, 30), (50, 20, 30, 30, 60), (0, 90, 60, 18, 12)]:
        inside = (np.abs(x - cx) < w / 2) & (np.abs(y - cy) < d / 2)
        z[inside] += h
        classification[inside] = 6
        rgb[inside] = [200, 200, 210]
    rgb += rng.normal(0, 12, rgb.shape)
    header = laspy.LasHeader(point_format=7, version="1.4")
    header.offsets = [math.floor(e0), math.floor(n0), 1000.0]
    header.scales = [0.001, 0.001, 0.001]
    header.add_crs(pyproj.CRS("EPSG:4546+5737"))
    las = laspy.LasData(header)
    las.x, las.y, las.z = e0 + x, n0 + y, z
    rgb16 = (np.clip(rgb, 0, 255).astype(np.uint16) * 257)
    las.red, las.green, las.blue = rgb16[:, 0], rgb16[:, 1], rgb16[:, 2]
    las.intensity = rng.integers(200, 4000, count).astype(np.uint16)
    las.classification = classification
    las.write(path, laz_backend=laspy.LazBackend.Lazrs)


def write_scan_meshes(rng: np.random.Generator, out: Path) -> None:
    """A textured OBJ (+ MTL + PNG) and a vertex-coloured PLY of a small carved stele (local metres, z up)."""
    import trimesh
    from PIL import Image

    n = 48
    u, v = np.meshgrid(np.linspace(0, 1, n), np.linspace(0, 1, n))
    x = (u - 0.5) * 1.2
    z = v * 2.4
    y = 0.05 * np.sin(u * 9) * np.cos(v * 7) + rng.normal(0, 0.002, u.shape)
    vertices = np.column_stack([x.ravel(), y.ravel(), z.ravel()])
    idx = np.arange(n * n).reshape(n, n)
    a, b, c, d = idx[:-1, :-1].ravel(), idx[:-1, 1:].ravel(), idx[1:, 1:].ravel(), idx[1:, :-1].ravel()
    faces = np.concatenate([np.column_stack([a, b, c]), np.column_stack([a, c, d])])
    checker = ((np.indices((64, 64)).sum(axis=0) // 8) % 2).astype(np.uint8)
    image = np.stack([120 + 100 * checker, 90 + 60 * checker, 60 + 20 * checker], axis=-1).astype(np.uint8)
    Image.fromarray(image).save(out / "stele_scan.png")
    uv = np.column_stack([u.ravel(), v.ravel()])
    lines = ["mtllib stele_scan.mtl", "usemtl stone"]
    lines += [f"v {p[0]:.4f} {p[1]:.4f} {p[2]:.4f}" for p in vertices]
    lines += [f"vt {t[0]:.4f} {t[1]:.4f}" for t in uv]
    lines += [f"f {f[0] + 1}/{f[0] + 1} {f[1] + 1}/{f[1] + 1} {f[2] + 1}/{f[2] + 1}" for f in faces]
    (out / "stele_scan.obj").write_text("\n".join(lines) + "\n", encoding="ascii")
    (out / "stele_scan.mtl").write_text("newmtl stone\nKd 1 1 1\nmap_Kd stele_scan.png\n", encoding="ascii")
    colours = np.column_stack([(image[(v.ravel() * 63).astype(int), (u.ravel() * 63).astype(int)]),
                               np.full(n * n, 255)]).astype(np.uint8)
    mesh = trimesh.Trimesh(vertices, faces, vertex_colors=colours, process=False)
    (out / "stele_scan_colour.ply").write_bytes(mesh.export(file_type="ply", encoding="binary"))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261124)
    kangbashi = footprints(rng, KANGBASHI, 9, "KBS", math.radians(-12), 1290.0)
    dongsheng = footprints(rng, DONGSHENG, 6, "DS", math.radians(4), 1410.0)
    write_geojson(kangbashi + dongsheng, OUT / "ordos_footprints.geojson")
    write_gpkg(kangbashi, OUT / "ordos_footprints.gpkg")
    write_cityjson(kangbashi, OUT / "kangbashi_blocks.city.json")
    write_laz(rng, OUT / "kangbashi_scan.laz")
    write_scan_meshes(rng, OUT)
    for path in sorted(OUT.iterdir()):
        print(f"{path.name}: {path.stat().st_size:,} bytes")
    print(f"footprints: {len(kangbashi)} Kangbashi + {len(dongsheng)} Dongsheng")


if __name__ == "__main__":
    main()
