"""Annotated dependency aliases of the recommender routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from .caching import ResultCache
from .loader import ModelHolder
from .state import ServingState


async def get_holder(request: Request) -> ModelHolder:
    return request.app.state.holder


async def get_serving_state(request: Request) -> ServingState:
    """Returns the served state, taken once per request so a concurrent swap never mixes versions."""
    return request.app.state.holder.require()


async def get_cache(request: Request) -> ResultCache:
    return request.app.state.result_cache


HolderDep = Annotated[ModelHolder, Depends(get_holder)]
StateDep = Annotated[ServingState, Depends(get_serving_state)]
CacheDep = Annotated[ResultCache, Depends(get_cache)]
