"""Demo data: the synthetic historic-building records of ``sample_models/heritage/`` loaded over HTTP,
the way a survey team and the city's officials would (records, groups, archive items with their QA,
the status workflow, a pending proposal). Loading again skips what is there."""

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

SAMPLES = Path(__file__).resolve().parents[2] / "sample_models" / "heritage"
MANIFEST = SAMPLES / "dongsheng_heritage.json"
WORKFLOW = ("submitted", "under_review", "listed")
ACTORS = {
    "surveyor": ("demo-surveyor", "示例测绘员 Demo surveyor"),
    "official": ("demo-official", "示例官员 Demo official"),
}
ORGS = {"surveyor": ("Ordos Demo Survey Team", "survey_team"), "official": ("Ordos Demo City Bureau", "city_bureau")}


def _tokens(settings: Settings) -> dict[str, str]:
    """API tokens of a demo surveyor and a demo official (created on first use)."""
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
            tokens[role], _ = accounts.create_token(session, user, name="cim demo heritage")
    return tokens


def _ok(response: httpx.Response, what: str) -> dict[str, Any]:
    if response.status_code >= 300:
        raise RuntimeError(f"{what}: {response.status_code} {response.text[:300]}")
    body: dict[str, Any] = response.json()
    return body


def _file_item(client: httpx.Client, h: dict[str, dict[str, str]], building_id: str, item: dict[str, Any]) -> None:
    path = SAMPLES / item["file"]
    fields = {k: str(v) for k, v in item.items() if k not in ("file", "accepted")}
    with path.open("rb") as handle:
        filed = _ok(
            client.post(
                f"/api/v1/heritage/buildings/{building_id}/items",
                headers=h["surveyor"],
                data=fields,
                files={"file": (path.name, handle)},
            ),
            f"item {item['title']}",
        )
    if item.get("accepted"):
        for stage in ("re_check", "accepted"):
            _ok(
                client.post(f"/api/v1/heritage/items/{filed['id']}/qa", headers=h["official"], json={"to": stage}),
                stage,
            )


def _load_record(
    client: httpx.Client, h: dict[str, dict[str, str]], spec: dict[str, Any], crs: str, groups: dict[str, str]
) -> None:
    body = {k: v for k, v in spec.items() if k not in ("group", "target_status", "items", "proposal")}
    if spec.get("group"):
        body["group_id"] = groups[spec["group"]]
    created = client.post("/api/v1/heritage/buildings", headers=h["surveyor"], json={**body, "crs": crs})
    record = _ok(created, spec["code"])
    etag = created.headers["ETag"]
    for item in spec.get("items", []):
        _file_item(client, h, record["id"], item)
    target = spec.get("target_status", "draft")
    for status in WORKFLOW[: WORKFLOW.index(target) + 1] if target in WORKFLOW else ():
        actor = "surveyor" if status == "submitted" else "official"
        url = f"/api/v1/heritage/buildings/{record['id']}/status"
        answer = client.post(url, headers={**h[actor], "If-Match": etag}, json={"to": status, "comment": "示例 demo"})
        _ok(answer, f"{spec['code']} → {status}")
        etag = answer.headers["ETag"]
    if spec.get("proposal"):
        url = f"/api/v1/heritage/buildings/{record['id']}"
        _ok(client.patch(url, headers={**h["surveyor"], "If-Match": etag}, json=spec["proposal"]), "proposal")


def load_heritage_samples(settings: Settings, base_url: str, client: httpx.Client | None = None) -> int:
    """Load the demo's historic-building records; the number of records loaded (0 when all were there).
    ``client`` (e.g. a test client) replaces a connection to ``base_url``."""
    if client is None:
        with httpx.Client(base_url=base_url, timeout=120) as own:
            return load_heritage_samples(settings, base_url, own)
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    tokens = _tokens(settings)
    h = {role: {"Authorization": f"Bearer {token}"} for role, token in tokens.items()}
    loaded = 0
    existing = client.get("/api/v1/heritage/buildings", headers=h["official"], params={"limit": 1000})
    codes = {b["code"] for b in _ok(existing, "records")["buildings"]}
    groups = {g["code"]: g["id"] for g in _ok(client.get("/api/v1/heritage/groups"), "groups")["groups"]}
    for group in manifest["groups"]:
        if group["code"] not in groups:
            groups[group["code"]] = _ok(
                client.post("/api/v1/heritage/groups", headers=h["surveyor"], json=group), "group"
            )["id"]
    for spec in manifest["records"]:
        if spec["code"] in codes:
            continue
        _load_record(client, h, spec, manifest["crs"], groups)
        loaded += 1
    return loaded


def demo_step(settings: Settings, base_url: str) -> str:
    """The line ``cim demo`` prints for this domain (api/demo.py calls every domain's ``demo_step``)."""
    return f"historic buildings (synthetic, Dongsheng): {load_heritage_samples(settings, base_url)} loaded"
