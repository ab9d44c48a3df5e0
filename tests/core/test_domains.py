"""The domain registry: declarations checked, every domain's routes mounted, job kinds linking their
results by route name (the jobs API knows no domain)."""

from __future__ import annotations

import importlib
import uuid

import pytest
from fastapi.datastructures import DefaultPlaceholder
from fastapi.routing import APIRoute

from cim_platform.core.db.engine import session_scope
from cim_platform.core.domains import Domain, check_declarations
from cim_platform.core.jobs.models import Job
from cim_platform.core.jobs.registry import KINDS
from cim_platform.registry import DOMAINS, load_domains


def test_declarations_refuse_duplicates_and_forward_reads() -> None:
    check_declarations((Domain("a"), Domain("b", reads=("a",))))
    with pytest.raises(ValueError, match="registered twice"):
        check_declarations((Domain("a"), Domain("a")))
    with pytest.raises(ValueError, match="not registered before it"):
        check_declarations((Domain("b", reads=("a",)), Domain("a")))


def _routes() -> list[APIRoute]:
    routers = list(importlib.import_module("api.core").ROUTERS)
    for domain in DOMAINS:
        routers += importlib.import_module(f"api.{domain.name}").ROUTERS
    return [route for router in routers for route in router.routes if isinstance(route, APIRoute)]


def test_every_domain_mounts_its_routes(client) -> None:
    documented = client.get("/openapi.json").json()["paths"]
    for domain in DOMAINS:
        routers = importlib.import_module(f"api.{domain.name}").ROUTERS
        assert routers, domain.name
        for router in routers:
            for route in router.routes:
                assert isinstance(route, APIRoute), (domain.name, route)
                if route.include_in_schema:
                    assert route.path.replace(":path}", "}") in documented, (domain.name, route.path)


def test_domains_register_their_job_kinds() -> None:
    load_domains()
    assert "convert_revision" in KINDS
    assert KINDS["convert_revision"].on_abandoned is not None


def test_job_links_come_from_the_job_kind(client, cast) -> None:
    dataset_id, revision_id = uuid.uuid4(), uuid.uuid4()
    with session_scope(client.app.state.engine) as session:
        job = Job(
            task="convert_revision",
            state="succeeded",
            params={"dataset_id": str(dataset_id), "revision_id": str(revision_id)},
            organization_id=cast.orgs["bureau"],
        )
        session.add(job)
        session.flush()
        job_id = job.id
    body = client.get(f"/api/v1/jobs/{job_id}", headers=cast.headers("admin")).json()
    assert body["links"] == {
        "self": f"/api/v1/jobs/{job_id}",
        "dataset": f"/api/v1/datasets/{dataset_id}",
        "revision": f"/api/v1/datasets/{dataset_id}/revisions/{revision_id}",
        "tileset": f"/tiles/{dataset_id}/r/{revision_id}/tileset.json",
        # added by the heritage domain (core/jobs/registry.extend_links), unknown to the datasets domain
        "heritage_conflicts": f"/api/v1/heritage/datasets/{dataset_id}/revisions/{revision_id}/conflicts",
    }


def test_every_route_declares_a_response_model() -> None:
    """/openapi.json describes every JSON answer: no route without a response model or response class."""
    missing = []
    for route in _routes():
        if not route.include_in_schema:
            continue
        default_class = isinstance(route.response_class, DefaultPlaceholder)
        if route.response_model is None and default_class and route.status_code != 204:
            missing.append(f"{sorted(route.methods)} {route.path}")
    assert not missing, missing


def test_a_link_to_an_unknown_route_is_left_out_not_a_500(client, cast) -> None:
    from cim_platform.core.jobs.registry import JobKind, RouteLink

    KINDS["test.unknown_link"] = JobKind(
        "test.unknown_link", handler=lambda run: None, links=lambda params, state: {"x": RouteLink("no_such_route", {})}
    )
    try:
        with session_scope(client.app.state.engine) as session:
            job = Job(task="test.unknown_link", state="succeeded", params={}, organization_id=cast.orgs["bureau"])
            session.add(job)
            session.flush()
            job_id = job.id
        answer = client.get(f"/api/v1/jobs/{job_id}", headers=cast.headers("admin"))
        assert answer.status_code == 200 and set(answer.json()["links"]) == {"self"}
        assert client.get("/api/v1/jobs", headers=cast.headers("admin")).status_code == 200
    finally:
        del KINDS["test.unknown_link"]
