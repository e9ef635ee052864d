"""Annotated dependency aliases of the explainer routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from .config import Settings
from .explainer import Explainer


def get_settings(request: Request) -> Settings:
    """Returns the app's settings."""
    return request.app.state.settings


def get_explainer(request: Request) -> Explainer:
    """Returns the app's explainer (built in the lifespan)."""
    return request.app.state.explainer


SettingsDep = Annotated[Settings, Depends(get_settings)]
ExplainerDep = Annotated[Explainer, Depends(get_explainer)]
