"""Process-local caches for tile streaming.

Revision-pinned contents never change, so their bytes are cached (LRU, bounded in bytes). What can
change — a dataset's visibility and owner, a token — is cached for a few seconds only
(``CIM_TILE_ACCESS_TTL_S``), the time a change takes to reach every server process.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

from prometheus_client import Counter

K = TypeVar("K")
V = TypeVar("V")

CACHE_LOOKUPS = Counter(
    "cim_cache_lookups", "Lookups in the process caches of immutable contents, by cache and result", ["cache", "result"]
)


class ByteLRU(Generic[K, V]):
    """An LRU cache bounded by the total size of its values."""

    def __init__(self, max_bytes: int, size_of: Callable[[V], int], name: str = "tiles") -> None:
        self.max_bytes, self._size_of = max_bytes, size_of
        self._hits, self._misses = CACHE_LOOKUPS.labels(name, "hit"), CACHE_LOOKUPS.labels(name, "miss")
        self._items: OrderedDict[K, V] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
        (self._misses if value is None else self._hits).inc()
        return value

    def put(self, key: K, value: V) -> None:
        size = self._size_of(value)
        if size > self.max_bytes // 4:
            return  # one huge content must not flush everything else
        with self._lock:
            if key in self._items:
                self._bytes -= self._size_of(self._items.pop(key))
            self._items[key] = value
            self._bytes += size
            while self._bytes > self.max_bytes and self._items:
                _, evicted = self._items.popitem(last=False)
                self._bytes -= self._size_of(evicted)


class TTLCache(Generic[K, V]):
    """Values that expire ``ttl`` seconds after they were stored (ttl 0: no caching)."""

    def __init__(self, ttl: float, max_items: int = 10_000) -> None:
        self.ttl, self.max_items = ttl, max_items
        self._items: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        if self.ttl <= 0:
            return None
        entry = self._items.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, key: K, value: V) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if len(self._items) >= self.max_items:
                self._items.clear()
            self._items[key] = (time.monotonic() + self.ttl, value)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
