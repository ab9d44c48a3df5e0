"""Demo data: the synthetic facade programme of ``sample_models/facades/`` (showcase streets in
Dongsheng, Kangbashi and Altan Xire for 2023–2025, facade projects) loaded over HTTP, the way a design
institute and the city's officials would. Loading again skips what is there."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from cim_platform.accounts import service as accounts
from cim_platform.accounts.models import Organization
from cim_platform.core.db.engine import get_engine, session_scope
from cim_platform.core.settings import Settings

SAMPLES = Path(__file__).resolve().parents[2] / "sample_models" / "facades"
MANIFEST = SAMPLES / "facade_demo.json"
ACTORS = {
    "uploader": ("demo-designer", "示例设计师 Demo designer"),
    "official": ("demo-official", "示例官员 Demo official"),
}
ORGS = {
    "uploader": ("Ordos Demo Design Institute", "design_institute"),
    "official": ("Ordos Demo City Bureau", "city_bureau"),
}
STREET_STEPS = ("under_construction", "accepted")
PROJECT_STEPS = ("design", "approved", "construction", "completed", "accepted")
OFFICIAL_STEPS = {"approved", "accepted"}


def _tokens(settings: Settings) -> dict[str, str]:
    tokens = {}
    with session_scope(get_engine(settings)) as session:
        for role, (username, display) in ACTORS.items():
            org_name, kind = ORGS[role]
            org = session.scalar(select(Organization).where(Organization.name == org_name))
            if org is None:
                org = accounts.create_organization(session, org_name, kind)
            try:
                user = accounts.find_user(session, username)
            except Exception:  # not found
                user = accounts.create_user(session, org, username, role, display)
            tokens[role], _ = accounts.create_token(session, user, name="cim demo facades")
    return tokens


def _ok(response: httpx.Response, what: str) -> dict[str, Any]:
    if response.status_code >= 300:
        raise RuntimeError(f"{what}: {response.status_code} {response.text[:300]}")
    body: dict[str, Any] = response.json()
    return body


def _street(client: httpx.Client, h: dict[str, dict[str, str]], spec: dict[str, Any]) -> str:
    body = {k: v for k, v in spec.items() if k not in ("status", "acceptance_document", "accepted_on")}
    created = client.post("/api/v1/facades/streets", headers=h["uploader"], json=body)
    street = _ok(created, spec["code"])
    etag = created.headers["ETag"]  # streets change only with their ETag (If-Match)
    target = spec["status"]
    for step in STREET_STEPS[: STREET_STEPS.index(target) + 1] if target != "candidate" else ():
        extra = {k: spec[k] for k in ("acceptance_document", "accepted_on")} if step == "accepted" else {}
        role = "official" if step == "accepted" else "uploader"
        path = f"/api/v1/facades/streets/{street['id']}/status"
        changed = client.post(path, headers={**h[role], "If-Match": etag}, json={"status": step, **extra})
        _ok(changed, f"{spec['code']} {step}")
        etag = changed.headers["ETag"]
    return str(street["id"])


def _project(client: httpx.Client, h: dict[str, dict[str, str]], spec: dict[str, Any], streets: dict[str, str]) -> None:
    body = {k: v for k, v in spec.items() if k not in ("status", "street")}
    body["street_id"] = streets[spec["street"]]
    project = _ok(client.post("/api/v1/facades/projects", headers=h["uploader"], json=body), spec["code"])
    target = spec["status"]
    for step in PROJECT_STEPS[: PROJECT_STEPS.index(target) + 1] if target != "planned" else ():
        role = "official" if step in OFFICIAL_STEPS else "uploader"
        path = f"/api/v1/facades/projects/{project['id']}/status"
        _ok(client.post(path, headers=h[role], json={"status": step}), f"{spec['code']} {step}")


def load_facade_samples(settings: Settings, base_url: str, client: httpx.Client | None = None) -> str:
    """Load the demo's showcase streets and facade projects; a one-line summary of what was loaded.
    ``client`` (e.g. a test client) replaces a connection to ``base_url``."""
    if client is None:
        with httpx.Client(base_url=base_url, timeout=120) as own:
            return load_facade_samples(settings, base_url, own)
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    tokens = _tokens(settings)
    h = {role: {"Authorization": f"Bearer {token}"} for role, token in tokens.items()}
    listed = _ok(client.get("/api/v1/facades/streets", headers=h["official"], params={"limit": 1000}), "streets")
    streets = {s["code"]: str(s["id"]) for s in listed["items"]}
    new_streets = 0
    for spec in manifest["streets"]:
        if spec["code"] not in streets:
            streets[spec["code"]] = _street(client, h, spec)
            new_streets += 1
    existing = _ok(client.get("/api/v1/facades/projects", headers=h["official"], params={"limit": 1000}), "projects")
    codes = {p["code"] for p in existing["items"]}
    new_projects = 0
    for spec in manifest["projects"]:
        if spec["code"] not in codes:
            _project(client, h, spec, streets)
            new_projects += 1
    return f"{new_streets} showcase streets and {new_projects} facade projects loaded"


def demo_step(settings: Settings, base_url: str) -> str:
    """The line ``cim demo`` prints for this domain (api/demo.py calls every domain's ``demo_step``)."""
    return f"facade programme (synthetic streets and projects): {load_facade_samples(settings, base_url)}"
