"""The gateway app: public /api/v1, admin API, web page, offline docs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles
from prometheus_client import Histogram
from starlette.middleware import Middleware

from animerec_shared.service import create_service_app

from .config import Settings
from .docs import install_offline_docs
from .limits import RateLimitMiddleware
from .mal_import import ImportBodyLimit
from .orchestrator import ADMIN_POLL_INTERVAL_SECONDS, Orchestrator
from .response_cache import ResponseCache, ResponseCacheMiddleware
from .routes import admin, anime, explanations, imports, models, recommendations, users, web
from .security import resolve_admin_token
from .upstreams import Upstreams

DESCRIPTION = """The public door of the anime recommendation platform.

* **anime**: title search, lookup, similar anime (collaborative or content).
* **users**: recommendations for a known user, continue watching, genre preferences (`Cache-Control: private`;
  no other users' ids or ratings are public).
* **recommendations**: cold start from a few liked anime, for people without an account.
* **explanations**: why an anime is recommended, built from computed facts.
* **imports**: bring your own MyAnimeList list (its export file) for recommendations, continue list and genres.
* **models**: the model versions and which one is promoted (read-only).
* **admin** (bearer `GATEWAY_ADMIN_TOKEN`): trigger ingestion -> processing -> training -> promotion -> reload,
  rollback.

Errors always have the shape `{"error": {"code": "...", "message": "...", "details"?: ...}}`; a route whose
service is down answers 503 `upstream_unavailable` while the other routes keep working.
"""


def create_app(
    settings: Settings | None = None, *, admin_poll_interval_seconds: float = ADMIN_POLL_INTERVAL_SECONDS
) -> FastAPI:
    """Returns the gateway app built from `settings` (default: read from the environment).

    admin_poll_interval_seconds: how often an admin training run reads its running step's status
    (tests poll faster)."""
    settings = settings or Settings()
    state: dict[str, Any] = {}
    response_cache = ResponseCache(settings.response_cache_ttl_seconds, settings.response_cache_size)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        upstreams = Upstreams(settings, *app.state.upstream_metrics)
        orchestrator = Orchestrator(
            upstreams,
            settings,
            poll_interval_seconds=admin_poll_interval_seconds,
            on_model_changed=response_cache.clear,
        )
        app.state.upstreams = state["upstreams"] = upstreams
        app.state.orchestrator = orchestrator
        try:
            yield
        finally:
            await orchestrator.aclose()
            await upstreams.aclose()

    async def ready_check() -> tuple[bool, dict[str, Any]]:
        upstreams: Upstreams | None = state.get("upstreams")
        if upstreams is None:
            return False, {"reason": "starting"}
        names = settings.readyz_upstream_list
        probes = await asyncio.gather(
            *(upstreams.probe(n, "/readyz" if n == "recommender" else "/healthz") for n in names)
        )
        status = {n: p[0] for n, p in zip(names, probes, strict=True)}
        details: dict[str, Any] = {"upstreams": status}
        if "recommender" in status:
            details["model_version"] = dict(zip(names, probes, strict=True))["recommender"][1].get("model_version")
        return all(s == "ok" for s in status.values()), details

    app = create_service_app(
        "gateway", settings, title="AnimeRec API", description=DESCRIPTION, ready_check=ready_check, lifespan=lifespan
    )
    app.state.admin_token = resolve_admin_token(settings)
    app.state.response_cache = response_cache
    metrics = app.state.metrics
    app.state.upstream_metrics = (
        metrics.counter("gateway_upstream_requests_total", "Requests to upstream services", ("upstream", "outcome")),
        Histogram(
            "gateway_upstream_duration_seconds",
            "Upstream request latency",
            ["upstream"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=metrics.registry,
        ),
    )
    limited = metrics.counter("gateway_rate_limited_total", "Requests refused by the rate limit")

    # Inside the shared request-context middleware, so 429/413 carry a request id and are counted.
    app.user_middleware.append(
        Middleware(
            RateLimitMiddleware,
            per_minute=settings.rate_limit_per_minute,
            burst=settings.rate_limit_burst,
            trust_forwarded_for=settings.trust_forwarded_for,
            on_limited=limited.inc,
            costly_per_minute=settings.costly_per_minute,
            costly_burst=settings.costly_burst,
        )
    )
    app.user_middleware.append(  # the import's upload has its own, larger cap
        Middleware(
            ImportBodyLimit, max_bytes=settings.max_body_bytes, import_max_bytes=settings.import_max_upload_bytes
        )
    )
    if response_cache.enabled:  # innermost: a cached answer is throttled, counted and given its request id
        outcomes = metrics.counter("gateway_response_cache_total", "Cacheable GETs by outcome", ("outcome",))
        counted = {o: outcomes.labels(o).inc for o in ("hit", "miss")}
        app.user_middleware.append(
            Middleware(ResponseCacheMiddleware, cache=response_cache, on_outcome=lambda outcome: counted[outcome]())
        )
    if settings.cors_origin_list:  # closed unless origins are listed
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_credentials=False,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
            max_age=600,
        )
    install_offline_docs(app)
    app.mount("/static", StaticFiles(directory=str(web.STATIC_DIR)), name="static")
    for module in (anime, users, recommendations, explanations, models, admin, web, imports):
        app.include_router(module.router)
    return app
