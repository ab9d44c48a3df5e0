"""``cim demo``: the platform with the demo city loaded, through the same HTTP upload-and-job path a
design institute uses. Idempotent: datasets already loaded (same name and file hash) are kept."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import typer

from api.server_process import start_server, wait_until_healthy
from cim_platform.accounts import service as accounts
from cim_platform.accounts.models import Organization
from cim_platform.core.db.engine import get_engine, session_scope
from cim_platform.core.errors import SetupError
from cim_platform.core.settings import Settings
from cim_platform.datasets.models import Dataset, DatasetRevision
from cim_platform.registry import load_domains

SAMPLES = Path(__file__).resolve().parents[1] / "sample_models"


def _demo_token(settings: Settings, manifest: dict[str, Any]) -> str:
    from sqlalchemy import select

    org_spec = manifest["organization"]
    with session_scope(get_engine(settings)) as session:
        org = session.scalar(select(Organization).where(Organization.name == org_spec["name"]))
        if org is None:
            org = accounts.create_organization(session, org_spec["name"], org_spec["kind"])
        try:
            user = accounts.find_user(session, "demo-loader")
        except Exception:
            user = accounts.create_user(session, org, "demo-loader", "uploader", "Demo data loader")
        token, _ = accounts.create_token(session, user, name="cim demo")
    return token


def _loaded(settings: Settings) -> set[tuple[str, str]]:
    from sqlalchemy import select

    with session_scope(get_engine(settings)) as session:
        rows = session.execute(
            select(Dataset.name, DatasetRevision.source_sha256)
            .join(DatasetRevision, DatasetRevision.dataset_id == Dataset.id)
            .where(DatasetRevision.state.in_(["ready", "pending"]))
        )
        return {(name, sha) for name, sha in rows}


def load_samples(settings: Settings, base_url: str) -> list[dict[str, Any]]:
    manifest = json.loads((SAMPLES / "demo.json").read_text(encoding="utf-8"))
    headers = {"Authorization": f"Bearer {_demo_token(settings, manifest)}"}
    loaded = _loaded(settings)
    jobs = []
    with httpx.Client(base_url=base_url, headers=headers, timeout=120) as client:
        for item in manifest["datasets"]:
            path = SAMPLES / item["file"]
            if (item["name"], hashlib.sha256(path.read_bytes()).hexdigest()) in loaded:
                typer.echo(f"  {item['name']}: already loaded")
                continue
            fields = {
                "name": item["name"],
                "description": item.get("description", ""),
                "visibility": "public",
                **({"district": item["district"]} if item.get("district") else {}),
                **item.get("params", {}),
            }
            with path.open("rb") as handle:
                response = client.post("/api/v1/datasets", data=fields, files={"file": (path.name, handle)})
            if response.status_code != 202:
                typer.echo(f"  {item['name']}: refused ({response.status_code}): {response.json().get('detail')}")
                continue
            jobs.append((item["name"], response.json()["job"]["href"]))
        results = []
        for name, href in jobs:
            while (job := client.get(href).json())["state"] in ("queued", "running"):
                time.sleep(0.5)
            typer.echo(f"  {name}: {job['state']}" + (f" ({job['error']})" if job.get("error") else ""))
            results.append(job)
    return results


CREDENTIALS_FILE = "demo-credentials.json"


def remember_credentials(settings: Settings) -> Callable[[accounts.BootstrapCredentials], None]:
    """Keep the first start's admin credentials in the data folder (0600), so every demo start can
    print how to sign in (a demo machine's convenience; ``cim serve`` shows them once only)."""

    def remember(first: accounts.BootstrapCredentials) -> None:
        path = settings.resolved_data_dir / CREDENTIALS_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump({"username": first.username, "password": first.password, "token": first.token}, handle)

    return remember


def _credentials(settings: Settings) -> dict[str, str] | None:
    path = settings.resolved_data_dir / CREDENTIALS_FILE
    try:
        loaded: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return loaded


def load_domain_samples(settings: Settings, base_url: str) -> None:
    """Each domain's demo data, in registry order: ``api/<domain>/demo.py`` defines ``demo_step(settings,
    base_url) -> str`` (the line printed)."""
    for domain in load_domains():
        if importlib.util.find_spec(f"api.{domain.name}.demo") is None:
            continue
        step: Callable[[Settings, str], str] = importlib.import_module(f"api.{domain.name}.demo").demo_step
        typer.echo(f"  {step(settings, base_url)}")


def run_demo(settings: Settings, database_url: str) -> None:
    base_url = f"http://{settings.host}:{settings.port}"
    env = {**os.environ, "CIM_DATABASE_URL": database_url}
    logs = settings.resolved_data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    typer.echo(f"starting the server and a worker (logs in {logs}) …")
    with open(logs / "server.log", "ab") as log:
        server = start_server(settings.host, settings.port, env, extra_args=["--with-worker"], output=log)
    try:
        try:
            wait_until_healthy(base_url, server)
        except SetupError as exc:
            typer.echo(f"error: {exc.message}; see {logs / 'server.log'}", err=True)
            raise SystemExit(2) from exc
        typer.echo("loading the demo city (synthetic sample data, converted like any upload):")
        load_samples(settings, base_url)
        load_domain_samples(settings, base_url)
        typer.echo(f"\nthe platform is up: {base_url}/   (API documentation: {base_url}/docs)")
        credentials = _credentials(settings)
        if credentials:
            typer.echo(f"sign in as {credentials['username']!r} with the password {credentials['password']!r}")
        else:
            typer.echo("sign in with your account (set a password: .venv/bin/cim admin set-password admin)")
        typer.echo("Ctrl-C stops it.")
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=30)
