"""Tile streaming throughput: the platform, bare and behind nginx, vs nginx serving the same bytes
from disk, same run.

    python bench/bench_streaming.py [--model PATH] [--seconds 10] [--connections 64] [--workers 2]

Starts a private PostGIS, `cim serve --with-worker`, uploads one model through the API, mirrors
its tiles to a folder that nginx serves, then drives the servers with wrk (many concurrent clients
on loopback) over the same list of tile-content URLs: the bare platform, the production layout (nginx
configured by `cim deploy nginx-conf` in front of the same platform: the platform authorises, nginx
sends the file of the on-disk cache or its few-seconds copy), asked anonymously and with a token, the
layout with `--private-cache` with a token, and nginx alone. Every server gets the same number of processes.
Reports requests/s, p50/p99 latency and the ratios to nginx; writes bench/results/streaming-*.json.
``--compare PATH`` adds a bare platform run from another checkout (e.g. ``git archive main | tar -x
-C /tmp/base``) on the same database, measured in the same rounds: a change side by side with before.
Needs the Debian packages nginx-light and wrk (installed by this script when run as root).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.cli_deploy import nginx_conf  # noqa: E402
from api.server_process import start_server, stop, wait_until_healthy  # noqa: E402
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


def _file_path(url: str) -> str:
    """Where nginx alone keeps a URL's bytes: its path, without the query (``?v=<sha256>``)."""
    return url.split("?")[0].lstrip("/")


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


def wrk(
    base: str,
    paths: list[str],
    seconds: int,
    connections: int,
    threads: int,
    work: Path,
    headers: dict[str, str] | None = None,
) -> dict[str, float]:
    script = work / "paths.lua"
    script.write_text(
        "paths = {" + ",".join(json.dumps(p) for p in paths) + "}\n"
        "counter = 0\n"
        "request = function()\n  counter = counter + 1\n"
        "  return wrk.format('GET', paths[(counter % #paths) + 1])\nend\n"
    )
    out = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            *(arg for name, value in (headers or {}).items() for arg in ("-H", f"{name}: {value}")),
            base,
        ],
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


SERVERS = ("platform", "nginx_layout", "nginx_layout_token", "nginx_layout_token_cached", "nginx")
"""The bare platform; nginx in front (anonymous: public contents named by their SHA-256, as the served
tileset.json writes them, sent by nginx from the public tree; with a
token: every request authorised by the platform, bytes by X-Accel-Redirect; with a token and
--private-cache: the caller's answer kept a few seconds too); nginx alone; and with
--compare, the bare platform of other checkouts ("platform@<folder>")."""


def hold(path: Path, servers: dict[str, object]) -> None:
    """Keep the servers up for hand checks until the file is deleted (or for an hour)."""
    path.write_text(json.dumps(servers, indent=2))
    print(f"servers up: {path}; delete it to stop", flush=True)
    deadline = time.monotonic() + 3600
    while path.exists() and time.monotonic() < deadline:
        time.sleep(1)


def median_run(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def round_ratio(runs: list[dict[str, float]], anchors: list[dict[str, float]], key: str) -> float:
    """The median over rounds of a figure divided by nginx's in the same round."""
    return statistics.median(run[key] / anchor[key] for run, anchor in zip(runs, anchors, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2, help="server processes of every server (one per core)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="interleaved rounds; the median of each figure is reported"
    )
    parser.add_argument(
        "--compare", type=Path, action="append", default=[], help="another checkout whose bare platform is measured too"
    )
    parser.add_argument("--field", action="append", default=[], help="upload form field NAME=VALUE (e.g. local=true)")
    parser.add_argument(
        "--hold",
        type=Path,
        help="write the servers' URLs, paths and token to this JSON file and wait (for hand checks)",
    )
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
            output=(work / "server.log").open("wb"),
        )
        nginx = None
        fronts = []
        compares: dict[str, tuple[str, subprocess.Popen[bytes]]] = {}  # name -> (base URL, server)
        try:
            base = f"http://127.0.0.1:{port}"
            try:
                wait_until_healthy(base, server, timeout=240)  # other jobs may share the cores
            except Exception:
                print((work / "server.log").read_text()[-3000:], file=sys.stderr)
                raise
            headers = {"Authorization": f"Bearer {token}"}
            with args.model.open("rb") as handle:
                created = httpx.post(
                    f"{base}/api/v1/datasets",
                    headers=headers,
                    timeout=120,
                    data={"name": args.model.name, "visibility": "public", **dict(f.split("=", 1) for f in args.field)},
                    files={"file": (args.model.name, handle)},
                ).json()
            while (job := httpx.get(f"{base}{created['job']['href']}", headers=headers, timeout=60).json())[
                "state"
            ] in (
                "queued",
                "running",
            ):
                time.sleep(0.5)
            if job["state"] != "succeeded":
                raise SystemExit(f"conversion failed: {job}")
            dataset = created["dataset"]["id"]
            tileset = httpx.get(f"{base}/tiles/{dataset}/tileset.json", timeout=60).json()
            # the URLs a viewer reads (with ?v=<sha256>); nginx alone serves the same paths from files
            paths = [
                f"/tiles/{dataset}/{uri}" for uri in content_uris(tileset["root"]) if uri.split("?")[0].endswith(".glb")
            ]
            docroot = work / "www"
            total = 0
            for path in paths:
                body = httpx.get(base + path, timeout=60).content
                total += len(body)
                (docroot / _file_path(path)).parent.mkdir(parents=True, exist_ok=True)
                (docroot / _file_path(path)).write_bytes(body)
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
            nginx_bin = shutil.which("nginx") or "/usr/sbin/nginx"
            nginx = subprocess.Popen([nginx_bin, "-c", str(conf)])
            wait_nginx(f"http://127.0.0.1:{nginx_port}{paths[0]}")
            # the production layout: nginx in front of the same platform, configured by `cim deploy nginx-conf`;
            # the second one with --private-cache (answers to requests with a token kept a few seconds too)
            fronts: list[subprocess.Popen[bytes]] = []
            front_bases = []
            for private_cache in (False, True):
                run_dir = work / ("front-private" if private_cache else "front")
                run_dir.mkdir()
                front_port = postgis.free_port()
                (run_dir / "nginx.conf").write_text(
                    nginx_conf(
                        settings,
                        listen=f"127.0.0.1:{front_port}",
                        upstream=f"127.0.0.1:{port}",
                        worker_processes=str(args.workers),
                        user="root" if os.geteuid() == 0 else None,
                        run_dir=run_dir,
                        private_cache=private_cache,
                    )
                )
                fronts.append(subprocess.Popen([nginx_bin, "-c", str(run_dir / "nginx.conf"), "-g", "daemon off;"]))
                front_bases.append(f"http://127.0.0.1:{front_port}")
                wait_nginx(f"{front_bases[-1]}{paths[0]}")
                for path in paths:  # the same bytes, now sent by nginx
                    if (
                        httpx.get(front_bases[-1] + path, timeout=60).content
                        != (docroot / _file_path(path)).read_bytes()
                    ):
                        raise SystemExit(f"the nginx layout answered other bytes for {path}")
            front_base, private_base = front_bases
            for checkout in args.compare:  # `python -m` puts the working folder first on sys.path: run it there
                compare_port = postgis.free_port()
                name = f"platform@{checkout.resolve().name}"
                compares[name] = (
                    f"http://127.0.0.1:{compare_port}",
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "api.cli",
                            "serve",
                            "--host",
                            "127.0.0.1",
                            "--port",
                            str(compare_port),
                            "--workers",
                            str(args.workers),
                        ],
                        env={**env, "PYTHONPATH": str(checkout.resolve())},
                        cwd=checkout,
                        stdout=(work / f"{name}.log").open("wb"),
                        stderr=subprocess.STDOUT,
                    ),
                )
                wait_until_healthy(*compares[name], timeout=240)
            if args.hold is not None:
                hold(
                    args.hold,
                    {
                        "platform": base,
                        "nginx_layout": front_base,
                        "nginx_layout_private": private_base,
                        "nginx": f"http://127.0.0.1:{nginx_port}",
                        "paths": paths,
                        "token": token,
                        "work": str(work),
                        "pid": server.pid,
                    },
                )
            threads = 2
            nginx_base = f"http://127.0.0.1:{nginx_port}"
            authorised = {"Authorization": f"Bearer {token}"}
            runs: dict[str, list[dict[str, float]]] = {name: [] for name in (*SERVERS, *compares)}
            load_before = os.getloadavg()
            for _ in range(args.rounds):  # interleaved, so that other load on the machine hits all alike
                for name, url, extra in (
                    ("platform", base, None),
                    *((name, url, None) for name, (url, _) in compares.items()),
                    ("nginx_layout", front_base, None),
                    ("nginx_layout_token", front_base, authorised),
                    ("nginx_layout_token_cached", private_base, authorised),
                    ("nginx", nginx_base, None),
                ):
                    runs[name].append(wrk(url, paths, args.seconds, args.connections, threads, work, extra))
            load_after = os.getloadavg()
        finally:
            for process in (nginx, *fronts):
                if process is not None:
                    process.terminate()
                    process.wait()
            for _, process in compares.values():
                stop(process)
            stop(server)  # killed if it does not end in time
    measured = [name for name in (*compares, *SERVERS) if runs[name]]  # nginx last
    anchor = median_run(runs["nginx"])
    result = {
        "model": args.model.name,
        "contents": len(paths),
        "content_bytes": total,
        "connections": args.connections,
        "server_processes": args.workers,
        "seconds": args.seconds,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "rounds": args.rounds,
        **{name: median_run(runs[name]) for name in measured},
        "ratios": {
            name: {
                "requests_per_s": round(median_run(runs[name])["requests_per_s"] / anchor["requests_per_s"], 3),
                "p99": round(median_run(runs[name])["p99_ms"] / anchor["p99_ms"], 2),
            }
            for name in measured[:-1]
        },
        # the same ratios per round (each server measured next to nginx), median over the rounds
        "ratios_per_round": {
            name: {
                "requests_per_s": round(round_ratio(runs[name], runs["nginx"], "requests_per_s"), 3),
                "p99": round(round_ratio(runs[name], runs["nginx"], "p99_ms"), 2),
            }
            for name in measured[:-1]
        },
        "runs": runs,
    }
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"streaming-{args.model.stem}-w{args.workers}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
