"""OSGB → 3D Tiles throughput on a generated delivery of ≥ 1 000 tiles. Anchor: ``osgconv`` alone
reading every file and writing it as ``.osgt`` (what the converter asks of OpenSceneGraph), with as
many processes as the converter has workers — the floor no osgconv-based converter can beat.

    PYTHONPATH=$PWD .venv/bin/python bench/bench_oblique.py [--blocks 8x8] [--levels 3] [--workers 2] \
        [--grid 8] [--texture 32]

Reports files (tiles) per second and input MB per second for both, their ratio, and the load average;
writes ``bench/results/oblique-<time>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from converters.api import convert  # noqa: E402
from converters.options import ConvertOptions  # noqa: E402
from sample_models.oblique.make_oblique_samples import Layout, build_delivery, zip_folder  # noqa: E402


def osgconv_floor(files: list[Path], workers: int, scratch: Path) -> float:
    def one(index_file: tuple[int, Path]) -> None:
        index, file = index_file
        target = scratch / f"{index}.osgt"
        subprocess.run(["osgconv", "-O", "WriteImageHint=IncludeData", str(file), str(target)], check=True,
                       capture_output=True, env={**os.environ, "OSG_OPTIMIZER": "OFF"})
        target.unlink()

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, enumerate(files)))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--blocks", default="8x8")
    parser.add_argument("--levels", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--grid", type=int, default=8, help="quads per tile side")
    parser.add_argument("--texture", type=int, default=32, help="texture pixels per tile side")
    args = parser.parse_args()
    east, north = (int(v) for v in args.blocks.split("x"))
    layout = Layout(blocks=(east, north), levels=args.levels, grid=args.grid, texture_px=args.texture)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="cim-bench-oblique-") as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        delivery = build_delivery(work / "gen", layout, "bench_oblique", args.workers)
        archive = zip_folder(delivery, work / "bench_oblique.zip")
        generate_s = time.perf_counter() - started
        files = sorted(delivery.rglob("*.osgb"))
        input_mb = sum(f.stat().st_size for f in files) / 1e6
        (work / "scratch").mkdir()
        floor_s = osgconv_floor(files, args.workers, work / "scratch")
        started = time.perf_counter()
        report = convert(archive, work / "out", ConvertOptions(jobs=args.workers))
        total_s = time.perf_counter() - started
        tiles_s = report["timings"]["tiles_s"]
        output_mb = report["output_bytes"] / 1e6
    result = {
        "files": len(files), "blocks": east * north, "levels": args.levels, "workers": args.workers,
        "vertices_per_tile": (args.grid + 1) ** 2, "texture_px": args.texture,
        "input_mb": round(input_mb, 2), "output_mb": round(output_mb, 2), "generate_s": round(generate_s, 1),
        "converter": {"total_s": round(total_s, 2), "tiles_s": round(tiles_s, 2),
                      "files_per_s": round(len(files) / total_s, 1), "mb_per_s": round(input_mb / total_s, 2)},
        "osgconv_floor": {"s": round(floor_s, 2), "files_per_s": round(len(files) / floor_s, 1),
                          "mb_per_s": round(input_mb / floor_s, 2)},
        "ratio_converter_to_floor": round(total_s / floor_s, 2),
        "load_average": [round(v, 1) for v in (load_before[0], os.getloadavg()[0])],
    }
    print(json.dumps(result, indent=2))
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"oblique-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
