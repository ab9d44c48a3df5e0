"""Small pipeline survey tables for tests, and the sample generator of ``sample_models/pipelines``."""

from __future__ import annotations

import importlib.util
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

REPO = Path(__file__).resolve().parents[2]
CRS = "EPSG:4546+5737"
E0, N0 = 397_000.0, 4_387_000.0  # Kangbashi east of the demo streets, CGCS2000 zone 37 (EPSG:4546)


def generator() -> ModuleType:
    """``sample_models/pipelines/generate.py`` as a module."""
    spec = importlib.util.spec_from_file_location("pipelines_generate", REPO / "sample_models/pipelines/generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def point(ident: str, category: str, e: float, n: float, ground: float | None = 1300.0, depth: Any = None,
          feature: str = "直线点", size: Any = None) -> dict[str, Any]:
    """A point row in the Chinese layout (X = northing, Y = easting, offsets from E0/N0)."""
    return {"管线点号": ident, "类别": category, "特征": feature, "X": N0 + n, "Y": E0 + e, "地面高程": ground,
            "埋深": depth, "井径": size}


def line(start: str, end: str, category: str, depth0: Any = None, depth1: Any = None, diameter: Any = None,
         section: Any = None, **more: Any) -> dict[str, Any]:
    row = {"起点点号": start, "终点点号": end, "类别": category, "起点埋深": depth0, "终点埋深": depth1,
           "管径": diameter, "断面尺寸": section, "材质": "PE", "权属单位": "测试单位"}
    row.update(more)
    return row


def write_zip(path: Path, points: list[dict[str, Any]], lines: list[dict[str, Any]], encoding: str = "utf-8",
              point_columns: list[str] | None = None, line_columns: list[str] | None = None) -> Path:
    gen = generator()
    point_columns = point_columns or list(dict.fromkeys(k for row in points for k in row))
    line_columns = line_columns or list(dict.fromkeys(k for row in lines for k in row))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("points.csv", gen.csv_bytes(points, point_columns, encoding))
        archive.writestr("lines.csv", gen.csv_bytes(lines, line_columns, encoding))
    return path


def publish(client: Any, cast: Any, settings: Any, source: Path, *, actor: str = "uploader_a",
            org: str = "institute_a", district: str = "150603", visibility: str = "public", crs: str = CRS) -> str:
    """A converted (ready) pipelines revision of ``source``, published over HTTP; the registry job that the
    publication recorded is then run here (no worker in these tests). Returns the dataset id."""
    import hashlib
    import shutil
    import uuid

    from sqlalchemy import select

    from cim_platform.core.db.engine import session_scope
    from cim_platform.core.jobs.models import Job
    from cim_platform.core.jobs.registry import JobRun
    from cim_platform.pipelines.jobs import REGISTRY_TASK, refresh_registry
    from tests.support.stored_datasets import StoredRevision, add_dataset

    relative = f"uploads/test-{uuid.uuid4().hex}{source.suffix}"
    target = settings.resolved_data_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    engine = client.app.state.engine
    stored = StoredRevision(source_filename=source.name, source_path=relative, source_bytes=target.stat().st_size,
                            source_sha256=hashlib.sha256(target.read_bytes()).hexdigest(),
                            convert_params={"crs": crs, "kind": "pipelines"})
    dataset_id, (revision_id,) = add_dataset(engine, cast.orgs[org], [stored], name=f"示例 pipelines {source.name}",
                                             kind="pipelines", visibility=visibility, district=district, published=None)
    response = client.post(f"/api/v1/datasets/{dataset_id}/revisions/{revision_id}/publish",
                           headers=cast.headers(actor))
    assert response.status_code == 200, response.text
    with session_scope(engine) as session:
        jobs = session.scalars(select(Job).where(Job.task == REGISTRY_TASK,
                                                 Job.params["dataset_id"].astext == str(dataset_id))).all()
        assert len(jobs) == 1, "the publication records one registry job"
        job_id, params = jobs[0].id, dict(jobs[0].params)
    result = refresh_registry(JobRun(job_id, params, engine, settings, lambda f, m: None, lambda: False))
    assert result["segments"] > 0
    return str(dataset_id)
