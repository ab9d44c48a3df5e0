"""The access cache of tile streaming: refreshed ahead of expiry by one thread, never older than its TTL.

The cache's age is read from a clock the tests move (a real one let a loaded machine age the entry past
its TTL while 200 requests were still being answered); only the refresh thread is waited for in real time."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from cim_platform.datasets.access_cache import RefreshAheadCache
from tests.support.waiting import wait_for


class Clock:
    """Seconds that pass only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def test_refresh_ahead_one_load_per_key_and_never_stale() -> None:
    loads: list[float] = []
    value = {"v": 1}
    gate = threading.Event()

    def load(key: str) -> int | None:
        gate.wait(2)
        loads.append(time.monotonic())
        return value.get(key)

    clock = Clock()
    cache: RefreshAheadCache[str, int] = RefreshAheadCache(2.0, load, clock=clock)
    cache.put("v", 1)
    assert cache.get("v") == 1 and not loads  # fresh: no refresh
    clock.advance(1.1)  # older than half the TTL: answered, and one refresh starts
    value["v"] = 2
    with ThreadPoolExecutor(16) as pool:
        assert set(pool.map(lambda _: cache.get("v"), range(200))) == {1}
    gate.set()
    wait_for(lambda: cache.get("v") == 2, timeout=10, interval=0.01)  # the refresh thread stored it
    assert len(loads) == 1  # one load for 200 concurrent requests
    # without requests nothing refreshes it, and an expired value is never answered
    clock.advance(2.05)
    assert cache.get("v") is None and len(loads) == 1
    # a key that disappeared (a deleted dataset) is forgotten by its refresh
    cache.put("gone", 3)
    clock.advance(1.1)
    assert cache.get("gone") == 3
    wait_for(lambda: cache.get("gone") is None, timeout=10, interval=0.01)


def test_a_load_in_flight_during_forget_is_not_stored() -> None:
    """A refresh that read the old value before a change (a withdrawn revision) must not bring it back."""
    started, release = threading.Event(), threading.Event()
    value = {"v": "before"}

    def load(key: str) -> str | None:
        read = value[key]
        started.set()
        release.wait(2)
        return read

    clock = Clock()
    cache: RefreshAheadCache[str, str] = RefreshAheadCache(1.0, load, clock=clock)
    cache.put("v", "before")
    clock.advance(0.55)  # older than half the TTL: the next get starts a refresh
    assert cache.get("v") == "before"
    assert started.wait(2)  # the refresh has read the old value
    value["v"] = "after"
    cache.forget("v")  # the change is committed, then the cache is told
    release.set()
    wait_for(lambda: not cache._refreshing, timeout=10, interval=0.01)
    assert cache.get("v") is None  # the old value was not stored
    generation = cache.generation()
    cache.put("v", "after", generation)
    assert cache.get("v") == "after"
