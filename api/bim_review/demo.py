"""Demo data of the BIM review: the city's example delivery requirements (sample_models/ids/ordos-delivery.ids)
uploaded by a demo official, every published IFC model of the demo checked against them, and one synthetic
BCF topic on the first model, all over HTTP like a user's requests. Loading again skips what is there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from cim_platform.accounts import service as accounts
from cim_platform.accounts.models import Organization
from cim_platform.core.db.engine import get_engine, session_scope
from cim_platform.core.errors import NotFound
from cim_platform.core.settings import Settings

IDS_FILE = Path(__file__).resolve().parents[2] / "sample_models" / "ids" / "ordos-delivery.ids"
IDS_NAME = "示例 鄂尔多斯 BIM 交付要求 Synthetic example: Ordos BIM delivery requirements"
TOPIC_TITLE = "示例：请补充外墙 IsExternal 属性 Synthetic example: state IsExternal on exterior walls"
OFFICIAL = ("demo-official", "示例官员 Demo official", "Ordos Demo City Bureau", "city_bureau")


def _official_token(settings: Settings) -> str:
    username, display, org_name, kind = OFFICIAL
    with session_scope(get_engine(settings)) as session:
        org = session.scalar(select(Organization).where(Organization.name == org_name))
        if org is None:
            org = accounts.create_organization(session, org_name, kind)
        try:
            user = accounts.find_user(session, username)
        except NotFound:
            user = accounts.create_user(session, org, username, "official", display)
        token, _ = accounts.create_token(session, user, name="cim demo bim review")
    return token


def _json(response: httpx.Response, what: str) -> Any:
    if response.status_code >= 300:
        raise RuntimeError(f"{what}: {response.status_code} {response.text[:300]}")
    return response.json()


def load_bim_review_samples(settings: Settings, base_url: str, client: httpx.Client | None = None) -> str:
    """Upload the example IDS (once), check the published IFC revisions against it, add one topic."""
    own = client is None
    http = client or httpx.Client(base_url=base_url, timeout=120)
    try:
        headers = {"Authorization": f"Bearer {_official_token(settings)}"}
        documents = _json(http.get("/api/v1/bim/ids", headers=headers), "IDS list")["items"]
        if not any(d["name"] == IDS_NAME for d in documents):
            body = {
                "name": IDS_NAME,
                "description": "示例数据 synthetic example: the city's common delivery requirements",
                "filename": IDS_FILE.name,
                "xml": IDS_FILE.read_text(encoding="utf-8"),
            }
            _json(http.post("/api/v1/bim/ids", json=body, headers=headers), "IDS upload")
        listing = _json(http.get("/api/v1/datasets", params={"kind": "ifc", "limit": 100}, headers=headers), "list")
        revisions = [d["published_revision_id"] for d in listing["datasets"] if d.get("published_revision_id")]
        checks = 0
        for revision_id in revisions:
            answer = _json(http.post(f"/api/v1/bim/revisions/{revision_id}/checks", headers=headers), "check")
            checks += len(answer["items"])
        topics = 0
        if revisions:
            existing = _json(http.get(f"/api/v1/bim/revisions/{revisions[0]}/topics", headers=headers), "topics")
            if not any(t["title"] == TOPIC_TITLE for t in existing["items"]):
                topic = {"title": TOPIC_TITLE, "labels": ["示例 example"], "priority": "Normal"}
                _json(http.post(f"/api/v1/bim/revisions/{revisions[0]}/topics", json=topic, headers=headers), "topic")
                topics = 1
        return (
            f"BIM review (synthetic): delivery requirements checked on {len(revisions)} IFC models "
            f"({checks} checks), {topics} new topic"
        )
    finally:
        if own:
            http.close()


def demo_step(settings: Settings, base_url: str) -> str:
    """The line ``cim demo`` prints for this domain (api/demo.py calls every domain's ``demo_step``)."""
    return load_bim_review_samples(settings, base_url)
