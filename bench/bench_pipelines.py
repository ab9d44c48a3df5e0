"""Pipelines: survey tables → 3D Tiles, and the clearance check in PostGIS, on a generated city-size network.

    python bench/bench_pipelines.py [--segments 100000] [--repeat 3] [--skip-clearance]

Generates ``--segments`` segments (and about as many points) on parallel synthetic streets in Kangbashi
(``sample_models/pipelines/generate.py``: six categories per street, manholes every third point), zipped
as CSV tables in the Chinese layout. Then:

* anchor: reading and checking the tables alone (``converters.pipelines.read_network``), in this process;
* the conversion to 3D Tiles 1.1 (``python -m converters``, a child process as the workers run it):
  wall time, segments/s, the child's CPU time (its pool workers included: on a loaded machine the steadier
  figure), the child's peak resident memory, tiles and bytes written;
* with ``--repeat N`` the anchor and the conversion alternate N times; medians are reported beside each run;
* the registry: a private PostGIS, the tables read into ``pipeline_segments``/``pipeline_points``
  (``cim_platform.pipelines.registry.fill``), then the clearance check over the whole network
  (``cim_platform.pipelines.clearance.check``, as an official), timed after a warm-up.

Writes bench/results/pipelines-*.json.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from converters.options import ConvertOptions  # noqa: E402
from converters.pipelines import read_network  # noqa: E402

CRS = "EPSG:4546+5737"


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("gen", ROOT / "sample_models" / "pipelines" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def convert_in_child(source: Path, out: Path) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    child = subprocess.run([sys.executable, "-m", "converters", str(source), str(out), "--options",
                            json.dumps({"crs": CRS})], env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if child.returncode != 0:
        raise SystemExit(f"conversion failed: {child.stdout[-500:]} {child.stderr[-2000:]}")
    report = json.loads(child.stdout.strip().splitlines()[-1])["report"]
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "peak_mb": round(after.ru_maxrss / 1024, 1),
            "counts": report["counts"]}


def clearance_in_postgis(source: Path) -> dict[str, object]:
    from cim_platform.accounts import service as accounts
    from cim_platform.core import migrate
    from cim_platform.core.access import Caller, Role
    from cim_platform.core.db.engine import get_engine, session_scope
    from cim_platform.core.settings import Settings
    from cim_platform.datasets.models import Dataset, DatasetRevision
    from cim_platform.pipelines import clearance, registry
    from tests.support import postgis

    with postgis.test_cluster() as cluster:
        name = postgis.create_database(cluster, template=None)
        url = cluster.url(name)
        migrate.upgrade(url)
        engine = get_engine(Settings(database_url=url, data_dir=Path(tempfile.gettempdir()) / "bench-pipelines"))
        with session_scope(engine) as session:
            org = accounts.create_organization(session, "bench", "survey_team")
            dataset = Dataset(id=uuid.uuid4(), organization_id=org.id, name="bench", kind="pipelines",
                              visibility="public", district_code="150603")
            session.add(dataset)
            session.flush()
            revision = DatasetRevision(id=uuid.uuid4(), dataset_id=dataset.id, number=1, state="ready",
                                       source_filename=source.name, source_path=str(source),
                                       source_bytes=source.stat().st_size,
                                       source_sha256=hashlib.sha256(source.read_bytes()).hexdigest(),
                                       convert_params={"crs": CRS})
            session.add(revision)
            session.flush()
            started = time.perf_counter()
            segments, points = registry.fill(session, dataset, revision, source)
            fill_s = time.perf_counter() - started
        with engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE pipeline_segments")
            connection.commit()
        official = Caller(user_id=None, username="bench", organization_id=org.id, role=Role.official)
        times = []
        found = 0
        for _ in range(3):  # the first run warms the caches
            with session_scope(engine) as session:
                started = time.perf_counter()
                violations, _ = clearance.check(session, official)
                times.append(time.perf_counter() - started)
                found = len(violations)
        engine.dispose()
        postgis.drop_database(cluster, name)
    return {"segments": segments, "points": points, "fill_s": round(fill_s, 2),
            "clearance_s": [round(t, 2) for t in times], "violations": found}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--segments", type=int, default=100_000)
    parser.add_argument("--skip-clearance", action="store_true")
    parser.add_argument("--repeat", type=int, default=1, help="alternate the anchor and the conversion N times")
    args = parser.parse_args()
    gen = _generator()
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-pipelines-") as tmp:
        points, lines = gen.grid_network(args.segments)
        source = gen.write_csv_zip(Path(tmp) / "network.zip", points, lines)
        reads: list[float] = []
        runs: list[dict[str, object]] = []
        for k in range(max(1, args.repeat)):
            started = time.perf_counter()
            network = read_network(source, ConvertOptions(crs=CRS))
            reads.append(time.perf_counter() - started)
            runs.append(convert_in_child(source, Path(tmp) / f"out{k}"))
            shutil.rmtree(Path(tmp) / f"out{k}")
        read_s = statistics.median(reads)
        wall_s = statistics.median(float(r["wall_s"]) for r in runs)  # type: ignore[arg-type]
        segments = len(network.segments)
        result: dict[str, object] = {
            "segments": segments, "points": len(network.points),
            "anchor_read_s": round(read_s, 2), "anchor_runs_s": [round(r, 2) for r in reads],
            "conversion": {**runs[len(runs) // 2], "wall_s": round(wall_s, 2),
                           "cpu_s": round(statistics.median(float(r["cpu_s"]) for r in runs), 2),  # type: ignore[arg-type]
                           "peak_mb": max(float(r["peak_mb"]) for r in runs)},  # type: ignore[arg-type]
            "conversion_runs": [{k: v for k, v in r.items() if k != "counts"} for r in runs],
            "segments_per_s": round(segments / wall_s, 1),
            "conversion_over_read": round(wall_s / read_s, 2),
        }
        if not args.skip_clearance:
            result["postgis"] = clearance_in_postgis(source)
    result["load_average"] = [round(load_before, 1), round(os.getloadavg()[0], 1)]
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"pipelines-{time.strftime('%Y%m%d-%H%M%S')}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
