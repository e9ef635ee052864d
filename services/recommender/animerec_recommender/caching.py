"""The one cache of the list routes: an in-process LRU in front of Redis (in-process only without REDIS_URL).

A result is a pure function of the model version and the request's parameters, so the key holds
both: a model swap never serves an old version's list. In-process entries are the Python payload
itself (a hit neither parses nor copies); Redis entries are its JSON bytes. Redis down only means
misses (``animerec_shared.cache.RedisCache`` degrades by itself).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic_core import from_json, to_json

from animerec_shared.cache import LocalCache, RedisCache
from animerec_shared.service import ServiceMetrics

from .config import Settings
from .offload import offload

Payload = dict[str, Any]


class ResultCache:
    """Caches route payloads keyed by kind, model version and parameters; counts hits, misses and Redis errors."""

    def __init__(self, settings: Settings, metrics: ServiceMetrics):
        self.redis = RedisCache(settings.redis_url) if settings.redis_url else None
        # Without Redis the in-process LRU is the only layer and keeps entries as long as Redis would.
        local_ttl = settings.local_cache_ttl_seconds if self.redis else settings.cache_ttl_seconds
        self.local = LocalCache(max_entries=settings.local_cache_size) if local_ttl > 0 else None
        self.local_ttl = int(max(1, local_ttl))
        self.ttl = settings.cache_ttl_seconds
        self.backend = "redis" if self.redis else "memory"
        self.hits = metrics.counter("recommender_cache_hits", "Similarity cache hits", ("kind", "layer"))
        self.misses = metrics.counter("recommender_cache_misses", "Similarity cache misses", ("kind",))
        self.errors = metrics.counter("recommender_cache_errors", "Cache backend errors (Redis down)", ())
        self._errors_seen = 0

    @staticmethod
    def key(kind: str, version: str, *parts: object) -> str:
        """Returns the cache key of a result: kind, model version and parameters."""
        return "animerec:rec:" + ":".join([kind, version, *map(str, parts)])

    async def cached(
        self, kind: str, version: str, parts: tuple[object, ...], compute: Callable[[], Payload], *, share: bool = True
    ) -> Payload:
        """Returns the payload of (kind, version, parts): in-process, else Redis, else compute() off the loop.

        ``share=False`` keeps the result in-process only (Redis serves it only when there is no
        in-process layer). The payload returned is shared by every hit: callers must not mutate it.
        """
        key = self.key(kind, version, *parts)
        if self.local is not None:
            hit = self.local.get_raw(key)  # the in-process layer holds payloads, not bytes
            if hit is not None:
                self.hits.labels(kind, "local").inc()
                return hit
        use_redis = self.redis is not None and (share or self.local is None)
        payload = await offload(self._fill, kind, key, compute, use_redis)
        if self.local is not None:
            self.local.set_raw(key, payload, self.local_ttl)
        return payload

    def _fill(self, kind: str, key: str, compute: Callable[[], Payload], use_redis: bool) -> Payload:
        """Returns the payload from Redis or, on a miss, computes it and stores its JSON in Redis."""
        redis = self.redis if use_redis else None
        if redis is not None:
            raw = redis.get_raw(key)
            self._sync_errors()
            if raw is not None:
                self.hits.labels(kind, self.backend).inc()
                return from_json(raw)
        self.misses.labels(kind).inc()
        payload = compute()
        if redis is not None:
            redis.set_raw(key, to_json(payload), self.ttl)
            self._sync_errors()
        return payload

    def ping(self) -> bool:
        """Returns whether the shared backend answers (always True in-process)."""
        return self.redis.ping() if self.redis is not None else True

    def _sync_errors(self) -> None:
        seen = self.redis.stats.errors if self.redis is not None else 0
        if seen > self._errors_seen:
            self.errors.inc(seen - self._errors_seen)
            self._errors_seen = seen
