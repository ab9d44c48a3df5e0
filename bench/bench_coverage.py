"""Coverage computation: PostGIS (the platform's path) vs the same union and intersection in Python
with shapely 2, same data, same run; then the incremental recomputation after one new dataset.

    python bench/bench_coverage.py [--buildings 100000] [--datasets 6] [--seed 1]

Starts a private PostGIS, loads the demo's approximate built-up areas of the nine districts and
banners (sample_models/coverage/), spreads ``--buildings`` non-overlapping building footprints (10–40 m
rectangles on a 50 m grid) over them in proportion to their areas, and publishes ``--datasets``
overlapping datasets whose footprints are multipolygons of subsets of those buildings (a city-wide
LOD1 layer of half the buildings, oblique meshes and point clouds over the two central districts, BIM
models over a few blocks, …). Then, each timed after a warm-up:

* publication: the datasets' footprint parts stored once (``parts.store_parts``, what the after-publish
  hook does), timed on its own;
* PostGIS: ``compute_units`` for every unit (stored parts through the index, clip, dedupe, union of the
  overlapping pieces, geodesic area, breakdown per kind and level), and ``evaluate(store=True)`` (hashing
  the inputs, storing the snapshot);
* shapely 2: per unit, an STRtree query of the parts against the built-up area, ``intersection``
  (vectorised), ``union_all``, geodesic area with ``pyproj.Geod`` — from geometries already in memory
  (``shapely``), and including fetching them from PostGIS as WKB (``shapely+fetch``);
* incremental: one new dataset in Kangbashi, ``evaluate(store=True)`` again: only that unit is
  recomputed (the others are copied from the first snapshot).

Reports wall and CPU seconds (PostGIS: the backend's CPU from /proc plus this process's), the ratios and
the largest relative difference of the covered areas; writes
bench/results/coverage-*.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import shapely
from pyproj import Geod
from shapely.geometry import MultiPolygon, Polygon
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.coverage.demo import SAMPLE  # noqa: E402
from cim_platform.accounts import service as accounts  # noqa: E402
from cim_platform.core import migrate  # noqa: E402
from cim_platform.core.db.engine import get_engine, session_scope  # noqa: E402
from cim_platform.core.settings import Settings  # noqa: E402
from cim_platform.coverage.compute import compute_units  # noqa: E402
from cim_platform.coverage.definition import Definition  # noqa: E402
from cim_platform.coverage.geofiles import read_polygons  # noqa: E402
from cim_platform.coverage.parts import store_parts  # noqa: E402
from cim_platform.coverage.snapshots import evaluate  # noqa: E402
from tests.support import postgis  # noqa: E402
from tests.support.coverage import ADMIN, add_dataset  # noqa: E402

GEOD = Geod(ellps="WGS84")
KM_LAT = 111_000.0
CENTRAL = ("150602", "150603")  # Dongsheng, Kangbashi


def buildings_in(area: Polygon | MultiPolygon, count: int, rng: np.random.Generator) -> list[Polygon]:
    """``count`` non-overlapping rectangles (10–40 m) on a 50 m grid inside ``area`` (lon/lat)."""
    west, south, east, north = area.bounds
    lat = (south + north) / 2
    step_lon, step_lat = 50 / (KM_LAT * math.cos(math.radians(lat))), 50 / KM_LAT
    xs = np.arange(west, east, step_lon)
    ys = np.arange(south, north, step_lat)
    gx, gy = np.meshgrid(xs, ys)
    centres = shapely.points(gx.ravel() + step_lon / 2, gy.ravel() + step_lat / 2)
    inside = centres[shapely.contains_xy(area, gx.ravel() + step_lon / 2, gy.ravel() + step_lat / 2)]
    chosen = rng.choice(len(inside), size=min(count, len(inside)), replace=False)
    sizes = rng.uniform(10, 40, size=(len(chosen), 2))
    out = []
    for index, (w, h) in zip(chosen, sizes, strict=True):
        x, y = shapely.get_x(inside[index]), shapely.get_y(inside[index])
        dx, dy = w / 2 * step_lon / 50, h / 2 * step_lat / 50
        out.append(shapely.box(x - dx, y - dy, x + dx, y + dy))
    return out


def make_datasets(
    buildings: dict[str, list[Polygon]], count: int, rng: np.random.Generator
) -> list[tuple[str, str, MultiPolygon]]:
    """(kind, lod, footprint) of ``count`` overlapping datasets over subsets of the buildings."""
    everything = [b for unit in buildings.values() for b in unit]
    central = [b for code in CENTRAL for b in buildings[code]]
    specs = [
        ("footprints", "LOD1", everything, 0.5),
        ("mesh", "mesh", central, 0.6),
        ("pointcloud", "points", central, 0.4),
        ("footprints", "LOD2", everything, 0.3),
        ("ifc", "LOD3", central, 0.05),
        ("mesh", "mesh", everything, 0.2),
    ]
    out = []
    for index in range(count):
        kind, lod, pool, share = specs[index % len(specs)]
        picked = rng.random(len(pool)) < share
        out.append((kind, lod, MultiPolygon([b for b, keep in zip(pool, picked, strict=True) if keep])))
    return out


def shapely_coverage(built: dict[str, MultiPolygon], parts: np.ndarray) -> dict[str, float]:
    tree = shapely.STRtree(parts)
    covered = {}
    for code, area in built.items():
        candidates = parts[tree.query(area, predicate="intersects")]
        clipped = shapely.intersection(candidates, area)
        union = shapely.union_all(clipped)
        covered[code] = abs(GEOD.geometry_area_perimeter(union)[0]) if not union.is_empty else 0.0
    return covered


CPU_TICK = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process so far: a PostgreSQL backend's, read from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CPU_TICK


def timed(function, *args, repeat: int = 3, cpu=time.process_time):  # type: ignore[no-untyped-def]
    """(wall s, CPU s) of the fastest of ``repeat`` runs, and the result: the CPU time does not grow with the
    machine's load as the wall time does (the shared machine often runs at load 10-20)."""
    best, result = (math.inf, math.inf), None
    for _ in range(repeat):
        started, cpu_before = time.perf_counter(), cpu()
        result = function(*args)
        best = min(best, (time.perf_counter() - started, cpu() - cpu_before))
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--buildings", type=int, default=100_000)
    parser.add_argument("--datasets", type=int, default=6)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    features = [f for f in read_polygons(SAMPLE.read_bytes(), SAMPLE.name) if len(str(f.properties["unit"])) == 6]
    built = {str(f.properties["unit"]): f.geometry for f in features}
    total_area = sum(a.area for a in built.values())
    buildings = {code: buildings_in(a, round(args.buildings * a.area / total_area), rng) for code, a in built.items()}
    n_buildings = sum(len(b) for b in buildings.values())
    datasets = make_datasets(buildings, args.datasets, rng)
    n_parts = sum(len(d[2].geoms) for d in datasets)
    print(f"{n_buildings} buildings in 9 units, {args.datasets} datasets, {n_parts} footprint polygons in all")

    with postgis.test_cluster() as cluster:
        name = postgis.create_database(cluster, template=None)
        url = cluster.url(name)
        migrate.upgrade(url)
        engine = get_engine(Settings(database_url=url, data_dir=Path(os.environ.get("TMPDIR", "/tmp")) / "bench-cov"))
        with session_scope(engine) as session:
            org = accounts.create_organization(session, "Bench Institute", "design_institute")
            org_id = org.id
            from cim_platform.coverage import areas

            areas.load_built_up(session, ADMIN, features, unit=None, year=None, source="demo")
        started = time.perf_counter()
        revisions = []
        for kind, lod, footprint in datasets:
            revisions += add_dataset(engine, org_id, [footprint], kind=kind, lod=lod)[1]
        print(f"datasets inserted in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        with session_scope(engine) as session:  # what the after-publish hook does at each publication
            store_parts(session, revisions)
        parts_s = time.perf_counter() - started
        print(f"parts stored (at publication) in {parts_s:.1f} s")
        codes = sorted(built)
        definition = Definition()

        backend = {}

        def postgis_all() -> dict[str, float]:
            with session_scope(engine) as session:
                backend["pid"] = session.scalar(text("SELECT pg_backend_pid()"))
                figures = compute_units(session, definition, codes)
                session.rollback()
            return {code: f.covered_m2 for code, f in figures.items()}

        def postgis_cpu() -> float:  # the backend's and this process's CPU (the same pooled connection each time)
            return process_cpu(backend["pid"]) + time.process_time() if backend else time.process_time()

        def fetch_parts() -> np.ndarray:
            with engine.connect() as conn:
                rows = conn.execute(
                    text(
                        "SELECT ST_AsBinary(r.footprint) FROM datasets d "
                        "JOIN dataset_revisions r ON r.id = d.published_revision_id WHERE r.state = 'ready'"
                    )
                ).all()
            geometries = shapely.from_wkb([bytes(row[0]) for row in rows])
            return shapely.get_parts(geometries)

        parts = fetch_parts()

        def shapely_fetch_and_compute() -> dict[str, float]:
            return shapely_coverage(built, fetch_parts())

        postgis_all()  # warm-up (and the backend's pid)
        (postgis_s, postgis_cpu_s), from_postgis = timed(postgis_all, repeat=args.repeat, cpu=postgis_cpu)
        (shapely_s, shapely_cpu_s), from_shapely = timed(shapely_coverage, built, parts, repeat=args.repeat)
        (fetch_s, _), _ = timed(shapely_fetch_and_compute, repeat=args.repeat)
        worst = max(abs(from_postgis[c] - from_shapely[c]) / max(from_shapely[c], 1.0) for c in codes)
        with session_scope(engine) as session:
            started = time.perf_counter()
            first = evaluate(session, definition, store=True, trigger="bench")
            snapshot_s = time.perf_counter() - started
        kangbashi = MultiPolygon(buildings["150603"][: len(buildings["150603"]) // 10])
        _, new_revisions = add_dataset(engine, org_id, [kangbashi], kind="ifc", lod="LOD3")
        with session_scope(engine) as session:
            store_parts(session, new_revisions)
        with session_scope(engine) as session:
            started = time.perf_counter()
            second = evaluate(session, definition, store=True, trigger="bench")
            incremental_s = time.perf_counter() - started
        with session_scope(engine) as session:
            started = time.perf_counter()
            third = evaluate(session, definition, store=True, trigger="bench")
            unchanged_s = time.perf_counter() - started

    city_share = first.figures["city"].share or 0.0
    result = {
        "buildings": n_buildings,
        "datasets": args.datasets,
        "footprint_polygons": n_parts,
        "postgis_s": round(postgis_s, 3),
        "shapely_s": round(shapely_s, 3),
        "shapely_with_fetch_s": round(fetch_s, 3),
        "ratio_shapely_over_postgis": round(shapely_s / postgis_s, 2),
        "postgis_cpu_s": round(postgis_cpu_s, 3),
        "shapely_cpu_s": round(shapely_cpu_s, 3),
        "ratio_cpu_shapely_over_postgis": round(shapely_cpu_s / postgis_cpu_s, 2),
        "ratio_shapely_with_fetch_over_postgis": round(fetch_s / postgis_s, 2),
        "max_relative_difference": worst,
        "parts_stored_at_publication_s": round(parts_s, 3),
        "snapshot_full_s": round(snapshot_s, 3),
        "snapshot_incremental_s": round(incremental_s, 3),
        "incremental_units": second.computed,
        "snapshot_unchanged_s": round(unchanged_s, 3),
        "unchanged_reused": third.reused,
        "city_share": round(city_share, 4),
        "cpus": os.cpu_count(),
        "load_before": os.getloadavg()[0],
    }
    print(json.dumps(result, indent=1))
    out = ROOT / "bench" / "results" / f"coverage-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:4]}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
