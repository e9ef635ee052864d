"""ASGI middlewares guarding the gateway: per-client token-bucket rate limit and request body limit."""

from __future__ import annotations

import json
import math
import time
from collections import OrderedDict
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Probes and scrapes must never be throttled.
EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


async def send_error(send: Send, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
    """Sends a JSON error in the platform's schema straight through ASGI."""
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def replaying(body: bytes, receive: Receive) -> Receive:
    """Returns a receive that hands the app a body already read whole, then goes on with receive."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class TokenBuckets:
    """Token buckets keyed by client; least recently seen keys are dropped past max_keys."""

    def __init__(self, per_minute: int, burst: int | None = None, max_keys: int = 100_000):
        self.rate = per_minute / 60.0
        self.capacity = float(burst or per_minute)
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str, now: float | None = None) -> float:
        """Returns 0.0 when a token was taken, else the seconds until one is available."""
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.pop(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            wait = 0.0
        else:
            self._buckets[key] = (tokens, now)
            wait = (1.0 - tokens) / self.rate
        if len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait


def client_key(scope: Scope, trust_forwarded_for: bool) -> str:
    """Returns the client IP: the peer address, or the last X-Forwarded-For hop when a proxy is trusted."""
    if trust_forwarded_for:
        for name, value in scope.get("headers", ()):
            if name == b"x-forwarded-for":
                hops = [h.strip() for h in value.decode("latin-1").split(",") if h.strip()]
                if hops:
                    return hops[-1]
    client = scope.get("client")
    return client[0] if client else "unknown"


class RateLimitMiddleware:
    """Answers 429 `rate_limited` with Retry-After once a client IP has spent its bucket."""

    def __init__(
        self,
        app: ASGIApp,
        per_minute: int,
        burst: int | None = None,
        trust_forwarded_for: bool = False,
        on_limited: Any = None,
    ):
        self.app = app
        self.buckets = TokenBuckets(per_minute, burst) if per_minute > 0 else None
        self.trust_forwarded_for = trust_forwarded_for
        self.on_limited = on_limited

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.buckets is None or scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        wait = self.buckets.take(client_key(scope, self.trust_forwarded_for))
        if wait > 0:
            if self.on_limited is not None:
                self.on_limited()
            await send_error(
                send,
                429,
                "rate_limited",
                "too many requests from this client; retry later",
                {"Retry-After": str(max(1, math.ceil(wait)))},
            )
            return
        await self.app(scope, receive, send)


class BodyLimitMiddleware:
    """Answers 413 `payload_too_large` for a body past max_bytes, declared or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", ())).get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                await send_error(send, 400, "bad_request", "Content-Length is not a number")
                return
            if size > self.max_bytes:
                await self._too_large(send)
                return
        # Bodies here are small JSON: read them whole (bounded) and replay them to the app.
        chunks: list[bytes] = []
        total = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > self.max_bytes:
                await self._too_large(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, replaying(b"".join(chunks), receive), send)

    async def _too_large(self, send: Send) -> None:
        await send_error(send, 413, "payload_too_large", f"request body is larger than {self.max_bytes} bytes")
