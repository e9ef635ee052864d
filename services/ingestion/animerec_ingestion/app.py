"""The ingestion service app (port 8001): ingestion jobs, processing runs, current datasets."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from animerec_shared.service import create_service_app
from animerec_shared.storage import open_storage

from . import __version__
from .config import Settings
from .jobs import JobRunner
from .routes import datasets, ingestions, processing_runs
from .upload_limit import UploadLimitMiddleware


def create_app(settings: Settings | None = None) -> FastAPI:
    """Returns the ingestion FastAPI app built with the given (or environment) settings."""
    settings = settings or Settings()
    storage = open_storage(settings.storage_url)
    jobs = JobRunner()

    async def ready() -> tuple[bool, dict[str, Any]]:
        try:
            current = await run_in_threadpool(storage.get_current, "raw")
        except Exception as exc:  # storage unreachable: not ready, say why
            return False, {"storage": storage.url, "error": str(exc)[:200]}
        return True, {"storage": storage.url, "raw_dataset": current}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await run_in_threadpool(jobs.shutdown)

    app = create_service_app(
        "ingestion",
        settings,
        title="animerec ingestion",
        description="Validates and ingests the Kaggle MyAnimeList files into raw/, processes them into processed/.",
        version=__version__,
        ready_check=ready,
        lifespan=lifespan,
    )
    app.state.storage = storage
    app.state.jobs = jobs
    app.include_router(ingestions.router)
    app.include_router(processing_runs.router)
    app.include_router(datasets.router)
    app.add_middleware(UploadLimitMiddleware, max_bytes=settings.upload_max_bytes)
    return app
