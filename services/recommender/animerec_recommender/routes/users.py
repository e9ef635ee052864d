"""Users: similar users, preferences and personal recommendations."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from ..offload import offload

from ..deps import CacheDep, StateDep
from ..engine import continue_for_user, recommend_for_user
from ..fastpath import remember
from ..filters import Filters
from ..output import dumps, finish
from ..schemas import AnimeList, ContinueList, Preferences, Strategy, UserList
from ..similarity import preferences, similar_users
from ..state import ServingState

router = APIRouter(tags=["users"])
UserId = Annotated[int, Path(ge=0, le=2**62)]


def _cached(cache: CacheDep, kind: str, key: str, compute) -> bytes:  # noqa: ANN001
    payload = cache.get(kind, key)
    if payload is None:
        payload = dumps(compute())
        cache.set(key, payload)
    return payload


@router.get("/users/{user_id}/similar", response_model=UserList, summary="Users with the closest tastes")
async def get_similar_users(request: Request, user_id: UserId, state: StateDep, cache: CacheDep,
                            n: Annotated[int, Query(ge=1, le=100)] = 10) -> Response:
    start = time.perf_counter()
    key = cache.key("similar_users", state.version, user_id, n)
    payload = cache.get_local("similar_users", key)
    if payload is None:
        payload = await offload(_cached, cache, "similar_users", key,
                                          lambda: {"items": similar_users(state, user_id, n)})
    remember(request, state.version, payload)
    return finish(payload, state.version, start)


@router.get("/users/{user_id}/preferences", response_model=Preferences,
            summary="Favourite genres (from top-quartile ratings) and favourite anime")
async def get_preferences(user_id: UserId, state: StateDep,
                          n: Annotated[int, Query(ge=1, le=100)] = 10) -> Response:
    start = time.perf_counter()
    payload = await offload(lambda: dumps(preferences(state, user_id, n)))
    return finish(payload, state.version, start)


def _recommend(state: ServingState, user_id: int, strategy: str, n: int, f: Filters) -> dict:
    return {**recommend_for_user(state, user_id, strategy, n, f), "strategy": strategy}


@router.get("/users/{user_id}/recommendations", response_model=AnimeList, summary="Recommendations for a user")
async def get_recommendations(request: Request, user_id: UserId, state: StateDep, cache: CacheDep,
                              filters: Annotated[Filters, Query()],
                              n: Annotated[int, Query(ge=1, le=100)] = 10,
                              strategy: Strategy = "hybrid") -> Response:
    start = time.perf_counter()
    key = cache.key("user_recs", state.version, user_id, strategy, n, filters.key())
    payload = cache.get_local("user_recs", key)
    if payload is None:
        payload = await offload(_cached, cache, "user_recs", key,
                                          lambda: _recommend(state, user_id, strategy, n, filters))
    remember(request, state.version, payload)
    return finish(payload, state.version, start)


@router.get("/users/{user_id}/continue", response_model=ContinueList,
            summary="Continue watching: the next unrated entries of the franchises a user rated")
async def get_continue(user_id: UserId, state: StateDep, cache: CacheDep, filters: Annotated[Filters, Query()],
                       n: Annotated[int, Query(ge=1, le=100)] = 10) -> Response:
    start = time.perf_counter()
    key = cache.key("user_continue", state.version, user_id, n, filters.key())
    payload = cache.get_local("user_continue", key)
    if payload is None:
        payload = await offload(_cached, cache, "user_continue", key,
                                lambda: {"items": continue_for_user(state, user_id, n, filters)})
    return finish(payload, state.version, start)
