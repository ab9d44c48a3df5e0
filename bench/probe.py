"""The attacker's probe of issue 18, repeatable by a maintainer: one command, a private platform on
loopback, every scenario the probe found, a table of outcomes (exit 1 if any scenario fails).

    .venv/bin/python bench/probe.py [--buildings 220000] [--parallel 8]

Scenarios: a layer of identical polygons (content size bounded, server memory bounded under parallel
anonymous reads); a 64 MB header line (431, /health stays fast); tokens in percent-encoded parameter
names (never in the log); a refused upload file name (nothing left in uploads/incoming); a corrupt
.ifczip and a PROJ string naming a file (data errors, not internal); job errors without absolute server
paths; NUL in a field (no database named); the Host header never echoed; originals readable by the
platform's user only.
"""

from __future__ import annotations

import argparse
import io
import json
import socket
import stat
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.server_process import start_server, stop, wait_until_healthy  # noqa: E402
from cim_platform.core.db.engine import get_engine  # noqa: E402
from cim_platform.core.settings import Settings  # noqa: E402
from tests.support import postgis  # noqa: E402
from tests.support.accounts import make_cast  # noqa: E402

SAMPLE_IFC = ROOT / "sample_models" / "ifc" / "ordos_kangbashi_hall_4546.ifc"
CONTENT_BOUND_BYTES = 64 * 1024 * 1024
MEMORY_BOUND_MB = 256


@dataclass
class Outcome:
    scenario: str
    ok: bool
    detail: str


@dataclass
class Platform:
    base: str
    pid: int
    data_dir: Path
    log: Path
    tokens: dict[str, str]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def wait_job(client: httpx.Client, href: str, headers: dict[str, str], timeout: float = 900) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(href, headers=headers).json()
        if job["state"] in ("succeeded", "failed", "cancelled"):
            return job
        time.sleep(1)
    raise SystemExit(f"job {href} did not finish in {timeout:.0f} s")


def upload(client: httpx.Client, headers: dict[str, str], name: str, data: bytes, **fields: str) -> httpx.Response:
    return client.post(
        "/api/v1/datasets", headers=headers, data={"name": name, **fields}, files={"file": (name, io.BytesIO(data))}
    )


def huge_tile(p: Platform, client: httpx.Client, buildings: int, parallel: int) -> Outcome:
    ring = [[109.78, 39.61], [109.78005, 39.61], [109.78005, 39.61005], [109.78, 39.61005], [109.78, 39.61]]
    geometry = {"type": "Polygon", "coordinates": [ring]}
    feature = {"type": "Feature", "properties": {"height": 10.0}, "geometry": geometry}
    layer = json.dumps({"type": "FeatureCollection", "features": [feature] * buildings}).encode()
    headers = {"Authorization": f"Bearer {p.tokens['uploader_a']}"}
    answer = upload(client, headers, "same_place.geojson", layer, visibility="public", height_field="height")
    if answer.status_code != 202:
        return Outcome("huge tile", False, f"upload answered {answer.status_code}: {answer.text[:200]}")
    job = wait_job(client, answer.json()["job"]["href"], headers)
    if job["state"] != "succeeded":
        return Outcome("huge tile", False, f"conversion {job['state']}: {job.get('error')}")
    dataset = answer.json()["dataset"]["id"]
    tileset = client.get(f"/tiles/{dataset}/tileset.json").json()
    uris: list[str] = []
    stack = [tileset["root"]]
    while stack:
        tile = stack.pop()
        if "content" in tile:
            uris.append(tile["content"]["uri"])
        stack.extend(tile.get("children", []))
    sizes = {uri: len(client.get(f"/tiles/{dataset}/{uri}").content) for uri in uris}
    largest = max(sizes, key=lambda uri: sizes[uri])
    before = rss_mb(p.pid)
    peak = before

    def fetch(_: int) -> int:
        with httpx.Client(base_url=p.base, timeout=300) as own:
            return len(own.get(f"/tiles/{dataset}/{largest}").content)

    with ThreadPoolExecutor(parallel) as pool:
        futures = [pool.submit(fetch, i) for i in range(parallel)]
        while not all(f.done() for f in futures):
            peak = max(peak, rss_mb(p.pid))
            time.sleep(0.05)
    grown = peak - before
    ok = sizes[largest] <= CONTENT_BOUND_BYTES and grown <= MEMORY_BOUND_MB
    return Outcome(
        "huge tile",
        ok,
        f"{buildings} identical polygons → {len(uris)} contents, largest {sizes[largest] / 1e6:.1f} MB "
        f"(bound {CONTENT_BOUND_BYTES / 1e6:.0f} MB); {parallel} parallel reads grew the server by {grown:.0f} MB "
        f"(bound {MEMORY_BOUND_MB} MB)",
    )


def huge_header(p: Platform, client: httpx.Client) -> Outcome:
    host, port = p.base.removeprefix("http://").split(":")
    answer = b""
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        try:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ")
            for _ in range(64 * 16):  # 64 MB in 64 KiB pieces, until the server answers
                sock.sendall(b"a" * 65536)
        except OSError:
            pass
        try:
            answer = sock.recv(4096)
        except OSError:
            answer = b""
    started = time.monotonic()
    healthy = client.get("/health").status_code == 200
    took = time.monotonic() - started
    ok = answer.startswith(b"HTTP/1.1 431") and healthy and took < 2
    return Outcome("huge header", ok, f"answer {answer[:40]!r}; /health {took * 1000:.0f} ms afterwards")


def token_spellings(p: Platform, client: httpx.Client) -> Outcome:
    token = p.tokens["uploader_b"]
    for name in ("access_token", "access%5Ftoken", "%61ccess_token", "access%5ftoken"):
        client.get(f"/api/v1/datasets?{name}={token}")
    time.sleep(0.5)
    leaked = token in p.log.read_text(errors="replace")
    return Outcome("token spellings", not leaked, "a token reached the server log" if leaked else "no token logged")


def refused_filename(p: Platform, client: httpx.Client) -> Outcome:
    incoming = p.data_dir / "uploads" / "incoming"
    before = sorted(incoming.iterdir()) if incoming.is_dir() else []
    headers = {"Authorization": f"Bearer {p.tokens['uploader_a']}"}
    answers = [
        upload(client, headers, name, b"data").status_code for name in ("model.exe", "\x00.ifc", "a" * 5000 + ".ifc")
    ]
    after = sorted(incoming.iterdir()) if incoming.is_dir() else []
    ok = after == before and all(400 <= status < 500 for status in answers)
    return Outcome("refused file name", ok, f"answers {answers}; incoming files {len(before)} → {len(after)}")


def bad_inputs(p: Platform, client: httpx.Client) -> Outcome:
    headers = {"Authorization": f"Bearer {p.tokens['uploader_a']}"}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("model.ifc", SAMPLE_IFC.read_bytes())
    corrupt = bytearray(buffer.getvalue())
    corrupt[len(corrupt) // 3] ^= 0xFF  # inside the compressed member: its CRC fails
    answer = upload(client, headers, "model.ifczip", bytes(corrupt))
    details = []
    ok = True
    if answer.status_code == 202:
        job = wait_job(client, answer.json()["job"]["href"], headers)
        ok &= job["error_kind"] == "data" and str(p.data_dir) not in (job.get("error") or "")
        details.append(f"corrupt ifczip: {job['state']}/{job['error_kind']}: {(job.get('error') or '')[:80]}")
    else:
        ok &= 400 <= answer.status_code < 500
        details.append(f"corrupt ifczip refused at upload ({answer.status_code})")
    nadgrids = upload(client, headers, "hall.ifc", SAMPLE_IFC.read_bytes(), crs="+proj=longlat +nadgrids=/etc/passwd")
    ok &= nadgrids.status_code == 422
    details.append(f"nadgrids CRS: {nadgrids.status_code}")
    nul = client.post("/api/v1/datasets", headers=headers, data={"name": "a\x00b"}, files={"file": ("m.ifc", b"x")})
    ok &= 400 <= nul.status_code < 500 and "postgres" not in nul.text.lower()
    details.append(f"NUL field: {nul.status_code} {nul.json().get('detail', '')[:60]!r}")
    return Outcome("bad input is a data error", ok, "; ".join(details))


def host_echo(p: Platform, client: httpx.Client) -> Outcome:
    body = client.get("/ogc", headers={"Host": "attacker.invalid"}).text
    return Outcome("Host header", "attacker.invalid" not in body, "echoed" if "attacker" in body else "not echoed")


def originals_private(p: Platform, client: httpx.Client) -> Outcome:
    sources = p.data_dir / "uploads" / "sources"
    loose = [
        str(path.relative_to(p.data_dir))
        for path in [sources, *sources.rglob("*")]
        if path.exists() and path.stat().st_mode & (stat.S_IROTH | stat.S_IWOTH | stat.S_IXOTH)
    ]
    return Outcome("originals private", not loose, f"readable by others: {loose[:3]}" if loose else "owner only")


SCENARIOS: list[Callable[[Platform, httpx.Client], Outcome]] = [
    huge_header,
    token_spellings,
    refused_filename,
    bad_inputs,
    host_echo,
    originals_private,
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buildings", type=int, default=220_000)
    parser.add_argument("--parallel", type=int, default=8)
    args = parser.parse_args()
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="cim-probe-") as work, postgis.test_cluster() as cluster:
        name = postgis.create_database(cluster, template=None)
        url = cluster.url(name)
        from cim_platform.core import migrate

        migrate.upgrade(url)
        data_dir = Path(work) / "data"
        data_dir.mkdir()
        settings = Settings(database_url=url, data_dir=data_dir)
        cast = make_cast(get_engine(settings, start=False))
        port = postgis.free_port()
        log = data_dir / "server.log"
        with log.open("wb") as sink:
            env = postgis.subprocess_env(url, data_dir)
            server = start_server("127.0.0.1", port, env, extra_args=["--with-worker"], output=sink)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(base, server)
            platform = Platform(base, server.pid, data_dir, log, cast.tokens)
            with httpx.Client(base_url=base, timeout=120) as client:
                outcomes.append(huge_tile(platform, client, args.buildings, args.parallel))
                for scenario in SCENARIOS:
                    outcomes.append(scenario(platform, client))
        finally:
            stop(server)
    width = max(len(o.scenario) for o in outcomes)
    for outcome in outcomes:
        print(f"{'ok  ' if outcome.ok else 'FAIL'}  {outcome.scenario.ljust(width)}  {outcome.detail}")
    failed = [o for o in outcomes if not o.ok]
    print(f"{len(outcomes) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
