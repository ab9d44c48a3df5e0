"""DEM → quantized-mesh terrain throughput on a generated 10 000 × 10 000 DEM; anchor: GDAL alone
warping the same DEM to EPSG:4326 (the resampling every terrain tiler does first), same run.

    python bench/bench_terrain.py [--size 10000] [--resolution 5] [--keep]

Writes a synthetic float32 DEM (EPSG:4546+5737, Yellow Sea 1985 heights, the surface of
sample_models/ground/make_ground_samples.py around Kangbashi, with a nodata hole) in row blocks, then
runs the platform's conversion (``python -m converters``, as a worker does) in a child process and
reports seconds, tiles/s, MB/s of DEM samples (4 bytes each), the output size and the child's peak
memory (ru_maxrss); then the anchor (``rasterio.warp.reproject`` of the whole DEM to EPSG:4326 at the
terrain's finest resolution, bilinear, in its own child). Writes bench/results/terrain-*.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "make_ground", ROOT / "sample_models" / "ground" / "make_ground_samples.py"
)
assert _spec is not None and _spec.loader is not None
make_ground = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_ground)

ANCHOR = """
import sys, rasterio, numpy as np
from rasterio.warp import reproject, Resampling, calculate_default_transform
src = rasterio.open(sys.argv[1]); level = int(sys.argv[2])
res = 180.0 / (1 << level) / 256
transform, width, height = calculate_default_transform(
    src.crs, "EPSG:4326", src.width, src.height, *src.bounds, resolution=res)
profile = dict(driver="GTiff", width=width, height=height, count=1, dtype="float32", crs="EPSG:4326",
               transform=transform, nodata=float("nan"), tiled=True, BIGTIFF="IF_SAFER")
with rasterio.open(sys.argv[3], "w", **profile) as dst:
    reproject(rasterio.band(src, 1), rasterio.band(dst, 1), resampling=Resampling.bilinear, warp_mem_limit=256)
"""


def write_dem(path: Path, size: int, resolution: float) -> None:
    e0, n0 = make_ground.centre_en()
    west, north = e0 - size * resolution / 2, n0 + size * resolution / 2
    profile = {
        "driver": "GTiff",
        "width": size,
        "height": size,
        "count": 1,
        "dtype": "float32",
        "nodata": -9999.0,
        "crs": make_ground.CRS_1985,
        "transform": from_origin(west, north, resolution, resolution),
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "compress": "deflate",
        "predictor": 3,
        "BIGTIFF": "YES",
    }
    columns = np.arange(size)
    with rasterio.open(path, "w", **profile) as dem:
        for start in range(0, size, 512):
            rows = np.arange(start, min(size, start + 512))
            grid_c, grid_r = np.meshgrid(columns, rows)
            block = make_ground.surface_height(west + (grid_c + 0.5) * resolution, north - (grid_r + 0.5) * resolution)
            block = block.astype("float32")
            hole = (grid_r > size // 3) & (grid_r < size // 3 + 200) & (grid_c > size // 2) & (grid_c < size // 2 + 300)
            block[hole] = -9999.0
            dem.write(block, 1, window=rasterio.windows.Window(0, start, size, len(rows)))


def run_child(command: list[str]) -> tuple[float, float, str]:
    """Seconds, peak RSS (MB) of the child, its stdout."""
    started = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{command[:3]} failed: {done.stderr[-2000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) / 1024, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--resolution", type=float, default=5.0)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-terrain-"))
    dem = work / "dem.tif"
    load_before = os.getloadavg()
    started = time.perf_counter()
    write_dem(dem, args.size, args.resolution)
    written_s, dem_mb = time.perf_counter() - started, dem.stat().st_size / 1e6
    print(f"DEM {args.size}×{args.size} written in {written_s:.1f} s ({dem_mb:.0f} MB)")
    out = work / "terrain"
    seconds, peak_mb, stdout = run_child(
        [sys.executable, "-m", "converters", str(dem), str(out), "--options", '{"kind": "terrain"}']
    )
    report = json.loads([line for line in stdout.splitlines() if line.startswith('{"report"')][-1])["report"]
    terrain = report["terrain"]
    tiles = terrain["tiles"]
    out_bytes = sum(f.stat().st_size for f in out.rglob("*.terrain"))
    samples_mb = args.size * args.size * 4 / 1e6
    anchor_s, anchor_mb, _ = run_child(
        [sys.executable, "-c", ANCHOR, str(dem), str(terrain["max_level"]), str(work / "warped.tif")]
    )
    result = {
        "dem": {"size": args.size, "resolution_m": args.resolution, "samples_mb": samples_mb},
        "terrain": {
            "seconds": round(seconds, 1),
            "tiles": tiles,
            "tiles_per_s": round(tiles / seconds, 1),
            "mb_per_s": round(samples_mb / seconds, 2),
            "peak_rss_mb": round(peak_mb),
            "output_mb": round(out_bytes / 1e6, 1),
            "max_level": terrain["max_level"],
            "levels": [
                {k: level[k] for k in ("level", "tiles", "max_error_m", "vertices")} for level in terrain["levels"]
            ],
        },
        "anchor_gdal_warp": {"seconds": round(anchor_s, 1), "peak_rss_mb": round(anchor_mb)},
        "ratio_terrain_to_warp": round(seconds / anchor_s, 2),
        "load_average": {"before": load_before, "after": os.getloadavg()},
    }
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    target = results / f"terrain-{time.strftime('%Y%m%d-%H%M%S')}.json"
    target.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(
        json.dumps(
            {k: v for k, v in result.items() if k != "terrain"}
            | {"terrain": {k: v for k, v in result["terrain"].items() if k != "levels"}},
            indent=1,
        )
    )
    print(f"written {target}")
    if not args.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
