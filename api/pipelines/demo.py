"""Demo data: the synthetic pipeline network under two Kangbashi streets (``sample_models/pipelines``), uploaded
over HTTP like any survey delivery (converted to 3D Tiles, published, read into the registry), with a few
monitoring devices and their readings posted with a device organisation's token. Loading again skips it."""

from __future__ import annotations

import importlib.util
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from cim_platform.accounts import service as accounts
from cim_platform.accounts.models import Organization
from cim_platform.core.db.engine import get_engine, session_scope
from cim_platform.core.settings import Settings

GENERATOR = Path(__file__).resolve().parents[2] / "sample_models" / "pipelines" / "generate.py"
NAME = "示例 康巴什两条街道地下管线 Synthetic example: pipelines under two Kangbashi streets"
ACTORS = {  # role: (username, display name, organisation, kind)
    "uploader": ("demo-pipelines", "示例管线测绘 Demo pipeline surveyor", "Ordos Demo Pipeline Survey", "survey_team"),
    "official": ("demo-official", "示例官员 Demo official", "Ordos Demo City Bureau", "city_bureau"),
}
DEVICES: list[dict[str, Any]] = [  # code, kind, segment or point, unit, state, readings
    {"code": "示例-FLOW-01", "kind": "flow", "segment_code": "AJS02-AJS03", "unit": "m³/h", "values": [41.2, 43.8]},
    {"code": "示例-LEVEL-01", "kind": "level", "point_code": "AWS04", "unit": "m", "values": [0.62, 0.58]},
    {"code": "示例-GAS-01", "kind": "gas_leak", "segment_code": "ARQ03-ARQ04", "unit": "%LEL", "values": [0.0]},
    {"code": "示例-COVER-01", "kind": "cover_open", "point_code": "ADL05", "unit": "", "state": "offline",
     "values": []},
]


def _ok(response: httpx.Response, what: str) -> dict[str, Any]:
    if response.status_code >= 300:
        raise RuntimeError(f"{what}: {response.status_code} {response.text[:300]}")
    body: dict[str, Any] = response.json()
    return body


def _tokens(settings: Settings) -> tuple[dict[str, str], str]:
    tokens: dict[str, str] = {}
    org_id = ""
    with session_scope(get_engine(settings)) as session:
        for role, (username, display, org_name, kind) in ACTORS.items():
            org = session.scalar(select(Organization).where(Organization.name == org_name))
            if org is None:
                org = accounts.create_organization(session, org_name, kind)
            try:
                user = accounts.find_user(session, username)
            except Exception:  # not found
                user = accounts.create_user(session, org, username, role, display)
            tokens[role], _ = accounts.create_token(session, user, name="cim demo pipelines")
            if role == "uploader":
                org_id = str(org.id)
    return tokens, org_id


def _wait(client: httpx.Client, href: str, headers: dict[str, str], what: str, timeout_s: float = 600) -> None:
    deadline = time.monotonic() + timeout_s
    while (job := _ok(client.get(href, headers=headers), what))["state"] in ("queued", "running"):
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: still {job['state']} after {timeout_s:.0f} s")
        time.sleep(0.5)
    if job["state"] != "succeeded":
        raise RuntimeError(f"{what}: {job['state']} ({job.get('error')})")


def demo_file(folder: Path) -> Path:
    """The demo network written as an Excel workbook (point and line sheets, Chinese columns)."""
    spec = importlib.util.spec_from_file_location("pipelines_demo_generator", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    points, lines = module.demo_network()
    write: Callable[[Path, Any, Any], Path] = module.write_xlsx
    return write(folder / "康巴什示例管线.xlsx", points, lines)


def load_pipelines(settings: Settings, base_url: str, client: httpx.Client | None = None) -> int:
    """Upload and equip the demo network; the number of segments in the registry (0: it was there already)."""
    if client is None:
        with httpx.Client(base_url=base_url, timeout=300) as own:
            return load_pipelines(settings, base_url, own)
    tokens, org_id = _tokens(settings)
    h = {role: {"Authorization": f"Bearer {token}"} for role, token in tokens.items()}
    existing = _ok(client.get("/api/v1/datasets", headers=h["official"], params={"kind": "pipelines"}), "datasets")
    items = existing.get("datasets", existing.get("items", []))
    if any(d.get("name") == NAME for d in items):
        return 0
    with tempfile.TemporaryDirectory(prefix="pipelines-demo-") as tmp:
        path = demo_file(Path(tmp))
        fields = {"name": NAME, "kind": "pipelines", "district": "kangbashi", "visibility": "public",
                  "crs": "EPSG:4546+5737", "description": "示例数据 synthetic example (CJJ 61 point and line tables)"}
        with path.open("rb") as handle:
            accepted = _ok(client.post("/api/v1/datasets", headers=h["uploader"], data=fields,
                                       files={"file": (path.name, handle)}), "upload")
    _wait(client, accepted["job"]["href"], h["uploader"], "conversion")
    dataset_id = accepted["dataset"]["id"]
    refresh = _ok(client.post(f"/api/v1/pipelines/registry/{dataset_id}/refresh", headers=h["uploader"]), "registry")
    _wait(client, refresh["href"], h["uploader"], "registry")
    for device in DEVICES:
        body = {k: v for k, v in device.items() if k != "values"}
        _ok(client.post("/api/v1/pipelines/devices", headers=h["uploader"], json={**body, "dataset_id": dataset_id}),
            f"device {device['code']}")
    token = _ok(client.post("/api/v1/pipelines/device-tokens", headers=h["official"],
                            json={"organization_id": org_id, "name": "示例 demo sensors"}), "device token")["token"]
    readings = [{"device": d["code"], "value": v} for d in DEVICES for v in d["values"]]
    _ok(client.post("/api/v1/pipelines/readings", headers={"X-Device-Token": token}, json={"readings": readings}),
        "readings")
    total = _ok(client.get("/api/v1/pipelines/segments", headers=h["official"], params={"dataset": dataset_id,
                                                                                        "limit": 1}), "segments")
    return int(total["total"])


def demo_step(settings: Settings, base_url: str) -> str:
    segments = load_pipelines(settings, base_url)
    if not segments:
        return "pipelines: the demo network under two Kangbashi streets is there already"
    return (f"pipelines: {segments} segments under two Kangbashi streets (示例 synthetic), {len(DEVICES)} monitoring "
            "devices, one clearance violation to find")
