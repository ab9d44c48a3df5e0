"""Snapshots: unchanged inputs answer the stored snapshot, one changed district recomputes that
district only, history ordering, ``at``, targets reached / on track / behind, the debounced job queued
by a publication, and the job run by a real worker."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from shapely.geometry import MultiPolygon, box
from sqlalchemy import select, update

from cim_platform.core.audit import SYSTEM
from cim_platform.core.db.engine import session_scope
from cim_platform.core.jobs.models import Job
from cim_platform.coverage import targets
from cim_platform.coverage.compute import UnitFigure
from cim_platform.coverage.definition import Definition
from cim_platform.coverage.jobs import SNAPSHOT_TASK
from cim_platform.coverage.models import RevisionPart, Snapshot, Target
from cim_platform.coverage.snapshots import evaluate, history
from cim_platform.datasets.models import Dataset, DatasetRevision
from cim_platform.datasets.publishing import publish
from tests.support.coverage import DONGSHENG, KANGBASHI, add_dataset, geodesic_area, set_built_up
from tests.support.http_api import wait_job


@pytest.fixture
def engine(client):
    return client.app.state.engine


def snap(engine, definition: Definition | None = None, trigger: str = "demand"):
    with session_scope(engine) as session:
        result = evaluate(session, definition or Definition(), store=True, trigger=trigger)
        assert result.snapshot is not None
        return result.snapshot.id, result.reused, sorted(result.computed), result.figures


def _two_districts(engine) -> None:
    set_built_up(engine, DONGSHENG, box(109.90, 39.78, 109.98, 39.84))
    set_built_up(engine, KANGBASHI, box(109.76, 39.58, 109.82, 39.63))


def test_unchanged_inputs_answer_the_stored_snapshot(engine, cast) -> None:
    _two_districts(engine)
    add_dataset(engine, cast.orgs["institute_a"], [box(109.90, 39.78, 109.94, 39.84)])
    first, reused, computed, _ = snap(engine)
    assert not reused and DONGSHENG in computed and KANGBASHI in computed
    again, reused, computed, _ = snap(engine)
    assert (again, reused, computed) == (first, True, [])
    other_level, reused, _, _ = snap(engine, Definition(level=3))  # another definition: another snapshot
    assert other_level != first and not reused


def test_one_new_dataset_recomputes_its_district_only(engine, cast) -> None:
    _two_districts(engine)
    add_dataset(engine, cast.orgs["institute_a"], [box(109.90, 39.78, 109.94, 39.84)])
    first, _, _, before = snap(engine)
    kangbashi = box(109.77, 39.59, 109.79, 39.61)
    add_dataset(engine, cast.orgs["institute_b"], [kangbashi], kind="mesh", lod="mesh")
    second, reused, computed, after = snap(engine)
    assert second != first and not reused
    assert computed == [KANGBASHI]  # Dongsheng and the seven others copied from the first snapshot
    assert after[DONGSHENG].covered_m2 == before[DONGSHENG].covered_m2
    assert after[KANGBASHI].covered_m2 == pytest.approx(geodesic_area(kangbashi), rel=1e-3)
    assert after["city"].covered_m2 == pytest.approx(before["city"].covered_m2 + after[KANGBASHI].covered_m2)


def test_a_dataset_whose_box_spans_a_district_without_touching_it_leaves_it_alone(engine, cast) -> None:
    """The inputs of a unit are the revisions with a part meeting its built-up area, not a bounding box."""
    _two_districts(engine)
    add_dataset(engine, cast.orgs["institute_a"], [box(109.90, 39.78, 109.94, 39.84)])
    snap(engine)
    # one square in Kangbashi, one north-east of Dongsheng: their box spans Dongsheng's built-up area
    spread = MultiPolygon([box(109.77, 39.59, 109.78, 39.60), box(110.05, 39.90, 110.06, 39.91)])
    add_dataset(engine, cast.orgs["institute_b"], [spread], kind="mesh", lod="mesh")
    _, reused, computed, figures = snap(engine)
    assert not reused and computed == [KANGBASHI]
    assert figures[KANGBASHI].covered_m2 == pytest.approx(geodesic_area(box(109.77, 39.59, 109.78, 39.60)), rel=1e-6)


def test_a_superseding_revision_changes_the_inputs(engine, cast) -> None:
    _two_districts(engine)
    dataset, revisions = add_dataset(
        engine,
        cast.orgs["institute_a"],
        [box(109.90, 39.78, 109.94, 39.84), box(109.90, 39.78, 109.92, 39.84)],
        published=0,
    )
    _, _, _, before = snap(engine)
    with session_scope(engine) as session:  # the platform's own publish (the after-publish hook runs too)
        publish(session, session.get(Dataset, dataset), session.get(DatasetRevision, revisions[1]), caller=SYSTEM)
    _, reused, computed, after = snap(engine)
    assert not reused and computed == [DONGSHENG]
    assert after[DONGSHENG].covered_m2 == pytest.approx(before[DONGSHENG].covered_m2 / 2, rel=1e-3)


def test_history_ordering_at_and_targets(engine, cast) -> None:
    _two_districts(engine)
    ids = [snap(engine)[0]]
    for step in range(3):
        add_dataset(engine, cast.orgs["institute_a"], [box(109.90 + step * 0.02, 39.78, 109.91 + step * 0.02, 39.84)])
        ids.append(snap(engine)[0])
    base = datetime(2025, 1, 1, tzinfo=UTC)
    with session_scope(engine) as session:  # spread the snapshots over the year, newest taken first in id order
        for month, snapshot_id in enumerate(ids):
            session.execute(
                update(Snapshot).where(Snapshot.id == snapshot_id).values(taken_at=base + timedelta(days=60 * month))
            )
    with session_scope(engine) as session:
        points = history(session, Definition(), DONGSHENG)
        assert [s.id for s, _ in points] == ids
        shares = [f.share for _, f in points]
        assert shares == sorted(shares) and shares[0] == 0
        target = Target(unit_code=DONGSHENG, due_date=date(2025, 12, 31), share=0.2, min_level=1, note="")
        status = targets.status_of(points, target, now=base + timedelta(days=200))
        assert status.state == "reached" and status.reached_at == points[2][0].taken_at  # 2 of 8 columns: 25 %
        later = Target(unit_code=DONGSHENG, due_date=date(2025, 12, 31), share=0.9, min_level=1, note="")
        assert targets.status_of(points, later, now=base + timedelta(days=200)).state == "behind"
        easy = Target(unit_code=DONGSHENG, due_date=date(2026, 6, 30), share=0.6, min_level=1, note="")
        assert targets.status_of(points, easy, now=base + timedelta(days=200)).state == "on_track"
        assert targets.status_of(points, later, now=datetime(2026, 1, 1, 12, tzinfo=UTC)).state == "missed"
    empty: list[tuple[Snapshot, UnitFigure]] = []
    assert targets.status_of(empty, later, now=base).state == "no_data"


def test_at_answers_the_snapshot_of_that_time(client, cast) -> None:
    engine = client.app.state.engine
    _two_districts(engine)
    first = snap(engine)[0]
    with session_scope(engine) as session:
        session.execute(update(Snapshot).where(Snapshot.id == first).values(taken_at=datetime(2025, 3, 1, tzinfo=UTC)))
    add_dataset(engine, cast.orgs["institute_a"], [box(109.90, 39.78, 109.94, 39.84)])
    headers = cast.headers("official")
    then = client.get("/api/v1/coverage?at=2025-06-01T00:00:00Z", headers=headers).json()
    assert then["snapshot_id"] == str(first) and then["city"]["covered_m2"] == 0
    assert client.get("/api/v1/coverage?at=2024-01-01T00:00:00Z", headers=headers).status_code == 404
    now = client.get("/api/v1/coverage", headers=headers).json()
    assert now["city"]["covered_m2"] > 0 and now["snapshot_id"] is None
    history = client.get("/api/v1/coverage/history?unit=city").json()
    assert [p["snapshot_id"] for p in history["points"]] == [str(first)]


def test_publishing_queues_one_debounced_snapshot_job(engine, cast) -> None:
    _two_districts(engine)
    org = cast.orgs["institute_a"]
    for _ in range(3):
        dataset, revisions = add_dataset(engine, org, [box(109.90, 39.78, 109.94, 39.84)], published=None)
        with session_scope(engine) as session:
            publish(session, session.get(Dataset, dataset), session.get(DatasetRevision, revisions[0]), caller=SYSTEM)
    with session_scope(engine) as session:
        jobs = session.scalars(select(Job).where(Job.task == SNAPSHOT_TASK)).all()
        assert len(jobs) == 1 and jobs[0].params == {"auto": True, "trigger": "publish"}
        assert jobs[0].queue_job_id is None  # handed to the queue by a worker's reconciler after its grace
        # the publication stored each revision's footprint parts, with their geodesic area
        parts = session.execute(select(RevisionPart.revision_id, RevisionPart.area_m2)).all()
        assert len(parts) == 3
        assert all(
            area == pytest.approx(geodesic_area(box(109.90, 39.78, 109.94, 39.84)), rel=1e-9) for _, area in parts
        )


def test_the_job_takes_snapshots_in_a_worker(client, cast, start_worker) -> None:
    engine = client.app.state.engine
    _two_districts(engine)
    add_dataset(engine, cast.orgs["institute_a"], [box(109.90, 39.78, 109.94, 39.84)])
    start_worker()
    official = cast.headers("official")
    taken = client.post("/api/v1/coverage/snapshots", headers=official, json={}).json()
    job = wait_job(client, official, taken["links"]["job"], timeout=120)
    assert job["state"] == "succeeded", job
    assert job["links"]["coverage"] == "/api/v1/coverage"
    (result,) = job["result"]["snapshots"]  # CIM1 only: the default target names CIM1
    assert result["level"] == 1 and not result["reused"] and result["city_share"] > 0
    again = wait_job(
        client,
        official,
        client.post("/api/v1/coverage/snapshots", headers=official, json={}).json()["links"]["job"],
        timeout=120,
    )
    assert again["result"]["snapshots"][0]["reused"] is True
    assert again["result"]["snapshots"][0]["snapshot"] == result["snapshot"]
    listed = client.get("/api/v1/coverage/snapshots", headers=official).json()["items"]
    assert [s["id"] for s in listed] == [result["snapshot"]]
    detail = client.get(f"/api/v1/coverage/snapshots/{result['snapshot']}", headers=official).json()
    assert {f["unit"] for f in detail["figures"]} >= {"city", DONGSHENG, KANGBASHI}
