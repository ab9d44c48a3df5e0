"""The access cache of tile streaming: refreshed ahead of expiry by one thread, never older than its TTL."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from cim_platform.datasets.access_cache import RefreshAheadCache


def test_refresh_ahead_one_load_per_key_and_never_stale() -> None:
    loads: list[float] = []
    value = {"v": 1}
    gate = threading.Event()

    def load(key: str) -> int | None:
        gate.wait(2)
        loads.append(time.monotonic())
        return value.get(key)

    cache: RefreshAheadCache[str, int] = RefreshAheadCache(2.0, load)
    cache.put("v", 1)
    assert cache.get("v") == 1 and not loads  # fresh: no refresh
    time.sleep(1.1)  # older than half the TTL: answered, and one refresh starts
    value["v"] = 2
    with ThreadPoolExecutor(16) as pool:
        assert set(pool.map(lambda _: cache.get("v"), range(200))) == {1}
    gate.set()
    deadline = time.monotonic() + 2
    while cache.get("v") != 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert cache.get("v") == 2 and len(loads) == 1  # one load for 200 concurrent requests
    # without requests nothing refreshes it, and an expired value is never answered
    time.sleep(2.05)
    assert cache.get("v") is None
    # a key that disappeared (a deleted dataset) is forgotten by its refresh
    cache.put("gone", 3)
    time.sleep(1.1)
    assert cache.get("gone") == 3
    deadline = time.monotonic() + 0.8
    while cache.get("gone") is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert cache.get("gone") is None


def test_a_load_in_flight_during_forget_is_not_stored() -> None:
    """A refresh that read the old value before a change (a withdrawn revision) must not bring it back."""
    started, release = threading.Event(), threading.Event()
    value = {"v": "before"}

    def load(key: str) -> str | None:
        read = value[key]
        started.set()
        release.wait(2)
        return read

    cache: RefreshAheadCache[str, str] = RefreshAheadCache(1.0, load)
    cache.put("v", "before")
    time.sleep(0.55)  # older than half the TTL: the next get starts a refresh
    assert cache.get("v") == "before"
    assert started.wait(2)  # the refresh has read the old value
    value["v"] = "after"
    cache.forget("v")  # the change is committed, then the cache is told
    release.set()
    deadline = time.monotonic() + 1
    while cache._refreshing and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not cache._refreshing and cache.get("v") is None  # the old value was not stored
    generation = cache.generation()
    cache.put("v", "after", generation)
    assert cache.get("v") == "after"
