"""The explainer app: grounded explanations of recommendations (port 8004)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from animerec_shared.cache import open_cache
from animerec_shared.service import create_service_app

from .catalogue import CatalogueKeeper
from .config import Settings
from .explainer import Explainer, ExplainerMetrics
from .llm import LLMWriter
from .routes import explanations
from .upstream import RecommenderClient

DESCRIPTION = """Explains a recommendation with facts the recommender computed (the user's highly
rated titles closest to the anime, shared genres, similar users, score, popularity, strategy).
The text is a template built from those facts, or, when `OPENAI_API_KEY` is set, an LLM's
wording of them that is checked (no title outside the facts, not empty, not too long) and
replaced by the template with a `fallback_reason` whenever a check or the call fails."""


def _llm_writer(settings: Settings) -> tuple[LLMWriter | None, Any]:
    if not settings.llm_enabled:
        return None, None
    import openai

    client = openai.AsyncOpenAI(
        api_key=settings.openai_api_key.get_secret_value(),  # type: ignore[union-attr]
        base_url=settings.openai_base_url or None,
        timeout=settings.llm_timeout_seconds,
        max_retries=0,
    )
    writer = LLMWriter(
        client,
        model=settings.openai_model,
        timeout_s=settings.llm_timeout_seconds,
        max_chars=settings.llm_max_chars,
        max_tokens=settings.llm_max_tokens,
        temperature=settings.llm_temperature,
        max_retry_after_s=settings.llm_max_retry_after_seconds,
        concurrency=settings.llm_concurrency,
    )
    return writer, client


def create_app(settings: Settings | None = None) -> FastAPI:
    """Returns the explainer app; clients (recommender, LLM, cache) live for the app's lifespan."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        timeout = settings.recommender_timeout_seconds
        http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 2.0)),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=32),
        )
        writer, llm_client = _llm_writer(settings)
        keeper = CatalogueKeeper(
            settings.storage_url,
            settings.catalogue_refresh_seconds,
            enabled=writer is not None and settings.title_catalogue,
        )
        cache = open_cache(settings.redis_url)
        app.state.recommender = RecommenderClient(http, settings.recommender_url.rstrip("/"))
        app.state.catalogue = keeper
        app.state.explainer = Explainer(
            app.state.recommender,
            cache,
            writer=writer,
            catalogue=keeper,
            metrics=ExplainerMetrics(app.state.metrics),
            cache_ttl_s=settings.cache_ttl_seconds,
            llm_model=settings.openai_model,
        )
        keeper.refresh_if_stale()
        try:
            yield
        finally:
            await keeper.close()
            await http.aclose()
            if llm_client is not None:
                await llm_client.close()

    async def ready_check() -> tuple[bool, dict[str, Any]]:
        explainer: Explainer = app.state.explainer
        recommender, cache_ok = await asyncio.gather(
            app.state.recommender.readiness(), asyncio.to_thread(explainer.cache.ping)
        )
        return recommender == "ready", {
            "recommender": recommender,
            "llm": "configured" if explainer.writer else "off",
            "cache": {"backend": explainer.cache.backend, "ok": cache_ok, **explainer.cache.stats.as_dict()},
            "title_catalogue": app.state.catalogue.status(),
        }

    app = create_service_app(
        "explainer",
        settings,
        title="Anime explainer",
        description=DESCRIPTION,
        ready_check=ready_check,
        lifespan=lifespan,
    )
    app.include_router(explanations.router)
    return app
