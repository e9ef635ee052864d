"""The recommender app factory: model holder, caches, routers, polling of models/CURRENT."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from threadpoolctl import threadpool_limits

from animerec_shared.service import create_service_app

from . import offload
from .caching import ResultCache
from .config import Settings
from .loader import ModelHolder
from .routes import admin, anime, explanations, imports, recommendations, users

log = logging.getLogger("animerec.recommender")

# Each request scores on one core: with BLAS threads per request, 32 concurrent requests fight
# over 2 cores (measured 9 req/s with default OpenBLAS threads vs ~1,000 req/s with one).
threadpool_limits(limits=1, user_api="blas")


def create_app(settings: Settings | None = None) -> FastAPI:
    """Returns the recommender FastAPI app (the model loads in the background after start-up)."""
    settings = settings or Settings()
    holder = ModelHolder(settings)
    offload.configure(settings.worker_threads)

    async def initial_load() -> None:
        try:
            await run_in_threadpool(holder.reload)
        except Exception as exc:
            holder.last_error = str(exc)
            log.warning("no model loaded at start-up: %s", exc)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        tasks: list[asyncio.Task[Any]] = []
        if settings.load_on_start:
            tasks.append(asyncio.create_task(initial_load()))
        if settings.poll_interval_seconds > 0:
            tasks.append(asyncio.create_task(holder.poll_forever(settings.poll_interval_seconds)))
        try:
            yield
        finally:
            for t in tasks:
                t.cancel()

    async def ready() -> tuple[bool, dict[str, Any]]:
        state = holder.state
        cache_ok = await run_in_threadpool(app.state.result_cache.ping)
        return state is not None, {
            "model_version": state.version if state else None,
            "cache": app.state.result_cache.backend,
            "cache_ok": cache_ok,
            "last_error": holder.last_error,
        }

    app = create_service_app(
        "recommender",
        settings,
        title="animerec recommender",
        description="Every recommendation function as a JSON API (numpy, no TensorFlow)",
        ready_check=ready,
        lifespan=lifespan,
    )
    app.state.holder = holder
    app.state.result_cache = ResultCache(settings, app.state.metrics)
    for module in (anime, users, recommendations, explanations, admin, imports):
        app.include_router(module.router)
    return app
