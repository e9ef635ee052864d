"""Edge micro-cache: the gateway answers a repeated public GET from a copy a few seconds old (pure ASGI).

Only idempotent, public, read-only answers are kept: a 200 JSON answer of a GET under
``/api/v1/anime`` or ``/api/v1/users/`` (recommender lists and lookups), keyed by the exact path
and raw query string, for ``GATEWAY_MICRO_CACHE_TTL_S`` seconds (0 turns it off). Requests
with an ``Origin`` (CORS) or ``Authorization`` header, or asking ``Cache-Control: no-cache``,
always go upstream. A copy may therefore be up to the TTL older than a model promotion; any
admin POST through this gateway empties the cache at once. Hits still get their own request
id, the rate limit and the request metrics; they carry ``X-Gateway-Cache: hit``.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from animerec_shared.service import request_id_of

from .limits import TokenBuckets, client_key, send_error

CACHED_PREFIXES = ("/api/v1/anime", "/api/v1/users/")
_BYPASS_HEADERS = (b"origin", b"authorization")


class MicroCache:
    """Bounded map of exact GET -> (expiry, route template, body), least recently stored dropped first."""

    def __init__(self, ttl: float, max_entries: int):
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[str, tuple[float, str, bytes]] = OrderedDict()

    def get(self, key: str, now: float) -> tuple[str, bytes] | None:
        """Returns (route template, body) of a fresh copy, or None."""
        hit = self._entries.get(key)
        if hit is None:
            return None
        if hit[0] <= now:
            self._entries.pop(key, None)
            return None
        return hit[1], hit[2]

    def put(self, key: str, route: str, body: bytes, now: float) -> None:
        """Stores a copy for ttl seconds."""
        self._entries[key] = (now + self.ttl, route, body)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        """Drops every copy."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


class MicroCacheMiddleware:
    """Outermost layer: answers fresh copies, stores new 200 JSON answers of cacheable GETs."""

    def __init__(self, app: ASGIApp, cache: MicroCache, metrics: Any, buckets: TokenBuckets | None = None,
                 trust_forwarded_for: bool = False, on_limited: Any = None):
        self.app = app
        self.cache = cache
        self.metrics = metrics
        self.buckets = buckets
        self.trust_forwarded_for = trust_forwarded_for
        self.on_limited = on_limited

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if scope["method"] != "GET":
            if path.startswith("/api/v1/admin"):
                self.cache.clear()  # a promotion, reload or rollback may change every answer
            await self.app(scope, receive, send)
            return
        headers = scope["headers"]
        if not path.startswith(CACHED_PREFIXES) or any(
                k in _BYPASS_HEADERS or (k == b"cache-control" and b"no-cache" in v) for k, v in headers):
            await self.app(scope, receive, send)
            return
        key = path + "?" + scope.get("query_string", b"").decode("latin-1")
        start = time.perf_counter()
        hit = self.cache.get(key, time.monotonic())
        if hit is None:
            await self.app(scope, receive, self._storing(scope, key, send))
            return
        if self.buckets is not None:  # the rate limit counts hits too
            wait = self.buckets.take(client_key(scope, self.trust_forwarded_for))
            if wait > 0:
                if self.on_limited is not None:
                    self.on_limited()
                await send_error(send, 429, "rate_limited", "too many requests from this client; retry later",
                                 {"Retry-After": str(max(1, math.ceil(wait))), "X-Request-ID": request_id_of(headers)})
                self.metrics.observe("GET", hit[0], 429, time.perf_counter() - start)
                return
        route, body = hit
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()),
                                (b"x-request-id", request_id_of(headers).encode()),
                                (b"x-gateway-cache", b"hit")]})
        await send({"type": "http.response.body", "body": body})
        self.metrics.observe("GET", route, 200, time.perf_counter() - start)

    def _storing(self, scope: Scope, key: str, send: Send) -> Send:
        status = 0
        ok = False
        chunks: list[bytes] = []

        async def wrapped(message: Message) -> None:
            nonlocal status, ok
            if message["type"] == "http.response.start":
                status = message["status"]
                hdrs = dict(message.get("headers", ()))
                ok = (status == 200 and hdrs.get(b"content-type", b"").startswith(b"application/json")
                      and b"no-store" not in hdrs.get(b"cache-control", b""))
            elif message["type"] == "http.response.body" and ok:
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    route = getattr(scope.get("route"), "path", None)
                    if route is not None:
                        self.cache.put(key, route, b"".join(chunks), time.monotonic())
            await send(message)

        return wrapped
