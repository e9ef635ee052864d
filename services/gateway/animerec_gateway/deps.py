"""Annotated dependency aliases of the gateway's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from .config import Settings
from .orchestrator import Orchestrator
from .security import require_admin
from .upstreams import Upstream


async def get_settings(request: Request) -> Settings:
    """Returns the app's settings."""
    return request.app.state.settings


def _upstream(name: str):
    async def get(request: Request) -> Upstream:  # async: sync dependencies cost a thread hop
        return request.app.state.upstreams[name]

    get.__name__ = f"get_{name}"
    return get


async def get_orchestrator(request: Request) -> Orchestrator:
    """Returns the app's training-run orchestrator."""
    return request.app.state.orchestrator


SettingsDep = Annotated[Settings, Depends(get_settings)]
IngestionDep = Annotated[Upstream, Depends(_upstream("ingestion"))]
TrainingDep = Annotated[Upstream, Depends(_upstream("training"))]
RecommenderDep = Annotated[Upstream, Depends(_upstream("recommender"))]
ExplainerDep = Annotated[Upstream, Depends(_upstream("explainer"))]
OrchestratorDep = Annotated[Orchestrator, Depends(get_orchestrator)]
AdminDep = Depends(require_admin)
