"""Large contents are sent in bounded memory whatever their size (issue 18, item 1b), and the
content-addressed on-disk cache is safe under concurrent fills."""

from __future__ import annotations

import hashlib
import os
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from cim_platform.core.settings import Settings
from cim_platform.datasets.disk_cache import ContentCache, CorruptContent
from tests.support import postgis
from tests.support.stored_datasets import store_dataset

MB = 1024 * 1024
CONTENT_MB = 32  # each of the large contents, 16x the in-memory cap per content (CIM_TILE_CACHE_MB=8 -> 2 MB)
CONTENTS = 3
REQUESTS = 24  # in parallel
RSS_BOUND_MB = 64  # the server's peak RSS may grow at most this much over its idle RSS (measured: ~27 MB)


def test_disk_cache_concurrent_fills_and_digest(tmp_path: Path) -> None:
    cache = ContentCache(tmp_path / "cache")
    data = os.urandom(3 * MB + 17)
    sha = hashlib.sha256(data).hexdigest()
    reads = 0

    def chunks() -> Iterator[bytes]:
        nonlocal reads
        reads += 1
        for start in range(0, len(data), 1 * MB):
            time.sleep(0.01)
            yield data[start : start + MB]

    with ThreadPoolExecutor(8) as pool:
        paths = list(pool.map(lambda _: cache.ensure(sha, len(data), chunks), range(8)))
    assert reads == 1  # one thread filled it, the others waited
    assert {p.read_bytes() == data for p in paths} == {True}
    assert paths[0] == tmp_path / "cache" / sha[:2] / sha[2:4] / sha
    assert [p.name for p in paths[0].parent.iterdir()] == [sha]  # no temporary file left
    # bytes that are not what their name says are never stored
    other = hashlib.sha256(b"other").hexdigest()
    with pytest.raises(CorruptContent):
        cache.ensure(other, 5, lambda: iter([b"wrong"]))
    assert not cache.path(other).exists() and not list(cache.path(other).parent.iterdir())
    # deleting the file loses nothing: the next read fills it again
    paths[0].unlink()
    assert cache.ensure(sha, len(data), chunks).read_bytes() == data and reads == 2


def _rss_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the server's RSS from /proc")
def test_parallel_requests_for_huge_contents_keep_memory_bounded(settings: Settings, cast) -> None:  # type: ignore[no-untyped-def]
    from api.server_process import start_server, stop, wait_until_healthy

    # contents far above the per-content cap of the process cache, stored as a converter would
    stored = {f"huge-{index}.glb": ("model/gltf-binary", os.urandom(CONTENT_MB * MB)) for index in range(CONTENTS)}
    dataset_id, revision_id = store_dataset(cast, "Huge", stored)
    digests = {f"/tiles/{dataset_id}/r/{revision_id}/{path}": hashlib.sha256(data).hexdigest()
               for path, (_, data) in stored.items()}
    stored.clear()

    port = postgis.free_port()
    env = postgis.subprocess_env(
        settings.database_url or "",
        settings.resolved_data_dir,
        CIM_TILE_CACHE_MB="8",
        CIM_TILE_MAX_CONCURRENT_READS="2",
    )
    settings.resolved_data_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.resolved_data_dir / "server.log", "wb") as log:
        process = start_server("127.0.0.1", port, env, output=log)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, process)
        for _ in range(20):  # warm up the interpreter and the routes on a small answer
            httpx.get(f"{base}/tiles/{uuid.uuid4()}/tileset.json")
        idle_kb = _rss_kb(process.pid, "VmRSS")
        urls = sorted(digests) * (REQUESTS // CONTENTS)
        barrier = threading.Barrier(len(urls))

        def fetch(url: str) -> tuple[int, str, str, int]:
            digest, size = hashlib.sha256(), 0
            barrier.wait()
            with httpx.stream("GET", base + url, timeout=300) as response:
                for chunk in response.iter_bytes(256 * 1024):
                    digest.update(chunk)
                    size += len(chunk)
                    time.sleep(0.001)  # slowish clients: the server must not buffer what they have not read
                return response.status_code, response.headers["etag"], digest.hexdigest(), size

        with ThreadPoolExecutor(len(urls)) as pool:
            answers = list(pool.map(fetch, urls))
        peak_kb = _rss_kb(process.pid, "VmHWM")
        # every answer whole and right
        for url, (status, etag, digest, size) in zip(urls, answers, strict=True):
            assert status == 200 and size == CONTENT_MB * MB
            assert digest == digests[url] and etag == f'"{digests[url]}"'
        growth_mb = (peak_kb - idle_kb) / 1024
        sent_mb = len(urls) * CONTENT_MB
        print(f"server RSS: idle {idle_kb / 1024:.0f} MB, peak {peak_kb / 1024:.0f} MB, sending {sent_mb} MB")
        assert growth_mb < RSS_BOUND_MB, f"the server grew by {growth_mb:.0f} MB sending {sent_mb} MB"
        # and once cached on disk, again: from the files
        again = httpx.get(base + urls[0], headers={"If-None-Match": answers[0][1]})
        assert again.status_code == 304
        assert httpx.head(base + urls[0]).headers["content-length"] == str(CONTENT_MB * MB)
    finally:
        stop(process)
