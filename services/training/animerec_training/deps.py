"""Annotated dependency aliases of the training service."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from animerec_shared.storage import Storage

from .config import Settings
from .jobs import RunManager


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_storage(request: Request) -> Storage:
    return request.app.state.storage


def get_runs(request: Request) -> RunManager:
    return request.app.state.runs


SettingsDep = Annotated[Settings, Depends(get_settings)]
StorageDep = Annotated[Storage, Depends(get_storage)]
RunsDep = Annotated[RunManager, Depends(get_runs)]
