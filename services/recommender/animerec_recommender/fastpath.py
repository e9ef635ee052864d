"""Answers repeated GETs of similarity lists from the in-process cache before routing (pure ASGI).

Only a query string that already produced a 200 under the served model version is stored
(see ``remember``), so skipping validation and routing cannot change an answer; the key holds
the model version, so a swap never serves an old version's list. Metrics and request ids are
kept as the shared middleware would set them.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import FastAPI, Request

from animerec_shared.service import request_id_of

ROUTES = {("anime", "similar"): ("similar_anime", "/anime/{anime_id}/similar"),
          ("users", "similar"): ("similar_users", "/users/{user_id}/similar"),
          ("users", "recommendations"): ("user_recs", "/users/{user_id}/recommendations")}


def _route(path: str) -> tuple[str, str] | None:
    if path == "/anime":
        return ("search", "/anime")
    parts = path.strip("/").split("/")
    if len(parts) != 3:
        return None
    return ROUTES.get((parts[0], parts[2]))


def raw_key(version: str, path: str, query: bytes) -> str:
    """Returns the in-process key of an exact request (model version, path, raw query string)."""
    return f"raw:{version}:{path}?{query.decode('latin-1')}"


def remember(request: Request, version: str, payload: bytes) -> None:
    """Stores a computed list payload under its exact request for the fast path."""
    request.app.state.result_cache.set_local(
        raw_key(version, request.url.path, request.scope.get("query_string", b"")), payload)


class CachedGetMiddleware:
    """Outermost ASGI layer: a GET whose exact answer is in the in-process cache is answered here."""

    def __init__(self, app: Any, service: FastAPI):
        self.app = app
        self.service = service

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            return await self.app(scope, receive, send)
        route = _route(scope["path"])
        state = self.service.state.holder.state
        cache = self.service.state.result_cache
        if route is None or state is None or cache.local is None:
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        payload = cache.get_local(route[0], raw_key(state.version, scope["path"], scope.get("query_string", b"")))
        if payload is None:
            return await self.app(scope, receive, send)
        rid = request_id_of(scope["headers"])
        took = (time.perf_counter() - start) * 1000
        body = payload[:-1] + b',"model_version":"' + state.version.encode() + b'","took_ms":' + \
            f"{took:.3f}".encode() + b"}"
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"x-request-id", rid.encode())]})
        await send({"type": "http.response.body", "body": body})
        metrics = self.service.state.metrics
        metrics.observe("GET", route[1], 200, time.perf_counter() - start)
