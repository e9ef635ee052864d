"""A small JSON cache: Redis when REDIS_URL is set, an in-process LRU otherwise.

Redis being down never fails a request: reads miss, writes are skipped, and the client
reconnects by itself once Redis answers again (checked at most every ``retry_after`` seconds).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, cast

from cachetools import TLRUCache

log = logging.getLogger("animerec.cache")


class CacheStats:
    """Hit, miss and error counters, read by /metrics."""

    def __init__(self) -> None:
        self.hits = 0
        self.misses = 0
        self.errors = 0

    def as_dict(self) -> dict[str, int]:
        return {"hits": self.hits, "misses": self.misses, "errors": self.errors}


def _expires_at(_key: str, entry: tuple[float, Any], now: float) -> float:
    return now + entry[0]


class LocalCache:
    """Thread-safe in-process LRU with a TTL per entry (values: JSON bytes, or any object kept in-process).

    The store is cachetools' TLRUCache (least recently used out when full, each entry expiring after
    its own TTL); this class adds the lock, the hit/miss counters and the interface RedisCache shares.
    """

    backend = "memory"

    def __init__(self, max_entries: int = 10_000, timer: Callable[[], float] = time.monotonic):
        self.max_entries = max_entries
        self._data: TLRUCache[str, tuple[float, Any]] = TLRUCache(maxsize=max_entries, ttu=_expires_at, timer=timer)
        self._lock = threading.Lock()
        self.stats = CacheStats()

    def get_raw(self, key: str) -> Any | None:
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                self.stats.misses += 1
                return None
            self.stats.hits += 1
            return entry[1]

    def set_raw(self, key: str, value: Any, ttl: int) -> None:
        with self._lock:
            self._data[key] = (float(ttl), value)

    def ping(self) -> bool:
        return True

    def get_json(self, key: str) -> Any | None:
        raw = self.get_raw(key)
        return None if raw is None else json.loads(raw)

    def set_json(self, key: str, value: Any, ttl: int) -> None:
        self.set_raw(key, json.dumps(value, separators=(",", ":")).encode(), ttl)


class RedisCache(LocalCache):
    """Redis-backed cache that degrades to misses while Redis is unreachable."""

    backend = "redis"

    def __init__(self, url: str, retry_after: float = 1.0, socket_timeout: float = 0.25):
        import redis

        super().__init__(max_entries=0)
        self._client = redis.Redis.from_url(
            url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout, health_check_interval=10
        )
        self.retry_after = retry_after
        self._down_until = 0.0

    def _available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _mark_down(self, exc: Exception) -> None:
        if self._down_until < time.monotonic():
            log.warning("redis unavailable, serving uncached: %s", exc)
        self.stats.errors += 1
        self._down_until = time.monotonic() + self.retry_after

    def get_raw(self, key: str) -> bytes | None:
        if not self._available():
            self.stats.misses += 1
            return None
        try:
            val = cast("bytes | None", self._client.get(key))
        except Exception as exc:  # any Redis/socket failure is a miss, never a 5xx
            self._mark_down(exc)
            self.stats.misses += 1
            return None
        if val is None:
            self.stats.misses += 1
        else:
            self.stats.hits += 1
        return val

    def set_raw(self, key: str, value: bytes, ttl: int) -> None:
        if not self._available():
            return
        try:
            self._client.set(key, value, ex=ttl)
        except Exception as exc:
            self._mark_down(exc)

    def ping(self) -> bool:
        try:
            return bool(self._client.ping())
        except Exception as exc:
            self._mark_down(exc)
            return False


def open_cache(redis_url: str | None, max_entries: int = 10_000) -> LocalCache:
    """Returns a RedisCache when a URL is given, else an in-process LRU."""
    if redis_url:
        return RedisCache(redis_url)
    return LocalCache(max_entries=max_entries)
