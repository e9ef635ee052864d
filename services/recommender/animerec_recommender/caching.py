"""Two-level cache of similarity results: an in-process copy (short TTL) in front of Redis (long TTL)."""

from __future__ import annotations

from animerec_shared.cache import LocalCache, open_cache
from animerec_shared.service import ServiceMetrics

from .config import Settings


class ResultCache:
    """Caches JSON bytes keyed by model version and parameters; Redis down only means misses."""

    def __init__(self, settings: Settings, metrics: ServiceMetrics):
        self.shared = open_cache(settings.redis_url)
        self.local = LocalCache(max_entries=settings.recommender_local_cache_size) \
            if settings.recommender_local_cache_ttl > 0 else None
        self.ttl = settings.recommender_cache_ttl
        self.local_ttl = settings.recommender_local_cache_ttl
        self.hits = metrics.counter("recommender_cache_hits", "Similarity cache hits", ("kind", "layer"))
        self.misses = metrics.counter("recommender_cache_misses", "Similarity cache misses", ("kind",))
        self.errors = metrics.counter("recommender_cache_errors", "Cache backend errors (Redis down)", ())
        self._errors_seen = 0

    @staticmethod
    def key(kind: str, version: str, *parts: object) -> str:
        """Returns the cache key of a result: kind, model version and parameters."""
        return "animerec:rec:" + ":".join([kind, version, *map(str, parts)])

    def get_local(self, kind: str, key: str) -> bytes | None:
        """Returns the in-process copy (no I/O: safe on the event loop)."""
        if self.local is None:
            return None
        val = self.local.get_raw(key)
        if val is not None:
            self.hits.labels(kind, "local").inc()
        return val

    def get(self, kind: str, key: str) -> bytes | None:
        """Returns the cached bytes (in-process, then Redis) or None; counts the hit or miss."""
        val = self.get_local(kind, key)
        if val is not None:
            return val
        val = self.shared.get_raw(key) if self.shared is not self.local else None
        self._sync_errors()
        if val is None:
            self.misses.labels(kind).inc()
            return None
        self.hits.labels(kind, self.shared.backend).inc()
        self.set_local(key, val)
        return val

    def set(self, key: str, value: bytes) -> None:
        """Stores value in Redis (TTL) and in the in-process copy (short TTL)."""
        self.shared.set_raw(key, value, self.ttl)
        self._sync_errors()
        self.set_local(key, value)

    def set_local(self, key: str, value: bytes) -> None:
        """Stores value in the in-process copy only (short TTL); nothing when that copy is off."""
        if self.local is not None:
            self.local.set_raw(key, value, int(max(1, self.local_ttl)))

    def _sync_errors(self) -> None:
        seen = self.shared.stats.errors
        if seen > self._errors_seen:
            self.errors.inc(seen - self._errors_seen)
            self._errors_seen = seen
