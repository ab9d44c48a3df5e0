"""Tile streaming throughput: the platform vs nginx serving the same bytes from disk, same run.

    python bench/bench_streaming.py [--model PATH] [--seconds 10] [--connections 64] [--workers 2]

Starts a private PostGIS, `cim serve --with-worker`, uploads one model through the API, mirrors
its tiles to a folder that nginx serves, then drives both with wrk (many concurrent clients on
loopback) over the same list of tile-content URLs. Reports requests/s, p50/p99 latency and the ratio
platform/nginx; writes bench/results/streaming.json. Needs the Debian packages nginx-light and wrk
(installed by this script when run as root).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.server_process import start_server, wait_until_healthy  # noqa: E402
from cim_platform.accounts import service as accounts  # noqa: E402
from cim_platform.core import migrate  # noqa: E402
from cim_platform.core.db.engine import get_engine, session_scope  # noqa: E402
from cim_platform.core.settings import Settings  # noqa: E402
from tests.support import postgis  # noqa: E402
from tests.support.http_tiles import content_uris  # noqa: E402

DEFAULT_MODEL = ROOT.parent / "shared" / "corpus" / "ifc" / "Office_A_20110811.ifc"


def ensure_tools() -> None:
    missing = [tool for tool in ("nginx", "wrk") if not shutil.which(tool) and not Path(f"/usr/sbin/{tool}").exists()]
    if missing and os.geteuid() == 0:
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "nginx-light", "wrk"],
            check=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            capture_output=True,
        )
    elif missing:
        raise SystemExit(f"install {', '.join(missing)} (Debian: apt-get install nginx-light wrk)")


def wait_nginx(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"nginx did not answer {url}")


def wrk(base: str, paths: list[str], seconds: int, connections: int, threads: int, work: Path) -> dict[str, float]:
    script = work / "paths.lua"
    script.write_text(
        "paths = {" + ",".join(json.dumps(p) for p in paths) + "}\n"
        "counter = 0\n"
        "request = function()\n  counter = counter + 1\n"
        "  return wrk.format('GET', paths[(counter % #paths) + 1])\nend\n"
    )
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), base],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def latency(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests_per_s": rps,
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=1, help="server processes for both servers")
    parser.add_argument("--field", action="append", default=[], help="upload form field NAME=VALUE (e.g. local=true)")
    args = parser.parse_args()
    ensure_tools()
    work = Path(tempfile.mkdtemp(prefix="cim-bench-"))
    work.chmod(0o755)
    with postgis.test_cluster() as cluster:
        name = postgis.create_database(cluster, template=None)
        url = cluster.url(name)
        migrate.upgrade(url)
        settings = Settings(database_url=url, data_dir=work / "data")
        with session_scope(get_engine(settings)) as session:
            org = accounts.create_organization(session, "Bench Institute", "design_institute")
            user = accounts.create_user(session, org, "bench", "uploader")
            token, _ = accounts.create_token(session, user)
        port, nginx_port = postgis.free_port(), postgis.free_port()
        env = postgis.subprocess_env(url, work / "data")
        server = start_server(
            "127.0.0.1",
            port,
            env,
            extra_args=["--with-worker", "--workers", str(args.workers)],
            output=subprocess.DEVNULL,
        )
        nginx = None
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_healthy(base, server)
            headers = {"Authorization": f"Bearer {token}"}
            with args.model.open("rb") as handle:
                created = httpx.post(
                    f"{base}/api/v1/datasets",
                    headers=headers,
                    timeout=120,
                    data={"name": args.model.name, "visibility": "public", **dict(f.split("=", 1) for f in args.field)},
                    files={"file": (args.model.name, handle)},
                ).json()
            while (job := httpx.get(f"{base}{created['job']['href']}", headers=headers).json())["state"] in (
                "queued",
                "running",
            ):
                time.sleep(0.5)
            if job["state"] != "succeeded":
                raise SystemExit(f"conversion failed: {job}")
            dataset = created["dataset"]["id"]
            tileset = httpx.get(f"{base}/tiles/{dataset}/tileset.json").json()
            paths = [f"/tiles/{dataset}/{uri}" for uri in content_uris(tileset["root"]) if uri.endswith(".glb")]
            docroot = work / "www"
            total = 0
            for path in paths:
                body = httpx.get(base + path).content
                total += len(body)
                (docroot / path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
                (docroot / path.lstrip("/")).write_bytes(body)
            conf = work / "nginx.conf"
            conf.write_text(
                f"worker_processes {args.workers};\ndaemon off;\npid {work}/nginx.pid;\nerror_log {work}/nginx.err;\n"
                "events { worker_connections 1024; }\n"
                "http { access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000;\n"
                "  types { model/gltf-binary glb; application/json json; }\n"
                f"  server {{ listen 127.0.0.1:{nginx_port}; root {docroot}; etag on; }} }}\n"
            )
            docroot.chmod(0o755)
            for folder in docroot.rglob("*"):
                folder.chmod(0o755 if folder.is_dir() else 0o644)
            nginx = subprocess.Popen([shutil.which("nginx") or "/usr/sbin/nginx", "-c", str(conf)])
            wait_nginx(f"http://127.0.0.1:{nginx_port}{paths[0]}")
            threads = 2
            ours = wrk(base, paths, args.seconds, args.connections, threads, work)
            anchor = wrk(f"http://127.0.0.1:{nginx_port}", paths, args.seconds, args.connections, threads, work)
        finally:
            if nginx is not None:
                nginx.terminate()
                nginx.wait()
            server.terminate()
            server.wait(timeout=30)
    result = {
        "model": args.model.name,
        "contents": len(paths),
        "content_bytes": total,
        "connections": args.connections,
        "server_processes": args.workers,
        "seconds": args.seconds,
        "platform": ours,
        "nginx": anchor,
        "throughput_ratio": round(ours["requests_per_s"] / anchor["requests_per_s"], 3),
    }
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"streaming-{args.model.stem}-w{args.workers}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
