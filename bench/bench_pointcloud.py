"""Point-cloud conversion benchmark: ours vs ``py3dtiles convert`` (1.0 default and --spec-version 1.1).

For every input (the survey corpus LAS/LAZ files, the project's sample LAZ and a generated cloud of
``--points`` points) each tool runs as a child process under ``/usr/bin/time -v`` with the same
number of processes (``--jobs``) and a timeout. Recorded: wall time, points/s, peak RSS of the
child tree's largest process, output bytes, exit status; the outputs of ours (and py3dtiles 1.1)
are checked with the glTF validator and the 3D Tiles schema/rules (``--validate``, small files only).

Run (long; in the background)::

    .venv/bin/python bench/bench_pointcloud.py --points 20000000 --jobs 2 > bench/results/pointcloud.log 2>&1 &

Results go to ``bench/results/pointcloud.json`` (git-ignored) and a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(os.environ.get("CIM_SHARED_DIR", REPO.parent / "shared")) / "corpus" / "survey"
RESULTS = REPO / "bench" / "results"
PY3DTILES = Path(sys.executable).with_name("py3dtiles")

OURS_SNIPPET = """
import sys
from pathlib import Path
from converters.api import convert
from converters.options import ConvertOptions
src, out, jobs, memory, local = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1"
report = convert(Path(src), Path(out), ConvertOptions(jobs=jobs, memory_mb=memory, local=local))
print("POINTS", report["counts"]["points_written"])
"""


def generate_cloud(path: Path, count: int, seed: int = 7, legacy: bool = False) -> None:
    """A LAZ 1.4 (PDRF 7) terrain-with-buildings cloud in EPSG:4546+5737, written in chunks.

    ``legacy``: LAS 1.2, PDRF 3 and a horizontal-only EPSG:4546 instead (py3dtiles hangs on the 1.4 one).
    """
    import laspy
    import pyproj

    rng = np.random.default_rng(seed)
    e0, n0 = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4546", always_xy=True).transform(109.79, 39.608)
    header = laspy.LasHeader(point_format=3 if legacy else 7, version="1.2" if legacy else "1.4")
    header.offsets = [math.floor(e0), math.floor(n0), 1000.0]
    header.scales = [0.001, 0.001, 0.001]
    header.add_crs(pyproj.CRS("EPSG:4546" if legacy else "EPSG:4546+5737"))
    chunk = 2_000_000
    with laspy.open(path, mode="w", header=header, laz_backend=laspy.LazBackend.LazrsParallel) as writer:
        for start in range(0, count, chunk):
            n = min(chunk, count - start)
            x = rng.uniform(-1000, 1000, n)
            y = rng.uniform(-1000, 1000, n)
            z = 1290 + 0.01 * x + 4 * np.sin(y / 150)
            blocks = ((np.floor(x / 80) + np.floor(y / 80)) % 3 == 0) & ((x % 80) < 45) & ((y % 80) < 35)
            z = z + blocks * (12 + 6 * (np.floor(x / 80) % 5))
            points = laspy.ScaleAwarePointRecord.zeros(n, header=header)
            points.x, points.y, points.z = e0 + x, n0 + y, z
            shade = (120 + 80 * blocks + rng.integers(0, 40, n)).astype(np.uint16) * 256
            points.red, points.green, points.blue = shade, shade, (shade * 0.9).astype(np.uint16)
            points.intensity = rng.integers(100, 5000, n).astype(np.uint16)
            points.classification = np.where(blocks, 6, 2).astype(np.uint8)
            writer.write_points(points)


def _time_v(stderr: str) -> dict[str, float]:
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", stderr)
    seconds = None
    if wall:
        parts = [float(p) for p in wall.group(1).split(":")]
        seconds = sum(p * 60**i for i, p in enumerate(reversed(parts)))
    return {"peak_rss_mb": round(int(rss.group(1)) / 1024, 1) if rss else None, "wall_s": seconds}


def _dir_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def run(cmd: list[str], timeout: float, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run under ``/usr/bin/time -v`` in its own process group; on timeout the whole group is killed
    (py3dtiles' worker processes would otherwise survive and skew every later measurement)."""
    started = time.perf_counter()
    child = subprocess.Popen(["/usr/bin/time", "-v", *cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env, cwd=REPO, start_new_session=True)
    try:
        stdout, stderr = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.communicate()
        return {"status": f"timeout after {timeout:.0f} s (killed)", "wall_s": round(time.perf_counter() - started, 2)}
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGKILL)  # stray workers of a finished run
    stats = _time_v(stderr)
    status = "ok" if child.returncode == 0 else f"exit {child.returncode}: " + " | ".join(
        line for line in stderr.splitlines()[-25:] if line.strip() and not line.startswith("\t"))[-400:]
    return {"status": status, "wall_s": round(stats["wall_s"] or time.perf_counter() - started, 2),
            "peak_rss_mb": stats["peak_rss_mb"], "stdout_tail": stdout[-300:]}


def _validate(out: Path) -> str:
    sys.path.insert(0, str(REPO))
    from tests.support.validators import validate_glbs, validate_tileset

    tileset_path = out / "tileset.json"
    if not tileset_path.is_file():
        return "no tileset.json"
    tileset = json.loads(tileset_path.read_text())
    problems = validate_tileset(tileset, out)
    glbs = sorted(out.rglob("*.glb"))
    reports = validate_glbs(glbs) if glbs else []
    errors = sum(r["numErrors"] for r in reports)
    other = len(list(out.rglob("*.pnts")))
    return f"tileset problems {len(problems)}, glb files {len(glbs)} with {errors} validator errors" + (
        f", {other} pnts (1.0, not glTF-validated)" if other else "")


def bench_file(path: Path, points: int, jobs: int, timeout: float, memory_mb: int, validate: bool,
               has_crs: bool) -> dict[str, Any]:
    result: dict[str, Any] = {"file": path.name, "points": points, "bytes": path.stat().st_size}
    work = Path(tempfile.mkdtemp(prefix="bench_pc_"))
    try:
        ours_out = work / "ours"
        ours = run([sys.executable, "-c", OURS_SNIPPET, str(path), str(ours_out), str(jobs), str(memory_mb),
                    "0" if has_crs else "1"], timeout)
        ours["output_bytes"] = _dir_bytes(ours_out) if ours_out.exists() else 0
        if validate and ours["status"] == "ok":
            ours["validation"] = _validate(ours_out)
        result["ours"] = ours
        shutil.rmtree(ours_out, ignore_errors=True)
        for spec in ("1.0", "1.1"):
            out = work / f"py3dtiles_{spec}"
            cmd = [str(PY3DTILES), "convert", str(path), "--out", str(out), "--overwrite", "--jobs", str(jobs),
                   "--spec-version", spec]
            if has_crs:
                cmd += ["--srs_out", "4978"]
            entry = run(cmd, timeout)
            entry["output_bytes"] = _dir_bytes(out) if out.exists() else 0
            if validate and entry["status"] == "ok" and spec == "1.1":
                entry["validation"] = _validate(out)
            result[f"py3dtiles_{spec}"] = entry
            shutil.rmtree(out, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for key in ("ours", "py3dtiles_1.0", "py3dtiles_1.1"):
        entry = result.get(key, {})
        if entry.get("status") == "ok" and entry.get("wall_s"):
            entry["points_per_s"] = round(points / entry["wall_s"])
    for spec in ("1.0", "1.1"):
        theirs = result.get(f"py3dtiles_{spec}", {})
        if theirs.get("points_per_s") and result["ours"].get("points_per_s"):
            result[f"speedup_vs_{spec}"] = round(result["ours"]["points_per_s"] / theirs["points_per_s"], 2)
    return result


def _decompress(source: Path, target: Path) -> None:
    """An uncompressed LAS copy, streamed in chunks."""
    import laspy

    with laspy.open(source) as reader:
        header = reader.header
        header.vlrs = laspy.vlrs.vlrlist.VLRList([v for v in header.vlrs if type(v).__name__ != "CopcInfoVlr"])
        header.evlrs = None
        with laspy.open(target, mode="w", header=header, do_compress=False) as writer:
            for points in reader.chunk_iterator(2_000_000):
                writer.write_points(points)


def _point_count(path: Path) -> int:
    import laspy

    with laspy.open(path) as reader:
        return int(reader.header.point_count)


def _has_crs(path: Path) -> bool:
    import laspy

    with laspy.open(path) as reader:
        return reader.header.parse_crs() is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=20_000_000, help="size of the generated cloud (0: none)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--memory-mb", type=int, default=1024)
    parser.add_argument("--timeout", type=float, default=300.0, help="per corpus run")
    parser.add_argument("--large-timeout", type=float, default=1800.0, help="per run on the generated cloud")
    parser.add_argument("--skip-corpus", action="store_true")
    parser.add_argument("--legacy", action="store_true", help="generated cloud as LAS 1.2 PDRF 3, EPSG:4546")
    parser.add_argument("--las", action="store_true",
                        help="also bench uncompressed LAS copies of the LAZ inputs (py3dtiles hangs on larger LAZ)")
    parser.add_argument("--only-las", action="store_true", help="with --las: bench only the uncompressed files")
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    files: list[tuple[Path, float, bool]] = []
    if not args.skip_corpus:
        files += [(p, args.timeout, True) for p in sorted(CORPUS.glob("*.la[sz]"))]
        files += [(REPO / "sample_models" / "survey" / "kangbashi_scan.laz", args.timeout, True)]
    generated = None
    suffix = ""
    if args.points:
        suffix = "_las12" if args.legacy else ""
        generated = Path(tempfile.gettempdir()) / f"bench_cloud_{args.points}{suffix}.laz"
        if not generated.exists():
            started = time.perf_counter()
            generate_cloud(generated, args.points, legacy=args.legacy)
            print(f"generated {generated} in {time.perf_counter() - started:.1f} s", flush=True)
        files.append((generated, args.large_timeout, False))
    if args.las:
        copies = []
        for path, timeout, validate in files:
            if path.suffix.lower() == ".laz":
                copy = Path(tempfile.gettempdir()) / f"bench_copy_{path.stem.replace('.', '_')}.las"
                if not copy.exists():
                    _decompress(path, copy)
                copies.append((copy, timeout, validate))
        files += copies
    if args.only_las:
        files = [f for f in files if f[0].suffix.lower() == ".las"]
    results = []
    for path, timeout, validate in files:
        result = bench_file(path, _point_count(path), args.jobs, timeout, args.memory_mb, validate, _has_crs(path))
        results.append(result)
        print(json.dumps(result), flush=True)
        (RESULTS / f"pointcloud{suffix}{'_las' if args.las else ''}.json").write_text(json.dumps(results, indent=1))
    print("\n| file | points | ours pts/s | peak MB | out MB | py3dtiles 1.0 pts/s | peak MB | py3dtiles 1.1 pts/s "
          "| ratio vs 1.0 | ratio vs 1.1 |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        o, a, b = r["ours"], r.get("py3dtiles_1.0", {}), r.get("py3dtiles_1.1", {})
        print(f"| {r['file']} | {r['points']:,} | {o.get('points_per_s', o['status'])} | {o.get('peak_rss_mb')} | "
              f"{o.get('output_bytes', 0) / 1e6:.1f} | {a.get('points_per_s', a.get('status'))} | "
              f"{a.get('peak_rss_mb')} | {b.get('points_per_s', b.get('status'))} | {r.get('speedup_vs_1.0')} | "
              f"{r.get('speedup_vs_1.1')} |")


if __name__ == "__main__":
    main()
