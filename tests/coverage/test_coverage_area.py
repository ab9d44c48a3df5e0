"""Area and count coverage computed in PostGIS against geodesic areas computed independently (pyproj.Geod):
overlaps once, holes, multipolygons across the Gauss-Krüger zone boundary, what does not count."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon, box

from cim_platform.core.db.engine import session_scope
from cim_platform.coverage import areas
from cim_platform.coverage.compute import compute_units
from cim_platform.coverage.definition import Definition
from cim_platform.coverage.geofiles import Feature, read_geojson
from cim_platform.coverage.snapshots import evaluate
from tests.support.coverage import (
    ADMIN,
    DONGSHENG,
    HANGGIN,
    KANGBASHI,
    add_dataset,
    geodesic_area,
    set_built_up,
    square,
)

TOLERANCE = 1e-3  # 0.1 %


def figures(engine, definition: Definition | None = None):
    with session_scope(engine) as session:
        return evaluate(session, definition or Definition(), store=False).figures


@pytest.fixture
def engine(client):
    return client.app.state.engine


def test_built_up_area_is_geodesic(engine) -> None:
    built = box(109.90, 39.78, 109.98, 39.84)
    set_built_up(engine, DONGSHENG, built)
    figure = figures(engine)[DONGSHENG]
    assert figure.built_up_m2 == pytest.approx(geodesic_area(built), rel=TOLERANCE)
    assert figure.covered_m2 == 0 and figure.share == 0
    assert figure.built_up_year == 2025


def test_overlapping_datasets_count_once(engine, cast) -> None:
    built = box(109.90, 39.78, 109.98, 39.84)
    set_built_up(engine, DONGSHENG, built)
    first, second = box(109.91, 39.79, 109.95, 39.83), box(109.93, 39.80, 109.97, 39.86)  # overlap, and beyond
    add_dataset(engine, cast.orgs["institute_a"], [first], visibility="public")
    add_dataset(engine, cast.orgs["institute_b"], [second], kind="ifc", lod="LOD3")  # internal counts too
    expected = geodesic_area(shapely.union(first, second).intersection(built))
    figure = figures(engine)[DONGSHENG]
    assert figure.covered_m2 == pytest.approx(expected, rel=TOLERANCE)
    assert figure.share == pytest.approx(expected / geodesic_area(built), rel=TOLERANCE)
    # breakdown: each kind's own union (so the parts add up to more than the total when they overlap)
    assert figure.by_kind["footprints"] == pytest.approx(geodesic_area(first), rel=TOLERANCE)
    assert figure.by_kind["ifc"] == pytest.approx(geodesic_area(second.intersection(built)), rel=TOLERANCE)
    assert set(figure.by_level) == {"CIM2", "CIM6"}
    # at or above CIM3 only the BIM model counts; one kind only
    high = figures(engine, Definition(level=3))[DONGSHENG]
    assert high.covered_m2 == pytest.approx(geodesic_area(second.intersection(built)), rel=TOLERANCE)
    only = figures(engine, Definition(kind="footprints"))[DONGSHENG]
    assert only.covered_m2 == pytest.approx(geodesic_area(first), rel=TOLERANCE)


def test_holes_are_not_built_up(engine, cast) -> None:
    outer = [(109.90, 39.78), (109.98, 39.78), (109.98, 39.84), (109.90, 39.84)]
    hole = [(109.92, 39.80), (109.96, 39.80), (109.96, 39.82), (109.92, 39.82)]
    built = Polygon(outer, [hole])
    set_built_up(engine, DONGSHENG, built)
    footprint = box(109.91, 39.79, 109.94, 39.83)  # partly over the hole
    add_dataset(engine, cast.orgs["institute_a"], [footprint])
    figure = figures(engine)[DONGSHENG]
    assert figure.built_up_m2 == pytest.approx(geodesic_area(built), rel=TOLERANCE)
    assert figure.covered_m2 == pytest.approx(geodesic_area(footprint.intersection(built)), rel=TOLERANCE)
    assert figure.covered_m2 < geodesic_area(footprint) * 0.8


def transform(transformer: Transformer, geometry):
    return shapely.transform(geometry, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


def _from_zone(epsg: int, geometry):
    return transform(Transformer.from_crs(epsg, 4326, always_xy=True), geometry)


def test_multipolygon_across_the_zone_boundary(engine, cast) -> None:
    """Hanggin's built-up area given in EPSG:4545, Dongsheng's in EPSG:4546 (GeoJSON with a crs member);
    one dataset footprint is a multipolygon whose parts straddle 109.5°E, the boundary of the two zones."""
    to_4545 = Transformer.from_crs(4326, 4545, always_xy=True)
    to_4546 = Transformer.from_crs(4326, 4546, always_xy=True)
    hanggin_ll, dongsheng_ll = box(109.40, 39.80, 109.50, 39.86), box(109.50, 39.80, 109.60, 39.86)
    documents = {
        HANGGIN: (transform(to_4545, hanggin_ll), "EPSG:4545"),
        DONGSHENG: (transform(to_4546, dongsheng_ll), "EPSG:4546"),
    }
    expected_built = {}
    for unit, (projected, crs) in documents.items():
        document = {
            "type": "FeatureCollection",
            "crs": {"type": "name", "properties": {"name": f"urn:ogc:def:crs:{crs.replace(':', '::')}"}},
            "features": [
                {"type": "Feature", "properties": {"unit": unit, "year": 2024}, "geometry": projected.__geo_interface__}
            ],
        }
        features = read_geojson(json.dumps(document).encode())
        with session_scope(engine) as session:
            areas.load_built_up(session, ADMIN, features, unit=None, year=None, source="land_survey")
        expected_built[unit] = _from_zone(int(crs.split(":")[1]), projected)
    parts = MultiPolygon([box(109.45, 39.81, 109.55, 39.83), box(109.48, 39.84, 109.52, 39.85)])
    add_dataset(engine, cast.orgs["survey"], [parts], kind="pointcloud", lod="points")
    result = figures(engine)
    for unit in (HANGGIN, DONGSHENG):
        built = expected_built[unit]
        assert result[unit].built_up_m2 == pytest.approx(geodesic_area(built), rel=TOLERANCE)
        assert result[unit].covered_m2 == pytest.approx(geodesic_area(parts.intersection(built)), rel=TOLERANCE)
        assert result[unit].built_up_year == 2024
    city = result["city"]
    assert city.covered_m2 == pytest.approx(
        geodesic_area(parts.intersection(shapely.union(*expected_built.values()))), rel=2e-3
    )
    assert city.built_up_m2 == pytest.approx(sum(geodesic_area(g) for g in expected_built.values()), rel=TOLERANCE)


def test_unpublished_failed_and_superseded_revisions_do_not_count(engine, cast) -> None:
    built = box(109.90, 39.78, 109.98, 39.84)
    set_built_up(engine, DONGSHENG, built)
    org = cast.orgs["institute_a"]
    old, new = box(109.90, 39.78, 109.94, 39.84), box(109.96, 39.82, 109.98, 39.84)
    add_dataset(engine, org, [old, new])  # revision 1 superseded by the published revision 2
    add_dataset(engine, org, [box(109.90, 39.78, 109.98, 39.84)], published=None)  # converted, never published
    add_dataset(engine, org, [box(109.90, 39.78, 109.98, 39.84)], states=["failed"], published=None)
    add_dataset(engine, org, [box(109.90, 39.78, 109.98, 39.84)], states=["pending"], published=None)
    figure = figures(engine)[DONGSHENG]
    assert figure.covered_m2 == pytest.approx(geodesic_area(new), rel=TOLERANCE)


def test_latest_built_up_year_and_the_city_adds_districts_only(engine, cast) -> None:
    set_built_up(engine, DONGSHENG, box(109.90, 39.78, 109.98, 39.84), year=2020)
    newer = box(109.90, 39.78, 110.00, 39.86)
    set_built_up(engine, DONGSHENG, newer, year=2024)
    set_built_up(engine, KANGBASHI, box(109.76, 39.58, 109.82, 39.63), year=2024)
    town = box(109.72, 39.54, 109.78, 39.59)
    set_built_up(engine, "150627100", town, year=2024)  # Altan Xire inside Ejin Horo: a unit, not added twice
    add_dataset(engine, cast.orgs["institute_a"], [box(109.73, 39.55, 109.75, 39.57)])
    result = figures(engine)
    assert result[DONGSHENG].built_up_year == 2024
    assert result[DONGSHENG].built_up_m2 == pytest.approx(geodesic_area(newer), rel=TOLERANCE)
    assert result["150627100"].share == pytest.approx(
        geodesic_area(box(109.73, 39.55, 109.75, 39.57)) / geodesic_area(town), rel=TOLERANCE
    )
    assert result["city"].built_up_m2 == pytest.approx(result[DONGSHENG].built_up_m2 + result[KANGBASHI].built_up_m2)
    older = figures(engine, Definition(year=2022))[DONGSHENG]
    assert older.built_up_year == 2020


def test_count_coverage_from_an_inventory(engine, cast) -> None:
    set_built_up(engine, DONGSHENG, box(109.90, 39.78, 109.98, 39.84))
    buildings = [square(109.900 + i * 0.002, 39.800, 0.001) for i in range(4)]
    # the dataset covers building 0 fully, building 1 at 60 %, building 2 at 40 %, building 3 not at all
    footprint = MultiPolygon([box(109.8995, 39.7995, 109.9026, 39.8015), box(109.9040, 39.7995, 109.9044, 39.8015)])
    add_dataset(engine, cast.orgs["institute_a"], [footprint])
    with session_scope(engine) as session:
        assert areas.load_inventory(session, ADMIN, [Feature(MultiPolygon(buildings))], DONGSHENG, "land_survey") == 4
    covered = [geodesic_area(b.intersection(footprint)) / geodesic_area(b) for b in buildings]
    assert covered[0] == pytest.approx(1) and 0.5 < covered[1] < 0.7 and 0.3 < covered[2] < 0.5 and covered[3] == 0
    figure = figures(engine)[DONGSHENG]
    assert (figure.buildings, figure.buildings_covered) == (4, 2)
    with session_scope(engine) as session:
        loose = compute_units(session, Definition(count_share=0.05), [DONGSHENG])[DONGSHENG]
    assert loose.buildings_covered == 3


def test_parts_and_overlaps_stored_at_publication(engine, cast) -> None:
    """Publishing stores each footprint's polygons and which overlap (one footprint's own overlapping polygons
    included); identical polygons of two datasets count once and are no overlap; the figures match the
    union computed independently, per kind too, whatever the order of publication."""
    from sqlalchemy import func, select

    from cim_platform.core.audit import SYSTEM
    from cim_platform.coverage.models import PartOverlap, RevisionPart
    from cim_platform.datasets.models import Dataset, DatasetRevision
    from cim_platform.datasets.publishing import publish

    built = box(109.90, 39.78, 109.98, 39.84)
    set_built_up(engine, DONGSHENG, built)
    a, b = box(109.91, 39.79, 109.93, 39.81), box(109.92, 39.80, 109.94, 39.82)  # overlap each other
    c = box(109.97, 39.83, 109.99, 39.85)  # crosses the built-up edge
    footprints = [
        ("footprints", MultiPolygon([a, b])),  # one footprint whose own polygons overlap
        ("mesh", MultiPolygon([a])),  # identical to a polygon of the first
        ("pointcloud", MultiPolygon([b, c])),
    ]
    org = cast.orgs["institute_a"]
    for kind, footprint in footprints:
        dataset, revisions = add_dataset(engine, org, [footprint], kind=kind, lod=None, published=None)
        with session_scope(engine) as session:
            publish(session, session.get(Dataset, dataset), session.get(DatasetRevision, revisions[0]), caller=SYSTEM)
    with session_scope(engine) as session:
        assert session.scalar(select(func.count()).select_from(RevisionPart)) == 5
        # a–b within the first footprint, mesh a – b (twice: first's b and pointcloud's b), both directions
        assert session.scalar(select(func.count()).select_from(PartOverlap)) > 0
    figure = figures(engine)[DONGSHENG]
    union = shapely.union_all([a, b, c]).intersection(built)
    assert figure.covered_m2 == pytest.approx(geodesic_area(union), rel=TOLERANCE)
    assert figure.by_kind["footprints"] == pytest.approx(geodesic_area(shapely.union(a, b)), rel=TOLERANCE)
    assert figure.by_kind["mesh"] == pytest.approx(geodesic_area(a), rel=TOLERANCE)
    assert figure.by_kind["pointcloud"] == pytest.approx(
        geodesic_area(shapely.union(b, c).intersection(built)), rel=TOLERANCE
    )
    assert figure.by_level["CIM3"] == pytest.approx(
        geodesic_area(shapely.union_all([a, b, c]).intersection(built)), rel=TOLERANCE
    )
