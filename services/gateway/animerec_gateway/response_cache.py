"""A short-lived cache of the gateway's public read answers: one plain ASGI middleware and its store.

It sits inside the request-context (request id, metrics) and rate-limit middlewares, so a cached answer is
throttled, counted and given the current request's `X-Request-ID` like any other. Only GETs of the public
read routes under /api/v1 (not /api/v1/admin, not /api/v1/models) are cached, and of their answers only
200s with a JSON content type; the key is the path and the raw query string. A cached answer replays the
status, body and headers of the first one and says `X-Cache: hit` (a cacheable request answered by the
upstream says `X-Cache: miss`). The orchestrator clears the store once a promotion, rollback or reload has
swapped the recommender's model; other gateway replicas serve their copies until the TTL ends them.

Answers marked `Cache-Control: no-store` are never kept. `Cache-Control: private` ones (the per-user routes
under /api/v1/users) are: this store is the gateway's own memory, not a shared HTTP cache, and without user
auth the key (path + query) is all that tells users apart, exactly as for the upstream; a replay sends the
same `Cache-Control: private` to the client. Per-user recommendations are 30% of the load mix, so they are
worth keeping. Once per-user answers depend on who asks (user auth), the key must carry the identity.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cachetools import TTLCache
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CACHED_PREFIX = "/api/v1/"
UNCACHED_PREFIXES = ("/api/v1/admin", "/api/v1/models")
MAX_ENTRY_BYTES = 256 * 1024  # larger answers are passed on, not kept
_HIT = (b"x-cache", b"hit")
_MISS = (b"x-cache", b"miss")


def cacheable_path(path: str) -> bool:
    """Returns whether GETs of this path may be cached (public read routes only)."""
    return path.startswith(CACHED_PREFIX) and not path.startswith(UNCACHED_PREFIXES)


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    """An answer as the app sent it (its X-Request-ID left out), and the route that made it (for metrics)."""

    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes
    route: Any


class ResponseCache:
    """The store: a cachetools.TTLCache of at most `max_entries` answers, each kept `ttl_seconds`.

    No lock: the middleware and the orchestrator use it from the one event loop of the process, and
    every operation runs without an await in the middle. `generation` moves on each clear, so an answer
    that was being made while the model was swapped is not stored afterwards."""

    def __init__(self, ttl_seconds: float, max_entries: int):
        self.ttl_seconds = ttl_seconds
        self.generation = 0
        self._entries: TTLCache[str, CachedAnswer] | None = (
            TTLCache(maxsize=max_entries, ttl=ttl_seconds) if ttl_seconds > 0 else None
        )

    @property
    def enabled(self) -> bool:
        """Returns whether answers are kept at all (TTL 0: off)."""
        return self._entries is not None

    def get(self, key: str) -> CachedAnswer | None:
        """Returns the live answer stored under key, if any."""
        return self._entries.get(key) if self._entries is not None else None

    def put(self, key: str, answer: CachedAnswer, generation: int) -> None:
        """Stores an answer unless the cache was cleared since `generation` was read."""
        if self._entries is not None and generation == self.generation:
            self._entries[key] = answer

    def clear(self) -> None:
        """Drops every answer (the recommender now serves another model)."""
        self.generation += 1
        if self._entries is not None:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries) if self._entries is not None else 0


def _storable(status: int, headers: list[tuple[bytes, bytes]]) -> bool:
    if status != 200:
        return False
    json_type = False
    for name, value in headers:
        lname = name.lower()
        if lname == b"content-type":
            json_type = b"json" in value.lower()
        elif lname == b"cache-control" and b"no-store" in value.lower():
            return False  # `private` is kept: this is the gateway's own store (the replay says private too)
    return json_type


class ResponseCacheMiddleware:
    """Answers repeated GETs of the public read routes from a ResponseCache; `on_outcome("hit" | "miss")`
    counts each cacheable request."""

    def __init__(self, app: ASGIApp, cache: ResponseCache, on_outcome: Callable[[str], None] | None = None):
        self.app = app
        self.cache = cache
        self.on_outcome = on_outcome

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not cacheable_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        key = f"{scope['path']}?{scope.get('query_string', b'').decode('latin-1')}"
        hit = self.cache.get(key)
        if hit is not None:
            if self.on_outcome is not None:
                self.on_outcome("hit")
            if hit.route is not None:
                scope["route"] = hit.route  # the request metrics label it with its route, as a miss
            await send({"type": "http.response.start", "status": hit.status, "headers": [*hit.headers, _HIT]})
            await send({"type": "http.response.body", "body": hit.body})
            return
        if self.on_outcome is not None:
            self.on_outcome("miss")
        generation = self.cache.generation
        status = 0
        headers: tuple[tuple[bytes, bytes], ...] = ()
        chunks: list[bytes] | None = None  # None: this answer is not kept
        size = 0

        async def capture(message: Message) -> None:
            nonlocal status, headers, chunks, size
            if message["type"] == "http.response.start":
                status = message["status"]
                raw = list(message.get("headers", ()))
                if _storable(status, raw):
                    headers = tuple(h for h in raw if h[0].lower() != b"x-request-id")
                    chunks = []
                message["headers"] = [*raw, _MISS]
            elif message["type"] == "http.response.body" and chunks is not None:
                body = message.get("body", b"")
                size += len(body)
                if size > MAX_ENTRY_BYTES:
                    chunks = None
                else:
                    chunks.append(body)
                    if not message.get("more_body", False):
                        self.cache.put(
                            key, CachedAnswer(status, headers, b"".join(chunks), scope.get("route")), generation
                        )
                        chunks = None
            await send(message)

        await self.app(scope, receive, capture)
