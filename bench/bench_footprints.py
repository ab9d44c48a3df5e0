"""Footprint benchmark: 100 000 generated building footprints → LOD1 tiles, against the py3dtiles anchor.

The anchor: the time ``py3dtiles convert`` needs for as many *points* as the footprints have vertices
(a LAS file of exactly those vertices, same number of processes, reprojected to EPSG:4978 like ours).
Target: our footprint conversion takes less time than that.

Run::

    .venv/bin/python bench/bench_footprints.py --count 100000 --jobs 2

Results: ``bench/results/footprints.json`` and a summary line on stdout.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_pointcloud import PY3DTILES, RESULTS, _dir_bytes, run

OURS_SNIPPET = """
import sys
from pathlib import Path
from converters.api import convert
from converters.options import ConvertOptions
report = convert(Path(sys.argv[1]), Path(sys.argv[2]), ConvertOptions(height_field="height", base_field="base",
                                                                      jobs=int(sys.argv[3])))
print("BUILDINGS", report["counts"]["buildings"], "TILES", report["counts"]["tiles"])
"""


def generate(path: Path, count: int, seed: int = 11) -> np.ndarray:
    """``count`` rectangular/L-shaped footprints on a city grid around Kangbashi (EPSG:4326); returns vertices."""
    rng = np.random.default_rng(seed)
    side = math.ceil(math.sqrt(count))
    metres_lon = 1 / (111_320 * math.cos(math.radians(39.6)))
    metres_lat = 1 / 110_540
    features = []
    vertices = []
    for i in range(count):
        gx, gy = i % side, i // side
        x0 = 109.70 + gx * 45 * metres_lon
        y0 = 39.55 + gy * 40 * metres_lat
        w, d = rng.uniform(10, 32) * metres_lon, rng.uniform(8, 25) * metres_lat
        if rng.random() < 0.2:
            ring = [[x0, y0], [x0 + w, y0], [x0 + w, y0 + d / 2], [x0 + w / 2, y0 + d / 2], [x0 + w / 2, y0 + d],
                    [x0, y0 + d], [x0, y0]]
        else:
            ring = [[x0, y0], [x0 + w, y0], [x0 + w, y0 + d], [x0, y0 + d], [x0, y0]]
        ring = [[round(x, 7), round(y, 7)] for x, y in ring]  # ~1 cm, as real GeoJSON layers are written
        base = 1290.0 + gx * 0.01
        height = float(rng.choice([6.0, 9.5, 18.0, 33.0, 54.0, 80.0]))
        features.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
                         "properties": {"id": f"B{i:06d}", "height": height, "base": base,
                                        "use": str(rng.choice(["residential", "commercial", "public"]))}})
        vertices += [(x, y, base) for x, y in ring[:-1]]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":")))
    return np.array(vertices)


def write_vertices_las(path: Path, vertices: np.ndarray) -> None:
    import laspy
    import pyproj

    header = laspy.LasHeader(point_format=3, version="1.2")
    header.scales = [1e-7, 1e-7, 0.001]
    header.offsets = [109.0, 39.0, 1000.0]
    header.add_crs(pyproj.CRS("EPSG:4326"))
    las = laspy.LasData(header)
    las.x, las.y, las.z = vertices[:, 0], vertices[:, 1], vertices[:, 2]
    las.write(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=1200.0)
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench_fp_"))
    source = work / "footprints.geojson"
    vertices = generate(source, args.count)
    las = work / "vertices.las"
    write_vertices_las(las, vertices)
    started = time.perf_counter()
    ours = run([sys.executable, "-c", OURS_SNIPPET, str(source), str(work / "ours"), str(args.jobs)], args.timeout)
    ours["output_bytes"] = _dir_bytes(work / "ours") if (work / "ours").exists() else 0
    anchor = run([str(PY3DTILES), "convert", str(las), "--out", str(work / "py3dtiles"), "--overwrite", "--jobs",
                  str(args.jobs), "--srs_out", "4978"], args.timeout)
    result = {
        "footprints": args.count, "input_vertices": len(vertices), "geojson_bytes": source.stat().st_size,
        "ours": ours, "py3dtiles_same_vertex_count": anchor,
        "bench_wall_s": round(time.perf_counter() - started, 1),
    }
    if ours.get("status") == "ok" and anchor.get("status") == "ok":
        result["py3dtiles_points_per_s"] = round(len(vertices) / anchor["wall_s"])
        result["ours_buildings_per_s"] = round(args.count / ours["wall_s"])
        result["ours_vertices_per_s"] = round(len(vertices) / ours["wall_s"])
        result["ratio_anchor_time_over_ours"] = round(anchor["wall_s"] / ours["wall_s"], 2)
    (RESULTS / "footprints.json").write_text(json.dumps(result, indent=1))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
