"""Annotated dependency aliases of the ingestion routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from animerec_shared.storage import Storage

from .config import Settings
from .jobs import JobRunner


def get_settings(request: Request) -> Settings:
    """Returns the settings the app was built with."""
    return request.app.state.settings


def get_storage(request: Request) -> Storage:
    """Returns the app's storage backend."""
    return request.app.state.storage


def get_jobs(request: Request) -> JobRunner:
    """Returns the app's job runner."""
    return request.app.state.jobs


SettingsDep = Annotated[Settings, Depends(get_settings)]
StorageDep = Annotated[Storage, Depends(get_storage)]
JobsDep = Annotated[JobRunner, Depends(get_jobs)]
