"""A cache of values that can change (a dataset's access), refreshed ahead of expiry by one thread.

With a plain TTL cache every entry expires at once for every request in flight: under load, all
requests arriving in the moment after expiry go to the database together (a thundering herd that
opened dozens of connections per process every ``CIM_TILE_ACCESS_TTL_S`` and made the tail latency).
Here an entry older than half the TTL is still answered, and one background refresh per key is
started; under steady load entries never expire, and a value is never answered older than the TTL.

A value read before a change but stored after :meth:`forget` (a refresh or a request in flight while
a revision was withdrawn) would bring the old value back: :meth:`forget` starts a new generation, and
a load started in an older one is not stored.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class RefreshAheadCache(Generic[K, V]):
    def __init__(
        self,
        ttl: float,
        load: Callable[[K], V | None],
        max_items: int = 10_000,
        clock: Callable[[], float] = time.monotonic,  # seconds; the tests move their own
    ) -> None:
        self.ttl, self.max_items = ttl, max_items
        self._load = load
        self._clock = clock
        self._items: dict[K, tuple[float, V]] = {}  # key -> (stored at, value)
        self._refreshing: set[K] = set()
        self._generation = 0
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="access-refresh")

    def get(self, key: K) -> V | None:
        """The value if stored less than ``ttl`` ago (a refresh starts when it is older than half)."""
        if self.ttl <= 0:
            return None
        entry = self._items.get(key)
        if entry is None:
            return None
        age = self._clock() - entry[0]
        if age >= self.ttl:
            return None
        if age >= self.ttl / 2 and key not in self._refreshing:
            with self._lock:
                if key in self._refreshing:
                    return entry[1]
                self._refreshing.add(key)
            self._pool.submit(self._refresh, key)
        return entry[1]

    def generation(self) -> int:
        """Pass to :meth:`put` for a value loaded after this call."""
        return self._generation

    def _refresh(self, key: K) -> None:
        generation = self._generation
        try:
            value = self._load(key)
        except Exception:  # the next request that misses loads it itself and reports the problem
            value = None
        try:
            if value is None:
                self.forget(key)
            else:
                self.put(key, value, generation)
        finally:
            with self._lock:
                self._refreshing.discard(key)

    def put(self, key: K, value: V, generation: int | None = None) -> None:
        """Store ``value``; not if it was loaded in an older ``generation`` (before a :meth:`forget`)."""
        if self.ttl <= 0:
            return
        with self._lock:
            if generation is not None and generation != self._generation:
                return
            if len(self._items) >= self.max_items:
                self._items.clear()
            self._items[key] = (self._clock(), value)

    def forget(self, key: K) -> None:
        """Drop ``key``; loads already running (in any thread) do not store what they read."""
        with self._lock:
            self._items.pop(key, None)
            self._generation += 1
