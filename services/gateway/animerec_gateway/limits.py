"""ASGI middlewares guarding the gateway: per-client token-bucket rate limit and request body limit."""

from __future__ import annotations

import json
import math
import re
import time
import unicodedata
from collections import OrderedDict
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Probes and scrapes must never be throttled.
EXEMPT_PATHS = frozenset({"/healthz", "/readyz"})
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# Costly to serve, cheap to send: a title search whose folded query has 1-2 characters scores every one of
# the ~42k names (no trigrams; 20-65 ms of recommender event loop against ~2 ms from 3 characters on), and an
# explanation costs a facts computation per anime (a 20-id batch 38-103 ms). They also draw on a smaller budget.
SEARCH_PATH = "/api/v1/anime"
EXPLAIN_PATHS = frozenset({"/api/v1/explanations", "/api/v1/explanations/batch"})
# A MyAnimeList import parses a whole export and ranks from hundreds or thousands of anime.
IMPORT_PATH, IMPORT_COST = "/api/v1/imports/myanimelist", 10
SHORT_QUERY_CHARS = 2
_MAX_COSTLY_BODY = 64 * 1024  # a batch body past this is not parsed: it is charged the most a batch can cost
_MAX_BATCH = 20
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)


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

    def take(self, key: str, now: float | None = None, cost: float = 1.0) -> float:
        """Returns 0.0 when `cost` tokens were taken (at most the bucket size), else the seconds until they are."""
        now = time.monotonic() if now is None else now
        cost = min(max(cost, 1.0), self.capacity)
        tokens, last = self._buckets.pop(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - last) * self.rate)
        if tokens >= cost:
            self._buckets[key] = (tokens - cost, now)
            wait = 0.0
        else:
            self._buckets[key] = (tokens, now)
            wait = (cost - tokens) / self.rate
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


def fold_query(text: str) -> str:
    """Returns text folded as the recommender's title search folds it (animerec_ranking.text.normalise_title)."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NON_WORD.sub(" ", unicodedata.normalize("NFKC", stripped).casefold()).strip()


def is_short_search(scope: Scope) -> bool:
    """Returns whether a request is a title search with a q of 1-2 characters once folded."""
    if scope["method"] != "GET" or scope["path"].rstrip("/") != SEARCH_PATH:
        return False
    query = scope.get("query_string", b"").decode("latin-1")
    qs = [v for k, v in parse_qsl(query, keep_blank_values=True) if k == "q"]
    return bool(qs) and 0 < len(fold_query(qs[-1])) <= SHORT_QUERY_CHARS


def explanation_cost(path: str, body: bytes | None) -> int:
    """Returns the costly tokens of an explanation request: 1, or one per distinct anime id of a batch."""
    if not path.endswith("/batch"):
        return 1
    if body is None:
        return _MAX_BATCH
    try:
        ids = json.loads(body).get("anime_ids")
        return max(1, min(_MAX_BATCH, len({json.dumps(i) for i in ids})))
    except Exception:  # not a batch the explainer accepts: its 422 is cheap
        return 1


async def read_prefix(receive: Receive, limit: int) -> tuple[list[Message], bytes | None]:
    """Reads a request body up to `limit` bytes; returns the messages read and the body (None: longer)."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    total = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        chunk = message.get("body", b"")
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            return messages, None
        if not message.get("more_body", False):
            return messages, b"".join(chunks)


def replaying_messages(messages: list[Message], receive: Receive) -> Receive:
    """Returns a receive that hands the app the messages already read, then goes on with receive."""
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


class RateLimitMiddleware:
    """Answers 429 `rate_limited` with Retry-After once a client IP has spent its bucket.

    Requests costly to serve (short title searches, explanations: one token per anime) also draw on a second,
    smaller bucket per client IP (costly_per_minute; 0 = none), so one client cannot spend the recommender's
    event loop on them while its ordinary requests, and other clients, stay within their own budgets."""

    def __init__(
        self,
        app: ASGIApp,
        per_minute: int,
        burst: int | None = None,
        trust_forwarded_for: bool = False,
        on_limited: Any = None,
        costly_per_minute: int = 0,
        costly_burst: int | None = None,
    ):
        self.app = app
        self.buckets = TokenBuckets(per_minute, burst) if per_minute > 0 else None
        on = per_minute > 0 and costly_per_minute > 0
        self.costly = TokenBuckets(costly_per_minute, costly_burst) if on else None
        self.trust_forwarded_for = trust_forwarded_for
        self.on_limited = on_limited

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.buckets is None or scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return
        key = client_key(scope, self.trust_forwarded_for)
        wait = self.buckets.take(key)
        if wait == 0 and self.costly is not None:
            cost = 0
            if is_short_search(scope):
                cost = 1
            elif scope["method"] == "POST" and scope["path"].rstrip("/") in EXPLAIN_PATHS:
                messages, body = await read_prefix(receive, _MAX_COSTLY_BODY)
                receive = replaying_messages(messages, receive)
                cost = explanation_cost(scope["path"].rstrip("/"), body)
            elif scope["method"] == "POST" and scope["path"].rstrip("/") == IMPORT_PATH:
                cost = IMPORT_COST
            if cost:
                wait = self.costly.take(key, cost=cost)
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
