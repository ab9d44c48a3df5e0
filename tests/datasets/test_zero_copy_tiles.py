"""Pinned tile contents on the bare server once their file is in the on-disk cache (issue 17): the fast
path sends the body with ``sendfile`` (api/zero_copy.py); every answer (GET, HEAD, 304, CORS, tokens,
another organisation's 404) is the same as when the bytes came from memory, and a damaged cache file
is never sent."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx

from cim_platform.core.settings import Settings
from tests.datasets.test_withdrawal import _dataset
from tests.support.waiting import wait_for

VOLATILE = ("date", "x-request-id")


def _stable(headers: httpx.Headers) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k not in VOLATILE}


def test_answers_from_the_disk_cache_are_the_same(settings: Settings, cast, live_server: str) -> None:  # type: ignore[no-untyped-def]
    public = _dataset(cast, "survey", "public", count=1)
    internal = _dataset(cast, "survey", "internal", count=1)
    owner = cast.headers("surveyor")
    cache_dir = settings.resolved_data_dir / "tile-cache"

    def file_of(sha: str) -> Path:
        return cache_dir / sha[:2] / sha[2:4] / sha

    url, internal_url = live_server + public.url(0), live_server + internal.url(0)
    first = httpx.get(url, timeout=30)  # the route, then the fast path from memory, which fills the file
    first_internal = httpx.get(internal_url, headers=owner, timeout=30)
    assert first.status_code == 200 and first_internal.status_code == 200
    wait_for(lambda: httpx.get(url, timeout=30).status_code == 200 and file_of(public.own[0]).exists())
    wait_for(
        lambda: (
            httpx.get(internal_url, headers=owner, timeout=30).status_code == 200 and file_of(internal.own[0]).exists()
        )
    )

    for _ in range(3):  # keep-alive connections, several answers each
        with httpx.Client(timeout=30) as client:
            again = client.get(url)
            assert again.status_code == 200 and hashlib.sha256(again.content).hexdigest() == public.own[0]
            assert _stable(again.headers) == _stable(first.headers)
            head = client.head(url)
            assert head.status_code == 200 and head.content == b"" and _stable(head.headers) == _stable(first.headers)
            etag = first.headers["etag"]
            cached = client.get(url, headers={"If-None-Match": etag})
            assert cached.status_code == 304 and cached.content == b""
            cors = client.get(url, headers={"Origin": "http://portal.example"})
            assert cors.status_code == 200 and hashlib.sha256(cors.content).hexdigest() == public.own[0]
            mine = client.get(internal_url, headers=owner)
            assert mine.status_code == 200 and hashlib.sha256(mine.content).hexdigest() == internal.own[0]
            assert _stable(mine.headers) == _stable(first_internal.headers)
            assert client.get(internal_url, headers=cast.headers("uploader_b")).status_code == 404
            assert client.get(internal_url).status_code == 404

    # a damaged file (another size) is not sent: the bytes come from memory
    damaged = file_of(public.own[0])
    damaged.write_bytes(damaged.read_bytes()[:-10])
    answer = httpx.get(url, timeout=30)
    assert answer.status_code == 200 and hashlib.sha256(answer.content).hexdigest() == public.own[0]
