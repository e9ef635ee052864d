"""The training service's FastAPI app (port 8002). TensorFlow never loads in this process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from animerec_shared.service import create_service_app
from animerec_shared.storage import open_storage

from .config import Settings
from .jobs import RunManager
from .routes import models, training_runs
from .versions import read_current


def create_app(settings: Settings | None = None) -> FastAPI:
    """Returns the training app: /training-runs, /models, plus the shared health and metrics routes."""
    settings = settings or Settings()
    storage = open_storage(settings.storage_url)
    runs = RunManager(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        runs.shutdown()

    async def ready() -> tuple[bool, dict[str, Any]]:
        try:
            current, current_error = await run_in_threadpool(read_current, storage)
        except Exception as exc:  # storage unreachable: not ready
            return False, {"storage": f"error: {type(exc).__name__}"}
        # a corrupt models/CURRENT keeps the service ready: promotion is what repairs it
        extra = {"model_version_error": current_error} if current_error else {}
        return True, {"storage": "ok", "model_version": current, **extra, "training_run": runs.active_run()}

    app = create_service_app(
        "training",
        settings,
        title="animerec training",
        description="Training runs (TensorFlow, Comet ML), model versions and promotion.",
        ready_check=ready,
        lifespan=lifespan,
    )
    app.state.storage = storage
    app.state.runs = runs
    app.include_router(training_runs.router)
    app.include_router(models.router)
    return app
