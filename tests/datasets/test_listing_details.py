"""What the portal needs from listings: organisation names on datasets, district seats, paged jobs."""

from __future__ import annotations

from cim_platform.core.db.engine import session_scope
from cim_platform.core.jobs.models import Job
from cim_platform.datasets.models import Dataset


def test_datasets_carry_their_organisation_name(client, cast) -> None:
    with session_scope(client.app.state.engine) as session:
        session.add(Dataset(organization_id=cast.orgs["institute_a"], name="hall", kind="ifc", visibility="public"))
    listed = client.get("/api/v1/datasets").json()["datasets"]
    assert [d["organization_name"] for d in listed] == ["Ordos Architectural Design Institute"]


def test_districts_have_their_seat(client) -> None:
    districts = {d["slug"]: d for d in client.get("/api/v1/districts").json()["districts"]}
    assert len(districts) == 9
    lon, lat = districts["kangbashi"]["seat"]
    assert 109.5 < lon < 110.2 and 39.4 < lat < 39.9


def test_jobs_are_paged_with_a_total(client, cast) -> None:
    with session_scope(client.app.state.engine) as session:
        for number in range(7):
            job = Job(task="test.sleep", state="succeeded", params={"n": number}, organization_id=cast.orgs["bureau"])
            session.add(job)
    headers = cast.headers("admin")
    first = client.get("/api/v1/jobs?limit=5", headers=headers)
    second = client.get("/api/v1/jobs?limit=5&offset=5", headers=headers)
    assert first.headers["x-total-count"] == second.headers["x-total-count"] == "7"
    ids = [job["id"] for job in first.json()] + [job["id"] for job in second.json()]
    assert len(ids) == len(set(ids)) == 7
    assert client.get("/api/v1/jobs?state=bogus", headers=headers).status_code == 422
