"""The production layout: the real nginx (Debian nginx-light) on loopback in front of a real `cim serve`,
configured by `cim deploy nginx-conf`. Every answer must carry the same headers and follow the same
access rules as the bare server's, while nginx sends the contents' bytes from the on-disk cache."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.cli_deploy import nginx_conf
from cim_platform.accounts import service as accounts
from cim_platform.accounts.models import ApiToken, User
from cim_platform.core.db.engine import session_scope
from cim_platform.core.settings import Settings
from cim_platform.datasets.models import Dataset
from tests.support import postgis
from tests.support.http_api import upload, wait_job
from tests.support.http_tiles import content_uris

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
LAS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "survey" / "hexbin-crop.las"
SAME_HEADERS = ("etag", "cache-control", "content-type", "content-length", "vary", "content-encoding")

pytestmark = pytest.mark.skipif(not Path(NGINX).exists(), reason="nginx-light is not installed (scripts/bootstrap.sh)")


@contextmanager
def running_nginx(settings: Settings, upstream: str, run_dir: Path, private_cache: bool = False) -> Iterator[str]:
    """The real nginx on a free loopback port, configured by `cim deploy nginx-conf`, in front of ``upstream``."""
    run_dir.mkdir()
    port = postgis.free_port()
    conf = run_dir / "nginx.conf"
    conf.write_text(
        nginx_conf(
            settings,
            listen=f"127.0.0.1:{port}",
            upstream=upstream.removeprefix("http://"),
            worker_processes="1",
            user="root" if os.geteuid() == 0 else None,  # the test's folders are private to its user
            run_dir=run_dir,
            private_cache=private_cache,
        )
    )
    process = subprocess.Popen([NGINX, "-c", str(conf), "-g", "daemon off;"], stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(f"{base}/health", timeout=2)
            break
        except httpx.HTTPError:
            if process.poll() is not None or time.monotonic() > deadline:
                problem = process.stderr.read() if process.stderr else b""
                raise AssertionError(f"nginx did not start: {problem!r}") from None
            time.sleep(0.2)
    try:
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture
def nginx_front(settings: Settings, live_server: str, tmp_path: Path) -> Iterator[str]:
    with running_nginx(settings, live_server, tmp_path / "nginx") as base:
        yield base


def _same(front: httpx.Response, bare: httpx.Response, *names: str) -> None:
    assert front.status_code == bare.status_code, (front.status_code, bare.status_code, front.text[:200])
    for name in names or SAME_HEADERS:
        assert front.headers.get(name) == bare.headers.get(name), (name, front.headers, bare.headers)
    assert front.content == bare.content


def _get(base: str, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(base + path, timeout=30, **kwargs)


def _converted(base: str, headers: dict[str, str], name: str, visibility: str) -> str:
    """The id of a dataset of the survey LAS uploaded through ``base`` and converted by the worker."""
    with httpx.Client(base_url=base, timeout=120) as client:
        response = upload(client, headers, LAS, name=name, visibility=visibility)  # type: ignore[arg-type]
        assert response.status_code == 202, response.text
        assert wait_job(client, headers, response.json()["job"]["href"])["state"] == "succeeded"  # type: ignore[arg-type]
    return str(response.json()["dataset"]["id"])


def test_nginx_front_same_answers_bytes_from_the_disk_cache(  # type: ignore[no-untyped-def]
    settings: Settings, cast, start_worker, live_server: str, nginx_front: str
) -> None:
    start_worker()
    surveyor = cast.headers("surveyor")
    dataset_id = _converted(nginx_front, surveyor, "Survey behind nginx", "internal")  # uploads go through nginx too
    tileset_url = f"/tiles/{dataset_id}/tileset.json"

    # access rules: internal needs a token; another organisation's and anonymous answers are 404, worded alike
    for headers in ({}, cast.headers("uploader_b")):
        _same(_get(nginx_front, tileset_url, headers=headers), _get(live_server, tileset_url, headers=headers))
        assert _get(nginx_front, tileset_url, headers=headers).status_code == 404
    gz = {**surveyor, "Accept-Encoding": "gzip"}
    _same(_get(nginx_front, tileset_url, headers=gz), _get(live_server, tileset_url, headers=gz))
    tileset = _get(nginx_front, tileset_url, headers=surveyor).json()
    uris = [uri for uri in content_uris(tileset["root"]) if not uri.endswith(".json")]
    assert uris and all(uri.startswith("r/") for uri in uris)
    cache_dir = settings.resolved_data_dir / "tile-cache"

    for uri in uris:
        url = f"/tiles/{dataset_id}/{uri}"
        bare = _get(live_server, url, headers=surveyor)
        assert bare.status_code == 200 and "immutable" in bare.headers["cache-control"]
        for _ in range(2):  # through the routes, then through the fast path
            front = _get(nginx_front, url, headers=surveyor)
            _same(front, bare)
            assert "x-accel-redirect" not in front.headers and "last-modified" not in front.headers
        sha = bare.headers["etag"].strip('"')
        assert (cache_dir / sha[:2] / sha[2:4] / sha).read_bytes() == bare.content  # content-addressed file
        # the other ways in: a token in the URL, If-None-Match, CORS, HEAD
        query = {"access_token": cast.tokens["surveyor"]}
        _same(_get(nginx_front, url, params=query), _get(live_server, url, params=query))
        etag = {**surveyor, "If-None-Match": bare.headers["etag"]}
        front, back = _get(nginx_front, url, headers=etag), _get(live_server, url, headers=etag)
        assert front.status_code == 304 and front.content == b""
        _same(front, back, "etag", "cache-control", "vary")
        cors = {**surveyor, "Origin": "http://viewer.example"}
        front, back = _get(nginx_front, url, headers=cors), _get(live_server, url, headers=cors)
        _same(front, back, *SAME_HEADERS, "access-control-allow-origin", "access-control-expose-headers")
        assert front.headers["access-control-allow-origin"]
        front, back = httpx.head(nginx_front + url, headers=surveyor), httpx.head(live_server + url, headers=surveyor)
        _same(front, back)
        # refused the same way
        for headers in ({}, cast.headers("uploader_b"), {"Authorization": "Bearer nope"}):
            _same(_get(nginx_front, url, headers=headers), _get(live_server, url, headers=headers), "content-type")
            assert _get(nginx_front, url, headers=headers).status_code in (401, 404)
    url = f"/tiles/{dataset_id}/{uris[0]}"
    request_id = _get(nginx_front, url, headers={**surveyor, "X-Request-ID": "probe-17"})
    assert request_id.headers["x-request-id"] == "probe-17"
    # the internal location is not reachable from outside; a forged accel header changes nothing elsewhere
    sha = _get(live_server, url, headers=surveyor).headers["etag"].strip('"')
    assert _get(nginx_front, f"/_cim_content/{sha[:2]}/{sha[2:4]}/{sha}").status_code == 404
    assert _get(nginx_front, "/api/v1/me", headers={**surveyor, "X-Cim-Accel": "1"}).json()["username"] == "surveyor"

    # deleting the cache loses nothing: the next read fills it again from PostGIS
    shutil.rmtree(cache_dir)
    _same(_get(nginx_front, url, headers=surveyor), _get(live_server, url, headers=surveyor))
    assert (cache_dir / sha[:2] / sha[2:4] / sha).exists()

    # a person signed in by cookie streams through nginx too
    with httpx.Client(base_url=nginx_front, timeout=30) as browser:
        cast.sign_in(browser, "surveyor")
        for _ in range(2):
            signed_in = browser.get(url)
            assert signed_in.status_code == 200 and signed_in.headers["cache-control"].startswith("private")
        browser.cookies.clear()
        cast.sign_in(browser, "uploader_b")
        assert browser.get(url).status_code == 404

    # made public: anyone streams it with public immutable caching (within CIM_TILE_ACCESS_TTL_S)
    with session_scope(cast.engine) as session:
        dataset = session.get(Dataset, uuid.UUID(dataset_id))
        assert dataset is not None
        dataset.visibility = "public"
    time.sleep(settings.tile_access_ttl_s + 0.3)
    for _ in range(3):  # the platform's answer, then nginx's few-seconds copy of it
        front, bare = _get(nginx_front, url), _get(live_server, url)
        _same(front, bare)
        assert front.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert "x-accel-expires" not in front.headers
    cors = {"Origin": "http://viewer.example"}
    _same(_get(nginx_front, url, headers=cors), _get(live_server, url, headers=cors), "access-control-allow-origin")
    assert _get(nginx_front, url, headers={"X-Request-ID": "probe-18"}).headers["x-request-id"] == "probe-18"
    etag = {"If-None-Match": bare.headers["etag"]}
    assert _get(nginx_front, url, headers=etag).status_code == 304
    # made internal again: nginx stops serving it to anonymous callers within twice CIM_TILE_ACCESS_TTL_S
    with session_scope(cast.engine) as session:
        dataset = session.get(Dataset, uuid.UUID(dataset_id))
        assert dataset is not None
        dataset.visibility = "internal"
    time.sleep(2 * settings.tile_access_ttl_s + 0.5)
    _same(_get(nginx_front, url), _get(live_server, url), "content-type")
    assert _get(nginx_front, url).status_code == 404
    assert _get(nginx_front, url, headers=surveyor).status_code == 200


def test_nginx_private_cache_keeps_each_callers_answer_a_few_seconds(  # type: ignore[no-untyped-def]
    settings: Settings, cast, start_worker, live_server: str, tmp_path: Path
) -> None:
    """`cim deploy nginx-conf --private-cache`: answers to requests with a token or session are kept by
    nginx too, per credential, for CIM_TILE_ACCESS_TTL_S: the same answers, another caller never gets
    one's copy, and a revoked token stops working within twice that time."""
    start_worker()
    surveyor = cast.headers("surveyor")
    dataset_id = _converted(live_server, surveyor, "Survey, private cache", "internal")
    tileset = _get(live_server, f"/tiles/{dataset_id}/tileset.json", headers=surveyor).json()
    url = f"/tiles/{dataset_id}/" + next(uri for uri in content_uris(tileset["root"]) if not uri.endswith(".json"))
    with session_scope(cast.engine) as session:  # a token of the surveyor's to revoke below
        user = session.get(User, cast.users["surveyor"])
        assert user is not None
        plaintext, token = accounts.create_token(session, user)
        token_id = token.id
    revocable = {"Authorization": f"Bearer {plaintext}"}
    with running_nginx(settings, live_server, tmp_path / "nginx", private_cache=True) as front:
        bare = _get(live_server, url, headers=surveyor)
        assert bare.status_code == 200 and bare.headers["cache-control"].startswith("private")
        for _ in range(3):  # the platform's answer, then nginx's copy of it
            _same(_get(front, url, headers=surveyor), bare)
            _same(_get(front, url, headers=revocable), bare)
            # another organisation, nobody, a wrong token: never the surveyor's copy
            for headers in ({}, cast.headers("uploader_b"), {"Authorization": "Bearer nope"}):
                refused = _get(front, url, headers=headers)
                _same(refused, _get(live_server, url, headers=headers), "content-type")
                assert refused.status_code in (401, 404)
        cors = {**surveyor, "Origin": "http://viewer.example"}
        for _ in range(2):
            _same(_get(front, url, headers=cors), _get(live_server, url, headers=cors), "access-control-allow-origin")
        not_modified = _get(front, url, headers={**surveyor, "If-None-Match": bare.headers["etag"]})
        assert not_modified.status_code == 304 and not_modified.headers["etag"] == bare.headers["etag"]
        with httpx.Client(base_url=front, timeout=30) as browser:  # a session's answers are its own too
            cast.sign_in(browser, "uploader_b")
            for _ in range(2):
                assert browser.get(url).status_code == 404

        with session_scope(cast.engine) as session:
            accounts.revoke_token(session, token_id)
            assert session.get(ApiToken, token_id) is not None
        time.sleep(2 * settings.tile_access_ttl_s + 0.5)
        assert _get(front, url, headers=revocable).status_code == 401
        _same(_get(front, url, headers=surveyor), bare)


@contextmanager
def _paused(base: str) -> Iterator[None]:
    """The `cim serve` process listening at ``base`` stopped (SIGSTOP) meanwhile: whatever still answers
    was answered by nginx alone."""
    port = base.rsplit(":", 1)[1]
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in args and b"--port" in args and args[args.index(b"--port") + 1] == port.encode():
            pids.append(int(entry.name))
    assert len(pids) == 1, pids
    os.kill(pids[0], signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pids[0], signal.SIGCONT)


def test_nginx_sends_public_contents_from_the_public_tree(  # type: ignore[no-untyped-def]
    settings: Settings, cast, start_worker, live_server: str, nginx_front: str
) -> None:
    """Anonymous reads of a public dataset's pinned contents named by their SHA-256 (``?v=``, as the
    served tileset.json writes them) are sent by nginx from the public tree, with the platform's
    headers, even while the platform is stopped; the tree follows the dataset's visibility within
    CIM_TILE_ACCESS_TTL_S whatever changed it."""
    start_worker()
    surveyor = cast.headers("surveyor")
    dataset_id = _converted(live_server, surveyor, "Public survey behind nginx", "public")
    tileset = _get(nginx_front, f"/tiles/{dataset_id}/tileset.json").json()
    uris = [uri for uri in content_uris(tileset["root"]) if ".json" not in uri]
    assert uris and all("?v=" in uri for uri in uris), uris
    tree = settings.resolved_data_dir / "tile-cache" / "public" / dataset_id

    for uri in uris:
        url = f"/tiles/{dataset_id}/{uri}"
        bare = _get(live_server, url)
        sha = bare.headers["etag"].strip('"')
        assert uri.endswith(f"?v={sha}") and bare.headers["cache-control"] == "public, max-age=31536000, immutable"
        _same(_get(nginx_front, url), bare)  # the platform's answer; it fills the tree
        revision, path = uri.split("?")[0].removeprefix("r/").split("/", 1)
        assert (tree / revision / sha / path).read_bytes() == bare.content
        bare_head = httpx.head(live_server + url, timeout=30)
        with _paused(live_server):
            for method in ("GET", "HEAD"):
                front = httpx.request(method, nginx_front + url, timeout=10, headers={"X-Request-ID": "tree-1"})
                _same(front, bare if method == "GET" else bare_head)
                assert front.headers["x-request-id"] == "tree-1" and "last-modified" not in front.headers
                assert "accept-ranges" not in front.headers
    url = f"/tiles/{dataset_id}/{uris[0]}"
    plain = url.split("?")[0]
    # a wrong or hostile digest, credentials, CORS, conditional and range requests go to the platform
    others = [uris[1]] if len(uris) > 1 else []
    for query in ["?v=" + "0" * 64, "?v=../../../../etc/passwd", *(f"?v={o.split('?v=')[1]}" for o in others)]:
        _same(_get(nginx_front, plain + query), _get(live_server, plain + query))
    etag = {"If-None-Match": _get(live_server, url).headers["etag"]}
    if_match = {"If-Match": etag["If-None-Match"]}
    sneaky = {"X-Cim-Public": "1"}  # only nginx says a request missed the tree
    for headers in (surveyor, {"Origin": "http://viewer.example"}, etag, if_match, {"Range": "bytes=0-9"}, sneaky):
        front, bare = _get(nginx_front, url, headers=headers), _get(live_server, url, headers=headers)
        _same(front, bare, "etag", "cache-control", "vary", "content-type")
        assert front.status_code in (200, 304)

    # made internal (straight in the database, no platform call): gone from the tree within the sweep time
    with session_scope(cast.engine) as session:
        dataset = session.get(Dataset, uuid.UUID(dataset_id))
        assert dataset is not None
        dataset.visibility = "internal"
    time.sleep(2 * settings.tile_access_ttl_s + 0.5)
    assert not any(path.is_file() for path in tree.rglob("*"))
    _same(_get(nginx_front, url), _get(live_server, url), "content-type")
    assert _get(nginx_front, url).status_code == 404
    assert _get(nginx_front, url, headers=surveyor).status_code == 200
    assert not any(path.is_file() for path in tree.rglob("*"))  # an authorised read does not put it back
